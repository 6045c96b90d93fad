# tests/unit/unit.mk — CMocka unit tests (included by the top-level Makefile;
# paths are relative to the repository root).
#
#   make check-unit-static   every test linked against build/libprefloss.a
#   make check-unit-shared   every test linked against build/libprefloss.so.1
#   make check-unit-portable every test linked against a copy of the library
#                            built with -DPREFLOSS_NO_DISPATCH: the baseline
#                            kernels (no FMA), which the other two never run
#                            on a CPU with AVX2 and FMA
#   make check-unit-float    the same with -DPREFLOSS_NO_DOUBLE as well: the
#                            double-float kernels of targets without a
#                            double-precision FPU
#
# Knobs:
#   PREFLOSS_TEST_SAMPLES=N  (environment) random samples per configuration in
#                            the accuracy tests (default 100000)
#   UNIT_RUNNER="valgrind --error-exitcode=99 -q"   run each binary under a tool
#
# Each check target runs every binary and fails if any test failed.

UNIT_NAMES   := version sequence rewards dpo ipo bt validation accuracy catalogue ld partials token mix
UNIT_SRCDIR  := tests/unit
UNIT_OUTDIR  := $(B)/tests/unit
UNIT_DEPS    := $(UNIT_SRCDIR)/testutil.h $(UNIT_SRCDIR)/reference.h $(UNIT_SRCDIR)/catalogue_reference.h $(HEADER)
UNIT_CFLAGS   = $(ALL_CFLAGS) -Werror -I$(UNIT_SRCDIR)
UNIT_LIBS    := -lcmocka -lm
UNIT_RUNNER  ?=

UNIT_STATIC_BINS := $(patsubst %,$(UNIT_OUTDIR)/static/test_%,$(UNIT_NAMES))
UNIT_SHARED_BINS := $(patsubst %,$(UNIT_OUTDIR)/shared/test_%,$(UNIT_NAMES))

# Static: the archive is named explicitly, so nothing can pick the .so.
$(UNIT_OUTDIR)/static/test_%: $(UNIT_SRCDIR)/test_%.c $(UNIT_DEPS) $(STLIB)
	@mkdir -p $(@D)
	$(CC) $(UNIT_CFLAGS) $< $(STLIB) $(UNIT_LIBS) -o $@

# Shared: -lprefloss through build/libprefloss.so -> libprefloss.so.1, found
# at run time through an $ORIGIN-relative rpath (build/tests/unit/shared/ ->
# build/), so no LD_LIBRARY_PATH and no installed copy is involved.
$(UNIT_OUTDIR)/shared/test_%: $(UNIT_SRCDIR)/test_%.c $(UNIT_DEPS) $(SHLIB) $(B)/$(SONAME) $(B)/libprefloss.so
	@mkdir -p $(@D)
	$(CC) $(UNIT_CFLAGS) $< -L$(B) -lprefloss -Wl,-rpath,'$$ORIGIN/../../..' $(UNIT_LIBS) -o $@

# Variants: the implementation compiled again with other macros, every test
# linked against it. $(1) = variant name, $(2) = the macros.
define UNIT_VARIANT
UNIT_$(1)_LIB  := $$(UNIT_OUTDIR)/$(1)/libprefloss.a
UNIT_$(1)_BINS := $$(patsubst %,$$(UNIT_OUTDIR)/$(1)/test_%,$$(UNIT_NAMES))

$$(UNIT_OUTDIR)/$(1)/prefloss.o: lib/prefloss.c $$(HEADER)
	@mkdir -p $$(@D)
	$$(CC) $$(ALL_CFLAGS) $(2) -c $$< -o $$@

$$(UNIT_$(1)_LIB): $$(UNIT_OUTDIR)/$(1)/prefloss.o
	rm -f $$@ && ar rcs $$@ $$^

$$(UNIT_OUTDIR)/$(1)/test_%: $$(UNIT_SRCDIR)/test_%.c $$(UNIT_DEPS) $$(UNIT_$(1)_LIB)
	@mkdir -p $$(@D)
	$$(CC) $$(UNIT_CFLAGS) $$< $$(UNIT_$(1)_LIB) $$(UNIT_LIBS) -o $$@
