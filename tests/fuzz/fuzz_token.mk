# tests/fuzz/fuzz_token.mk — the token stage's libFuzzer harness
# (tests/fuzz/token_harness.c), kept apart from harness.c.
#
#   make check-fuzz-token        FUZZ_TOKEN_SECONDS (default 12) from the seed
#                                corpus tests/fuzz/corpus/token/ (may be empty)
#   make check-fuzz-token-long   FUZZ_LONG_SECONDS (default 60), as every harness
#                                in make check-all
#   make fuzz-token              FUZZ_SECONDS (default 300)
FUZZ_TOKEN_SECONDS ?= 12

$(FUZZ_OUT)/fuzz_token: $(FUZZ_DIR)/token_harness.c $(FUZZ_OUT)/prefloss.o $(HEADER) | reliability-deps
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_FLAGS) $< $(FUZZ_OUT)/prefloss.o -lm -o $@

.PHONY: check-fuzz-token check-fuzz-token-long
check-fuzz-token: $(FUZZ_OUT)/fuzz_token
	@mkdir -p $(FUZZ_DIR)/corpus/token
	@$(MAKE) --no-print-directory -s fuzz-run-token FUZZ_RUN_SECONDS=$(FUZZ_TOKEN_SECONDS)

check-fuzz-token-long: $(FUZZ_OUT)/fuzz_token
	@mkdir -p $(FUZZ_DIR)/corpus/token
	@$(MAKE) --no-print-directory -s fuzz-run-token FUZZ_RUN_SECONDS=$(FUZZ_LONG_SECONDS)

CHECK_TARGETS += check-fuzz-token
CHECK_ALL_TARGETS += check-fuzz-token-long
