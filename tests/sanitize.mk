# Sanitizer, valgrind, fuzzing and soak variants of the test suite.
#
#   make asan      clang ASan+UBSan build of everything, every Criterion suite,
#                  the terminal chaos, the golden dumps, and heapviz --dump on
#                  every policy, in compare mode and in guard mode
#   make ubsan     gcc UBSan at -O2 -DNDEBUG: the misuse paths without asserts
#   make tsan      clang TSan build of fuzz/stress_threads.c (4 threads on one
#                  heap, every policy, guard mode, the facade, Mem_Init raced);
#                  Criterion itself cannot start under TSan (its issue 274), so
#                  tests/test_threads.c runs in the other builds only
#   make valgrind  memcheck over every suite, every test process, zero errors
#                  (VALGRIND_EXCLUDE="test_x ..." leaves suites out)
#   make fuzz      libFuzzer targets, FUZZ_SECONDS each (see fuzz/module.mk)
#   make soak      600 s per fuzzer (SOAK_FUZZ_SECONDS), make asan, guard mode
#                  for 1,000,000 operations per policy, and the full terminal
#                  chaos (CHAOS=full: 10,000 keys and 50 resizes per run)
#
# Each variant re-invokes make with its own B, OUT, CC and CFLAGS, so the
# default build is never touched.  The sanitizers' options are exported to
# the whole run; Criterion's test processes inherit them.

SAN_CC ?= clang
SAN_COMMON := -g -fno-omit-frame-pointer -fno-sanitize-recover=all

ASAN_CFLAGS  := -O1 $(SAN_COMMON) -fsanitize=address,undefined
ASAN_LDFLAGS := -fsanitize=address,undefined
UBSAN_CFLAGS := -O2 -DNDEBUG $(SAN_COMMON) -fsanitize=undefined,float-divide-by-zero
TSAN_CFLAGS  := -O1 $(SAN_COMMON) -fsanitize=thread

# Halt at the first report; a report is a failure.
SAN_ENV := ASAN_OPTIONS=halt_on_error=1:detect_leaks=1:strict_string_checks=1:check_initialization_order=1 \
           UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
           TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 \
           LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp

# What the ASan and UBSan variants run (substrings of suite names, as
# TEST_FILTER): every Criterion suite, the terminal chaos and the golden
# dumps (so a clang build must draw what the gcc build draws).  The other
# e2e suites test the default build itself (installing it, its tty crash
# handler, its own ASan build) and stay with `make test`.
ASAN_SUITES ?= test_ e2e_chaos e2e_heapviz_dump
UBSAN_SUITES ?= test_

.PHONY: asan ubsan tsan valgrind soak

asan:
	$(SAN_ENV) $(MAKE) B=build/asan OUT=build/asan CC=$(SAN_CC) CFLAGS='$(ASAN_CFLAGS)' \
	    EXTRA_LDFLAGS='$(ASAN_LDFLAGS)' TEST_FILTER='$(ASAN_SUITES)' test
	$(SAN_ENV) tests/sanitize.sh heapviz build/asan

ubsan:
	$(SAN_ENV) $(MAKE) B=build/ubsan OUT=build/ubsan CC=gcc CFLAGS='$(UBSAN_CFLAGS)' \
	    EXTRA_LDFLAGS='-fsanitize=undefined' TEST_FILTER='$(UBSAN_SUITES)' test
	$(SAN_ENV) tests/sanitize.sh heapviz build/ubsan

tsan:
	$(MAKE) B=build/tsan OUT=build/tsan CC=$(SAN_CC) CFLAGS='$(TSAN_CFLAGS)' \
	    EXTRA_LDFLAGS='-fsanitize=thread' build/tsan/fuzz/stress_threads
	$(SAN_ENV) build/tsan/fuzz/stress_threads

valgrind:
	$(MAKE) B=build/valgrind OUT=build/valgrind CFLAGS='-O1 -g' test-bins
	tests/sanitize.sh valgrind build/valgrind

soak:
	$(MAKE) fuzz FUZZ_SECONDS=$(or $(SOAK_FUZZ_SECONDS),600)
	$(MAKE) asan
	$(MAKE) test-bins
	GUARD_OPS=1000000 build/tests/test_guard --filter 'guard/long_random*'
	CHAOS=full tests/e2e_chaos.sh

