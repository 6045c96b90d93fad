# tests/sanitize/sanitize.mk — the CMocka suite (every tests/unit/test_*.c)
# built with AddressSanitizer + UndefinedBehaviorSanitizer under clang, and
# run once under valgrind memcheck. Also defines `reliability-deps`, which
# the fuzz, guard-page and thread fragments depend on.
#
#   make check-sanitize   ASan+UBSan build of every unit test (linked with the
#                         library compiled once so), run; any report fails
#   make check-valgrind   gcc build of every unit test, run under
#                         valgrind --error-exitcode=1 --leak-check=full
#                         (make check-all only)
#
# Knobs: SAN_SAMPLES (default 20000) and VALGRIND_SAMPLES (default 1000) set
# PREFLOSS_TEST_SAMPLES for the sanitizer and valgrind runs.

# Debian 12 packages: clang 14 with its sanitizer and libFuzzer runtimes
# (libclang-rt-14-dev holds libclang_rt.{asan,ubsan,tsan,fuzzer}), valgrind,
# CMocka. Installed when missing (as root, or through sudo).
RELIABILITY_DEPS ?= clang libclang-rt-14-dev valgrind libcmocka-dev

.PHONY: reliability-deps
reliability-deps:
	@$(call ensure_packages,$(RELIABILITY_DEPS))

SAN_CC        ?= clang
SAN_SRCS       = $(wildcard tests/unit/test_*.c)
SAN_OUT       := $(B)/tests/sanitize
SAN_FLAGS     := -std=c99 -g -O2 -fsanitize=address,undefined -fno-sanitize-recover=all \
                 -fno-omit-frame-pointer -Iinclude -Itests/unit
SAN_SAMPLES   ?= 20000
VALGRIND_CC      ?= gcc
VALGRIND_SAMPLES ?= 1000
VALGRIND_FLAGS   := -std=c99 -g -O2 -Iinclude -Itests/unit -DPREFLOSS_TEST_SAMPLES=$(VALGRIND_SAMPLES)
VALGRIND         := valgrind --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite,possible -q
UNIT_HDRS      = $(wildcard tests/unit/*.h)

SAN_BINS = $(patsubst tests/unit/test_%.c,$(SAN_OUT)/asan/test_%,$(SAN_SRCS))
VG_BINS  = $(patsubst tests/unit/test_%.c,$(SAN_OUT)/valgrind/test_%,$(SAN_SRCS))

# The library is compiled once per tool and linked into every test.
$(SAN_OUT)/asan/prefloss.o: lib/prefloss.c $(HEADER) | reliability-deps
	@mkdir -p $(@D)
	$(SAN_CC) $(SAN_FLAGS) -c $< -o $@
$(SAN_OUT)/asan/test_%: tests/unit/test_%.c $(SAN_OUT)/asan/prefloss.o $(HEADER) $(UNIT_HDRS) | reliability-deps
	@mkdir -p $(@D)
	$(SAN_CC) $(SAN_FLAGS) $< $(SAN_OUT)/asan/prefloss.o -lcmocka -lm -o $@

$(SAN_OUT)/valgrind/prefloss.o: lib/prefloss.c $(HEADER) | reliability-deps
	@mkdir -p $(@D)
	$(VALGRIND_CC) $(VALGRIND_FLAGS) -c $< -o $@
$(SAN_OUT)/valgrind/test_%: tests/unit/test_%.c $(SAN_OUT)/valgrind/prefloss.o $(HEADER) $(UNIT_HDRS) | reliability-deps
	@mkdir -p $(@D)
	$(VALGRIND_CC) $(VALGRIND_FLAGS) $< $(SAN_OUT)/valgrind/prefloss.o -lcmocka -lm -o $@

.PHONY: check-sanitize check-valgrind
check-sanitize: reliability-deps
	@test -n "$(SAN_SRCS)" || { echo "sanitize: no tests/unit/test_*.c"; exit 1; }
	@$(MAKE) --no-print-directory $(SAN_BINS)
	@fails=0; for t in $(SAN_BINS); do echo "--- $$t"; \
	    PREFLOSS_TEST_SAMPLES=$(SAN_SAMPLES) \
	    ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:halt_on_error=1:exitcode=97 \
	    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	    ./$$t || { fails=$$((fails+1)); echo "FAILED: $$t"; }; \
	done; echo "check-sanitize: $(words $(SAN_BINS)) binaries, $$fails failed"; [ $$fails -eq 0 ]

check-valgrind: reliability-deps
	@test -n "$(SAN_SRCS)" || { echo "valgrind: no tests/unit/test_*.c"; exit 1; }
	@$(MAKE) --no-print-directory $(VG_BINS)
	@fails=0; for t in $(VG_BINS); do echo "--- $$t"; \
	    PREFLOSS_TEST_SAMPLES=$(VALGRIND_SAMPLES) $(VALGRIND) ./$$t || \
	    { fails=$$((fails+1)); echo "FAILED: $$t"; }; \
	done; echo "check-valgrind: $(words $(VG_BINS)) binaries, $$fails failed"; [ $$fails -eq 0 ]

# valgrind runs every test at a fraction of its speed: make check-all only.
CHECK_TARGETS += check-sanitize
CHECK_ALL_TARGETS += check-valgrind
