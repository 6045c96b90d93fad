# tests/fuzz/fuzz.mk — libFuzzer harnesses for every public entry point
# (included by the top-level Makefile; paths are relative to the root).
#
#   make check-fuzz              each harness for FUZZ_CHECK_SECONDS (default 8;
#                                the status harness 2; the 1.1 harnesses
#                                FUZZ_CHECK_SECONDS_11, default 6) from the
#                                committed seed corpus tests/fuzz/corpus/<harness>/:
#                                a quick pass (make check), about 90 s of fuzzing
#   make check-fuzz-long         each harness for FUZZ_LONG_SECONDS (default 60),
#                                one after the other (make check-all, ~13 min)
#   make fuzz FUZZ_SECONDS=N     each harness for N seconds (default 300)
#   make fuzz-<harness>          one harness (FUZZ_SECONDS)
#
# New corpus entries go to build/fuzz/work/<harness>/ (the committed corpus is
# never written); a crash leaves build/fuzz/artifacts/<harness>-crash-*.
# Reproduce one with: build/fuzz/fuzz_<harness> <file>.
# Every invariant is checked strictly (no known violation is tolerated).
# Each run ends with the execution count; the totals are printed.

FUZZ_CC            ?= clang
FUZZ_NAMES_11      := pair_loss pair_loss_mix orpo kto bco_update
FUZZ_NAMES         := dpo ipo ipo_general bt rewards seq seq_backward status $(FUZZ_NAMES_11)
FUZZ_DIR           := tests/fuzz
FUZZ_OUT           := $(B)/fuzz
FUZZ_FLAGS         := -std=c99 -g -O2 -Wall -Wextra -Wno-unused-function \
                      -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
                      -fno-omit-frame-pointer -Iinclude
FUZZ_CHECK_SECONDS ?= 8
FUZZ_CHECK_SECONDS_11 ?= 6
FUZZ_LONG_SECONDS  ?= 60
FUZZ_SECONDS       ?= 300
FUZZ_BINS          := $(patsubst %,$(FUZZ_OUT)/fuzz_%,$(FUZZ_NAMES))

fuzz_id_dpo := 1
fuzz_id_ipo := 2
fuzz_id_ipo_general := 3
fuzz_id_bt := 4
fuzz_id_rewards := 5
fuzz_id_seq := 6
fuzz_id_seq_backward := 7
fuzz_id_status := 8
fuzz_id_pair_loss := 9
fuzz_id_pair_loss_mix := 10
fuzz_id_orpo := 11
fuzz_id_kto := 12
fuzz_id_bco_update := 13

# The library, instrumented once (-fsanitize=fuzzer-no-link: coverage
# without libFuzzer's main) and linked into every harness.
comma := ,
FUZZ_LIB_FLAGS := $(subst -fsanitize=fuzzer$(comma),-fsanitize=fuzzer-no-link$(comma),$(FUZZ_FLAGS))
$(FUZZ_OUT)/prefloss.o: lib/prefloss.c $(HEADER) | reliability-deps
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_LIB_FLAGS) -c $< -o $@

$(FUZZ_OUT)/fuzz_%: $(FUZZ_DIR)/harness.c $(FUZZ_OUT)/prefloss.o $(HEADER) | reliability-deps
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_FLAGS) -DFUZZ_TARGET=$(fuzz_id_$*) $< $(FUZZ_OUT)/prefloss.o -lm -o $@

# $(call fuzz_run,name,seconds): fuzz one harness, print its execution count.
define fuzz_run
mkdir -p $(FUZZ_OUT)/work/$(1) $(FUZZ_OUT)/artifacts && \
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
$(FUZZ_OUT)/fuzz_$(1) -max_total_time=$(2) -timeout=10 -rss_limit_mb=1024 -max_len=4096 \
    -print_final_stats=1 -artifact_prefix=$(FUZZ_OUT)/artifacts/$(1)- \
    $(FUZZ_OUT)/work/$(1) $(FUZZ_DIR)/corpus/$(1) > $(FUZZ_OUT)/$(1).log 2>&1; \
rc=$$?; runs=$$(sed -n 's/^stat::number_of_executed_units: *//p' $(FUZZ_OUT)/$(1).log); \
echo "fuzz $(1): $${runs:-?} executions in $(2) s, exit $$rc"; \
if [ $$rc -ne 0 ]; then tail -n 40 $(FUZZ_OUT)/$(1).log; fi; \
echo "$${runs:-0}" >> $(FUZZ_OUT)/execs.txt; [ $$rc -eq 0 ]
endef

.PHONY: check-fuzz check-fuzz-long fuzz fuzz-bins
fuzz-bins: $(FUZZ_BINS)

check-fuzz: $(FUZZ_BINS)
	@rm -f $(FUZZ_OUT)/execs.txt; fails=0; \
	for h in $(FUZZ_NAMES); do \
	    case " $(FUZZ_NAMES_11) " in *" $$h "*) s=$(FUZZ_CHECK_SECONDS_11);; *) s=$(FUZZ_CHECK_SECONDS);; esac; \
	    if [ $$h = status ]; then s=2; fi; \
	    $(MAKE) --no-print-directory -s fuzz-run-$$h FUZZ_RUN_SECONDS=$$s || fails=$$((fails+1)); \
	done; \
	echo "check-fuzz: $$(awk '{s+=$$1} END {print s+0}' $(FUZZ_OUT)/execs.txt) executions in total, $$fails harnesses failed"; \
	[ $$fails -eq 0 ]

# $(call fuzz_all,name,seconds): every harness for that long, one at a time.
define fuzz_all
rm -f $(FUZZ_OUT)/execs.txt; fails=0; \
for h in $(FUZZ_NAMES); do \
    $(MAKE) --no-print-directory -s fuzz-run-$$h FUZZ_RUN_SECONDS=$(2) || fails=$$((fails+1)); \
done; \
echo "$(1): $$(awk '{s+=$$1} END {print s+0}' $(FUZZ_OUT)/execs.txt) executions in total, $$fails harnesses failed"; \
[ $$fails -eq 0 ]
endef

fuzz: $(FUZZ_BINS)
	@$(call fuzz_all,fuzz,$(FUZZ_SECONDS))

check-fuzz-long: $(FUZZ_BINS)
	@$(call fuzz_all,check-fuzz-long,$(FUZZ_LONG_SECONDS))

FUZZ_RUN_SECONDS ?= $(FUZZ_SECONDS)
fuzz-run-%: $(FUZZ_OUT)/fuzz_%
	@$(call fuzz_run,$*,$(FUZZ_RUN_SECONDS))

fuzz-%: $(FUZZ_OUT)/fuzz_%
	@$(call fuzz_run,$*,$(FUZZ_SECONDS))

CHECK_TARGETS += check-fuzz
CHECK_ALL_TARGETS += check-fuzz-long
