# fuzz: libFuzzer targets (clang).  `make fuzz` builds them with
# -fsanitize=fuzzer,address,undefined in build/fuzz and runs each for
# FUZZ_SECONDS (default 60) from its committed seed corpus fuzz/corpus/<t>/;
# new inputs and crashes stay under build/fuzz, never in the tree.
#
# The harnesses (fuzz/harness_*.c) are plain C, compiled in every build:
# tests/test_fuzz_regress.c replays the corpora and every saved crash
# (fuzz/regress/<t>/) through them.  Only the entry points fuzz/fuzz_<t>.c
# need the fuzzer runtime; nothing here is part of `make all`.

FUZZ_TARGETS := ops trace options damage script
FUZZ_HARNESS_OBJ := $(FUZZ_TARGETS:%=$(B)/fuzz/harness_%.o) $(B)/fuzz/harness_common.o \
                    $(B)/fuzz/harness_play.o
# Recursive: viz/ and lib/ are included after this file.
FUZZ_DEPS = $(FUZZ_HARNESS_OBJ) $(VIZ_CORE_OBJ) $(DEMO_OBJ)
FUZZ_BINS := $(FUZZ_TARGETS:%=$(B)/fuzz/fuzz_%)
FUZZ_SECONDS ?= 60


TEST_DEPS_test_fuzz_regress = $(FUZZ_DEPS)
$(B)/tests/test_fuzz_regress.o: LOCAL_CFLAGS += -Ifuzz

$(B)/fuzz/fuzz_%: $(B)/fuzz/fuzz_%.o $$(FUZZ_DEPS) $$(LIB_A)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -fsanitize=fuzzer -o $@ $< $(FUZZ_DEPS) $(LIB_A) -lm $(LDLIBS_ALL)

.PHONY: fuzz fuzz-bins
fuzz-bins: $(FUZZ_BINS)

FUZZ_CFLAGS := -O1 -g -fno-omit-frame-pointer -fno-sanitize-recover=all \
               -fsanitize=fuzzer-no-link,address,undefined \
               -fsanitize-coverage-ignorelist=$(CURDIR)/fuzz/coverage.ignore

fuzz:
	$(MAKE) B=build/fuzz OUT=build/fuzz CC=clang CFLAGS='$(FUZZ_CFLAGS)' \
	    EXTRA_LDFLAGS='-fsanitize=address,undefined' fuzz-bins
	fuzz/run.sh build/fuzz $(FUZZ_SECONDS) $(FUZZ_TARGETS)

# The heapviz that tests/e2e_chaos.sh drives: heapviz's own objects plus
# fuzz/chaos_hook.c, which checks every heap when it ends (see there).
CHAOS_HEAPVIZ := $(B)/fuzz/heapviz-chaos
CHAOS_WRAP := -Wl,--wrap=MemHeap_Create,--wrap=MemHeap_CreateEx,--wrap=MemHeap_Release,--wrap=munmap
$(CHAOS_HEAPVIZ): $(B)/fuzz/chaos_hook.o $$(VIZ_TERM_OBJ) $$(VIZ_CORE_OBJ) $$(DEMO_OBJ) $$(LIB_A)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $(VIZ_TERM_OBJ) $(VIZ_CORE_OBJ) $(DEMO_OBJ) $< $(LIB_A) \
	      $(CHAOS_WRAP) $(NCURSES_LIBS) $(LDLIBS_ALL)
test-bins: $(CHAOS_HEAPVIZ)

# The thread stress `make tsan` runs (a plain program: Criterion cannot start
# under ThreadSanitizer).  Built with the test binaries too, so every build
# compiles it warning-clean.
STRESS_THREADS := $(B)/fuzz/stress_threads
test-bins: $(STRESS_THREADS)
$(STRESS_THREADS): $(B)/fuzz/stress_threads.o $$(LIB_A)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $< $(LIB_A) -lpthread $(LDLIBS_ALL)
