# demo: workloads, traces and the player (demo/workload.h).  Other modules
# link $(DEMO_OBJ); the include path lets them write #include "workload.h".
# Only mem.h is used from lib/.

DEMO_SRC := demo/workload.c demo/trace.c demo/player.c demo/script.c
DEMO_OBJ := $(DEMO_SRC:%.c=$(B)/%.o)

.PHONY: demo
demo: $(DEMO_OBJ)

TEST_DEPS_test_workload := $(DEMO_OBJ)
TEST_DEPS_test_trace := $(DEMO_OBJ)
TEST_DEPS_test_script := $(DEMO_OBJ)
