# tests/guard/guard.mk — guard-page tests: every input and output flush
# against a PROT_NONE page (front and back), sizes 0..67, misaligned ends,
# optional pointers present and absent; results must match heap buffers.
#
#   make check-guard         against build/libprefloss.a (the shipped build)
#                            and the unit tests' PREFLOSS_NO_DISPATCH build
#                            (the baseline kernels)
#   make check-guard-native  against a copy built -O3 -march=native (the
#                            widest vector paths this CPU has; check-all)

GUARD_OUT := $(B)/tests/guard

$(GUARD_OUT)/guard_static: tests/guard/guard.c $(STLIB) $(HEADER)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $< $(STLIB) -o $@

$(GUARD_OUT)/guard_native: tests/guard/guard.c lib/prefloss.c $(HEADER)
	@mkdir -p $(@D)
	$(CC) $(WARN) -O3 -march=native -Iinclude $< lib/prefloss.c -o $@

# the baseline (non-AVX2) kernels, which run-time dispatch skips on this CPU:
# the library the portable unit tests link
$(GUARD_OUT)/guard_baseline: tests/guard/guard.c $(B)/tests/unit/portable/libprefloss.a $(HEADER)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $< $(B)/tests/unit/portable/libprefloss.a -o $@

.PHONY: check-guard check-guard-native
check-guard: $(GUARD_OUT)/guard_static $(GUARD_OUT)/guard_baseline
	@./$(GUARD_OUT)/guard_static && ./$(GUARD_OUT)/guard_baseline
check-guard-native: $(GUARD_OUT)/guard_native
	@./$(GUARD_OUT)/guard_native

CHECK_TARGETS += check-guard
CHECK_ALL_TARGETS += check-guard-native
