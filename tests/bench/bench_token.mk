# make bench, the token stage: the from-logits entry points against streams
# over the same logits, a three-pass C implementation in llm.c's structure
# and PyTorch (token_torch_bench.py), in the same run. See docs/from-logits.md.
BENCH_TOKEN_BIN := $(B)/bench_token

# expf_stream.c: glibc's vectorised expf as a ceiling for the forward (see
# there); where it does not build with libmvec, the line reads na.
EXPF_STREAM_FLAGS ?= $(if $(filter x86_64,$(shell uname -m)),-mavx2 -mfma)
$(BENCH_TOKEN_BIN): tests/bench/bench_token.c tests/bench/expf_stream.c $(HEADER) $(STLIB) | $(B)
	@if $(CC) -std=c99 -O3 -ffast-math $(EXPF_STREAM_FLAGS) -c tests/bench/expf_stream.c -o $(B)/expf_stream.o \
	    && $(CC) $(ALL_CFLAGS) -Werror -Wno-double-promotion -DHAVE_EXPF_STREAM $< $(B)/expf_stream.o \
	       $(STLIB) -lm -lmvec -o $@ 2>/dev/null; then echo "built $@ (with the libmvec expf ceiling)"; \
	else $(CC) $(ALL_CFLAGS) -Werror -Wno-double-promotion $< $(STLIB) -lm -o $@; fi

.PHONY: bench-token
bench-token: $(BENCH_TOKEN_BIN)
	@py="$(BENCH_PYTHON)"; rm -f $(B)/token_torch_bench.txt; \
	if [ -n "$$py" ]; then $$py tests/bench/token_torch_bench.py > $(B)/token_torch_bench.txt; \
	else echo "bench-token: no Python with PyTorch found; vs_torch=na"; fi; \
	$(BENCH_TOKEN_BIN) $(B)/token_torch_bench.txt

bench: bench-token

# The fused step at the sizes of a real batch, against PyTorch (minutes, and
# PyTorch's peak near 8 GB at the second size): B = 4, T = 512, V = 32,000
# (2 x 262 MB of logits) and one pair of T = 2,048 at V = 128,256 (2 x 1.05 GB).
TOKEN_LARGE_SIZES ?= 4,512,32000 1,2048,128256
.PHONY: bench-token-large
bench-token-large: $(BENCH_TOKEN_BIN)
	@py="$(BENCH_PYTHON)"; for s in $(TOKEN_LARGE_SIZES); do \
	    set -- $$(echo $$s | tr , ' '); f=$(B)/token_torch_large_$$1_$$2_$$3.txt; rm -f $$f; \
	    if [ -n "$$py" ]; then $$py tests/bench/token_torch_bench.py $$1 $$2 $$3 > $$f; fi; \
	    $(BENCH_TOKEN_BIN) "$$f" $$1 $$2 $$3 || exit 1; \
	done
