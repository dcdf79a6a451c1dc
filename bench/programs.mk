# make bench-programs (and the last step of make bench): real programs
# (python3, perl, sort, gcc, threads, C++) under glibc, jemalloc, mimalloc,
# tcmalloc and lib/libmem-malloc.so, median of 5; writes its own section at
# the end of bench/RESULTS.md (bench/programs.sh).
.PHONY: bench-programs
bench-programs: $(OUT)/lib/libmem-malloc.so
	@.ci/deps.sh bench
	OUT=$(OUT) bench/programs.sh --out bench/RESULTS.md
