# Tests.  Every tests/test_*.c is one Criterion binary (each test runs in its
# own process); every tests/e2e_*.sh is a shell suite that prints TAP lines.
# tests/run.sh runs them all and ends with "N passed, N failed".
#
# A binary links libmem statically, plus the objects listed in
# TEST_DEPS_<name> (demo/viz modules), plus TEST_LDFLAGS_<name>.

TEST_SRC  := $(sort $(wildcard tests/test_*.c))
TEST_BINS := $(TEST_SRC:tests/%.c=$(B)/tests/%)
TEST_LIB_OBJ := $(B)/tests/testlib.o

# Criterion's assertion macros take an optional message through an empty
# variadic argument, which -Wpedantic flags in C11.
$(B)/tests/%.o: LOCAL_CFLAGS += -Wno-pedantic

# mmap is wrapped at link time so tests can count the calls the library makes.
TEST_LDFLAGS := -Wl,--wrap=mmap


# test_debug links a library built with MEM_DEBUG=2 (checks at every
# operation's entry and exit, assertions on whatever NDEBUG says).
LIB_DEBUG_OBJ := $(LIB_SRC:%.c=$(B)/debug/%.o)
$(B)/debug/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -DMEM_DEBUG=2 -UNDEBUG -c $< -o $@
TEST_DEPS_test_debug := $(LIB_DEBUG_OBJ)

# tests/test_attack.c drives the damage harness (fuzz/harness_damage.c).
TEST_DEPS_test_attack = $(B)/fuzz/harness_damage.o $(B)/fuzz/harness_common.o
$(B)/tests/test_attack.o: LOCAL_CFLAGS += -Ifuzz

# tests/test_badinput.c reads traces through demo/ (the C rows of the table).
TEST_DEPS_test_badinput = $(DEMO_OBJ)

$(B)/tests/%: $(B)/tests/%.o $(TEST_LIB_OBJ) $(LIB_A) $$(TEST_DEPS_$$*)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(EXTRA_CFLAGS) -o $@ $< $(TEST_LIB_OBJ) $(TEST_DEPS_$*) $(LIB_A) \
	      $(TEST_LDFLAGS) $(TEST_LDFLAGS_$*) $(CRITERION_LIBS) -lpthread -lm $(LDLIBS_ALL)

# `all` (not $(PRODUCTS), which later modules still extend) builds every product.
test-bins: all $(TEST_BINS)

# TEST_FILTER=pattern runs only the suites whose file names match.
test: deps-test
	@$(MAKE) --no-print-directory test-bins
	@$(MAKE) --no-print-directory test-run

test-run:
	@B=$(B) OUT=$(OUT) tests/run.sh $(TEST_FILTER)
