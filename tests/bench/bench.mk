# make bench: kernel throughput against memcpy (same run) and PyTorch (same
# `make bench` run), with the accuracy on the stress set; its output is kept in
# build/bench.txt and drawn in build/bench.svg (bench_chart.py).
# See docs/performance.md.
BENCH_BIN := $(B)/bench

$(BENCH_BIN): tests/bench/bench.c $(HEADER) $(STLIB) | $(B)
	$(CC) $(ALL_CFLAGS) -Werror -Wno-double-promotion $< $(STLIB) -lm -o $@

# An interpreter with PyTorch, if there is one: $(PYTHON), then Debian's.
BENCH_PYTHON = $(shell for p in $(PYTHON) /usr/bin/python3 python3; do \
    $$p -c 'import torch' >/dev/null 2>&1 && { echo $$p; break; }; done)

.PHONY: bench
bench: $(BENCH_BIN)
	@py="$(BENCH_PYTHON)"; rm -f $(B)/torch_bench.txt; \
	if [ -n "$$py" ]; then $$py tests/bench/torch_bench.py > $(B)/torch_bench.txt; \
	else echo "bench: no Python with PyTorch found; vs_torch=na"; fi; \
	{ $(BENCH_BIN) $(B)/torch_bench.txt; echo $$? > $(B)/bench.rc; } | tee $(B)/bench.txt; \
	[ "$$(cat $(B)/bench.rc)" = 0 ] || exit 1; \
	if command -v python3 >/dev/null; then python3 tests/bench/bench_chart.py $(B)/bench.svg \
	    $(B)/bench.txt $(B)/torch_bench.txt; else echo "bench: no python3; no chart"; fi

# make measure-compile-time [BASE=<commit>] [RUNS=<n>]: the CPU time of one
# optimised compile of the library (the build/prefloss.o rule) against a
# baseline commit, alternating, medians and their ratio
# (tests/bench/compile_time.sh; BASE 9e4e01d and RUNS 3 by default).
.PHONY: measure-compile-time
measure-compile-time:
	CC="$(CC)" LIB_CFLAGS="$(ALL_CFLAGS) $(LIB_ONLY_FLAGS)" tests/bench/compile_time.sh $(or $(BASE),9e4e01d) $(or $(RUNS),3)
