# tests/guard/guard.mk — guard-page tests: every input and output flush
# against a PROT_NONE page (front and back), sizes 0..67, misaligned ends,
# optional pointers present and absent; results must match heap buffers.
#
#   make check-guard   against build/libprefloss.a (the shipped -O2 build) and
#                      against a copy built -O3 -march=native (the widest
#                      vector paths this CPU has), and built with
#                      PREFLOSS_NO_DISPATCH (the baseline kernels)

GUARD_OUT := $(B)/tests/guard

$(GUARD_OUT)/guard_static: tests/guard/guard.c $(STLIB) $(HEADER)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $< $(STLIB) -o $@

$(GUARD_OUT)/guard_native: tests/guard/guard.c lib/prefloss.c $(HEADER)
	@mkdir -p $(@D)
	$(CC) $(WARN) -O3 -march=native -Iinclude $< lib/prefloss.c -o $@

# the baseline (non-AVX2) kernels, which run-time dispatch skips on this CPU
$(GUARD_OUT)/guard_baseline: tests/guard/guard.c lib/prefloss.c $(HEADER)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -DPREFLOSS_NO_DISPATCH $< lib/prefloss.c -o $@

.PHONY: check-guard
check-guard: $(GUARD_OUT)/guard_static $(GUARD_OUT)/guard_native $(GUARD_OUT)/guard_baseline
	@./$(GUARD_OUT)/guard_static && ./$(GUARD_OUT)/guard_native && ./$(GUARD_OUT)/guard_baseline

CHECK_TARGETS += check-guard
