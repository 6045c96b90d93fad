# make bench, the token stage: the from-logits entry points against streams
# over the same logits, a three-pass C implementation in llm.c's structure
# and PyTorch (token_torch_bench.py), in the same run. See docs/from-logits.md.
BENCH_TOKEN_BIN := $(B)/bench_token

$(BENCH_TOKEN_BIN): tests/bench/bench_token.c $(HEADER) $(STLIB) | $(B)
	$(CC) $(ALL_CFLAGS) -Werror -Wno-double-promotion $< $(STLIB) -lm -o $@

.PHONY: bench-token
bench-token: $(BENCH_TOKEN_BIN)
	@py="$(BENCH_PYTHON)"; rm -f $(B)/token_torch_bench.txt; \
	if [ -n "$$py" ]; then $$py tests/bench/token_torch_bench.py > $(B)/token_torch_bench.txt; \
	else echo "bench-token: no Python with PyTorch found; vs_torch=na"; fi; \
	$(BENCH_TOKEN_BIN) $(B)/token_torch_bench.txt

bench: bench-token
