# bench: the recorder, the replay tool, the benchmark harness.
#
#   make record CMD='sort words.txt' TRACE=sort.rep
#       runs CMD with tools/record.so preloaded and keeps the trace of the
#       command's own process (across exec: a wrapper script's program; the
#       busiest process when CMD is a pipeline or a list), see tools/record.sh.
#       TRACE (default record.rep) is the output file.  (OUT is taken: it is
#       the products directory.)
#   make bench
#       builds the harness at -O2 and runs it over bench/traces/*.rep; prints
#       the tables and writes them to bench/RESULTS.md; then real programs on
#       five allocators (bench/programs.mk).  Not part of `make test`.


RECORD_SO  := $(OUT)/tools/record.so
REPLAY     := $(OUT)/tools/replay
BENCH      := $(OUT)/bench/bench
PRODUCTS   += $(RECORD_SO) $(REPLAY) $(BENCH)
CLEAN_FILES += tools/record.so tools/replay bench/bench

# The recorder is loaded into other programs: never sanitised (a sanitizer
# build's CFLAGS lose their -fsanitize options here), always PIC.
$(B)/tools/record.pic.o: tools/record.c
	@mkdir -p $(@D)
	$(CC) $(WARN) -D_GNU_SOURCE -MMD -MP $(filter-out -fsanitize%,$(CFLAGS)) -fPIC \
	      -fvisibility=hidden -c $< -o $@

$(RECORD_SO): $(B)/tools/record.pic.o
	@mkdir -p $(@D)
	$(CC) -shared -o $@ $^ -ldl -lpthread

$(REPLAY): $(B)/tools/replay.o $$(DEMO_OBJ) $$(LIB_A)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(EXTRA_CFLAGS) -o $@ $^ $(LDLIBS_ALL)

# The harness is always optimised, whatever CFLAGS says.
# It measures heapviz's model and composer too (VIZ_CORE_OBJ: no curses).
$(B)/bench/bench.o: LOCAL_CFLAGS += -O2
$(BENCH): $(B)/bench/bench.o $$(VIZ_CORE_OBJ) $$(DEMO_OBJ) $$(LIB_A)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(EXTRA_CFLAGS) -o $@ $^ -lm $(LDLIBS_ALL)

TRACE ?= record.rep
.PHONY: record bench bench-traces
record: $(RECORD_SO)
	@test -n "$$CMD" || { echo "usage: make record CMD='command args' [TRACE=out.rep]"; exit 2; }
	tools/record.sh $(RECORD_SO) "$(TRACE)"

# The generated workloads as trace files (committed; this rewrites them).
bench-traces: $(BENCH)
	$(BENCH) --write-workloads bench/traces

# The malloc runners: one source, linked against each allocator (bench.h
# says why).  Built by `make bench` only, so that `make` needs none of the
# three libraries; a runner whose library is missing is left out, and the
# harness leaves its columns out.
MALLOCRUN_LIBS := glibc: jemalloc:-ljemalloc mimalloc:-lmimalloc tcmalloc:-ltcmalloc_minimal
MALLOCRUNS := $(foreach m,$(MALLOCRUN_LIBS),$(OUT)/bench/mallocrun-$(firstword $(subst :, ,$(m))))
CLEAN_FILES += $(foreach m,$(MALLOCRUN_LIBS),bench/mallocrun-$(firstword $(subst :, ,$(m))))
$(B)/bench/mallocrun.o: LOCAL_CFLAGS += -O2
# the library that must provide malloc, as dladdr names its file
runner_lib = $(if $(filter glibc,$1),libc.so,$1)
$(OUT)/bench/mallocrun-%: bench/mallocrun.c bench/bench.h demo/workload.h
	@mkdir -p $(@D)
	$(CC) $(WARN) -D_GNU_SOURCE -Ilib -Idemo -O2 -DRUNNER_LIB='"$(call runner_lib,$*)"' -o $@ $< \
	      $(patsubst $*:%,%,$(filter $*:%,$(MALLOCRUN_LIBS))) -ldl \
	    || { rm -f $@; echo "bench: mallocrun-$* not built (is its library installed? .ci/deps.sh test)"; }

# bench rewrites RESULTS.md whole; sections added by hand at its end (a line
# "<!-- hand-added ...", e.g. bench/hardening.sh's figures) are put back.
bench: $(BENCH)
	@$(MAKE) --no-print-directory -k $(MALLOCRUNS) || true
	@mkdir -p $(B)
	@awk 'index($$0, "<!-- hand-added") == 1 { keep = 1 } keep' bench/RESULTS.md \
	    > $(B)/results-kept.md 2>/dev/null || : > $(B)/results-kept.md
	$(BENCH) --out bench/RESULTS.md bench/traces/*.rep
	@$(MAKE) --no-print-directory bench-programs
	@if [ -s $(B)/results-kept.md ]; then echo >> bench/RESULTS.md; \
	    cat $(B)/results-kept.md >> bench/RESULTS.md; fi
