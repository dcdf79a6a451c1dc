# libmem + heapviz.  `make` builds everything; `make test` runs the suite and
# ends with one summary line; `make run` opens heapviz on its built-in demo.
#
# Each directory adds its own rules in <dir>/*.mk (module.mk and others).  Objects go under
# $(B); products under $(OUT) (the tree itself by default).  Sanitizer and
# other variants re-invoke make with their own B, OUT and flags.

CC      ?= cc
CFLAGS  ?= -O2 -g
PREFIX  ?= /usr/local
DESTDIR ?=
B       ?= build
OUT     ?= .

WARN := -std=c11 -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wsign-conversion \
        -Wstrict-prototypes -Wmissing-prototypes -Wformat=2 -Wundef -Wwrite-strings \
        -Wpointer-arith -Wcast-align -Wvla
ifeq ($(WERROR),1)
WARN += -Werror
endif

NCURSES_CFLAGS := $(shell pkg-config --cflags ncursesw 2>/dev/null)
NCURSES_LIBS   := $(shell pkg-config --libs ncursesw 2>/dev/null || echo -lncursesw)
CRITERION_LIBS := $(shell pkg-config --libs criterion 2>/dev/null || echo -lcriterion)

# LOCAL_CFLAGS is for target-specific additions in modules; EXTRA_CFLAGS for
# the command line (variants).
ALL_CFLAGS = $(WARN) -D_GNU_SOURCE -Ilib -Idemo -Iviz -MMD -MP $(CFLAGS) $(LOCAL_CFLAGS) $(EXTRA_CFLAGS)
LDLIBS_ALL = $(EXTRA_LDFLAGS)

.DEFAULT_GOAL := all
.PHONY: all clean test check run install uninstall deps deps-test test-bins test-run
.DELETE_ON_ERROR:
.SECONDARY:

# Filled in by the modules.
PRODUCTS :=
TEST_BINS :=

# Modules link objects that later modules define ($$(LIB_A), $$(DEMO_OBJ)):
# their prerequisites are expanded a second time, once everything is read.
.SECONDEXPANSION:

include $(sort $(wildcard */*.mk))

all: $(PRODUCTS)

check: test

# Missing Debian packages are installed (or named) before building.
deps:
	@.ci/deps.sh build

deps-test:
	@.ci/deps.sh test

$(B)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

clean:
	rm -rf build $(CLEAN_FILES)

-include $(shell find $(B) -name '*.d' 2>/dev/null)