endef

# Portable: without run-time dispatch. Float: no double arithmetic either.
$(eval $(call UNIT_VARIANT,portable,-DPREFLOSS_NO_DISPATCH))
$(eval $(call UNIT_VARIANT,float,-DPREFLOSS_NO_DISPATCH -DPREFLOSS_NO_DOUBLE))
# Size: -Os without dispatch, the helpers compiled out of line (see
# PREFLOSS__INLINE), float-only as on a microcontroller.
$(eval $(call UNIT_VARIANT,size,-Os -DPREFLOSS_NO_DISPATCH -DPREFLOSS_NO_DOUBLE))
UNIT_PORTABLE_BINS := $(UNIT_portable_BINS)

.PHONY: check-unit-static check-unit-shared check-unit-portable check-unit-float check-unit-size unit-bins
unit-bins: $(UNIT_STATIC_BINS) $(UNIT_SHARED_BINS) $(UNIT_portable_BINS) $(UNIT_float_BINS) $(UNIT_size_BINS)

# check-unit-<variant>: run every binary of it; fail if any test failed.
UNIT_RUN = @fails=0; for t in $^; do echo "--- $$t"; \
    $(UNIT_RUNNER) ./$$t || { fails=$$((fails+1)); echo "FAILED: $$t"; }; \
    done; echo "$@: $$fails binaries failed"; [ $$fails -eq 0 ]

check-unit-static: $(UNIT_STATIC_BINS)
	$(UNIT_RUN)
check-unit-shared: $(UNIT_SHARED_BINS)
	$(UNIT_RUN)
check-unit-portable: $(UNIT_portable_BINS)
	$(UNIT_RUN)
check-unit-float: $(UNIT_float_BINS)
	$(UNIT_RUN)
check-unit-size: $(UNIT_size_BINS)
	$(UNIT_RUN)

CHECK_TARGETS += check-unit-static check-unit-shared check-unit-portable check-unit-float check-unit-size

# make test: the edit-compile-test loop. The library and the tests built at
# -O1 without the run-time dispatch (one compile of each kernel, not two),
# every unit test run with fewer random samples. Not a replacement for
# make check: -O3 with dispatch is what ships.
TEST_SAMPLES ?= 20000
TEST_QUICK_CFLAGS = $(WARN) -O1 -Iinclude -DPREFLOSS_NO_DISPATCH
UNIT_quick_LIB  := $(UNIT_OUTDIR)/quick/libprefloss.a
UNIT_quick_BINS := $(patsubst %,$(UNIT_OUTDIR)/quick/test_%,$(UNIT_NAMES))
$(UNIT_OUTDIR)/quick/prefloss.o: lib/prefloss.c $(HEADER)
	@mkdir -p $(@D)
	$(CC) $(TEST_QUICK_CFLAGS) -c $< -o $@
$(UNIT_quick_LIB): $(UNIT_OUTDIR)/quick/prefloss.o
	rm -f $@ && ar rcs $@ $^
$(UNIT_OUTDIR)/quick/test_%: $(UNIT_SRCDIR)/test_%.c $(UNIT_DEPS) $(UNIT_quick_LIB)
	@mkdir -p $(@D)
	$(CC) $(TEST_QUICK_CFLAGS) -Werror -I$(UNIT_SRCDIR) $< $(UNIT_quick_LIB) $(UNIT_LIBS) -o $@
.PHONY: test
test: $(UNIT_quick_BINS)
	@fails=0; for t in $^; do \
	    PREFLOSS_TEST_SAMPLES=$(TEST_SAMPLES) ./$$t >$(UNIT_OUTDIR)/quick/last.log 2>&1 \
	    || { fails=$$((fails+1)); cat $(UNIT_OUTDIR)/quick/last.log; echo "FAILED: $$t"; }; \
	done; echo "test: $(words $^) unit binaries, $$fails failed"; [ $$fails -eq 0 ]
