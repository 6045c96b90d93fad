# tests/unit/unit.mk — CMocka unit tests (included by the top-level Makefile;
# paths are relative to the repository root).
#
#   make check-unit-static   every test linked against build/libprefloss.a
#   make check-unit-shared   every test linked against build/libprefloss.so.1
#
# Knobs:
#   PREFLOSS_TEST_SAMPLES=N  (environment) random samples per configuration in
#                            the accuracy tests (default 100000)
#   UNIT_RUNNER="valgrind --error-exitcode=99 -q"   run each binary under a tool
#
# Each check target runs every binary and fails if any test failed.

UNIT_NAMES   := version sequence rewards dpo ipo bt validation accuracy
UNIT_SRCDIR  := tests/unit
UNIT_OUTDIR  := $(B)/tests/unit
UNIT_DEPS    := $(UNIT_SRCDIR)/testutil.h $(UNIT_SRCDIR)/reference.h $(HEADER)
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

.PHONY: check-unit-static check-unit-shared unit-bins
unit-bins: $(UNIT_STATIC_BINS) $(UNIT_SHARED_BINS)

check-unit-static: $(UNIT_STATIC_BINS)
	@fails=0; for t in $^; do echo "--- $$t"; \
	    $(UNIT_RUNNER) ./$$t || { fails=$$((fails+1)); echo "FAILED: $$t"; }; \
	done; echo "check-unit-static: $$fails binaries failed"; [ $$fails -eq 0 ]

check-unit-shared: $(UNIT_SHARED_BINS)
	@fails=0; for t in $^; do echo "--- $$t"; \
	    $(UNIT_RUNNER) ./$$t || { fails=$$((fails+1)); echo "FAILED: $$t"; }; \
	done; echo "check-unit-shared: $$fails binaries failed"; [ $$fails -eq 0 ]

CHECK_TARGETS += check-unit-static check-unit-shared
