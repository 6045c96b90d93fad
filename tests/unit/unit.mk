# tests/unit/unit.mk — CMocka unit tests (included by the top-level Makefile;
# paths are relative to the repository root).
#
#   make check-unit-static   every test linked against build/libprefloss.a
#   make check-unit-shared   every test linked against build/libprefloss.so.1
#   make check-unit-portable every test linked against a copy of the library
#                            built with -DPREFLOSS_NO_DISPATCH: the baseline
#                            kernels (no FMA), which the other two never run
#                            on a CPU with AVX2 and FMA
#
# Knobs:
#   PREFLOSS_TEST_SAMPLES=N  (environment) random samples per configuration in
#                            the accuracy tests (default 100000)
#   UNIT_RUNNER="valgrind --error-exitcode=99 -q"   run each binary under a tool
#
# Each check target runs every binary and fails if any test failed.

UNIT_NAMES   := version sequence rewards dpo ipo bt validation accuracy catalogue ld
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

# Portable: the implementation compiled again without run-time dispatch.
UNIT_PORTABLE_LIB  := $(UNIT_OUTDIR)/portable/libprefloss.a
UNIT_PORTABLE_BINS := $(patsubst %,$(UNIT_OUTDIR)/portable/test_%,$(UNIT_NAMES))

$(UNIT_OUTDIR)/portable/prefloss.o: lib/prefloss.c $(HEADER)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -DPREFLOSS_NO_DISPATCH -c $< -o $@

$(UNIT_PORTABLE_LIB): $(UNIT_OUTDIR)/portable/prefloss.o
	rm -f $@ && ar rcs $@ $^

$(UNIT_OUTDIR)/portable/test_%: $(UNIT_SRCDIR)/test_%.c $(UNIT_DEPS) $(UNIT_PORTABLE_LIB)
	@mkdir -p $(@D)
	$(CC) $(UNIT_CFLAGS) $< $(UNIT_PORTABLE_LIB) $(UNIT_LIBS) -o $@

.PHONY: check-unit-static check-unit-shared check-unit-portable unit-bins
unit-bins: $(UNIT_STATIC_BINS) $(UNIT_SHARED_BINS) $(UNIT_PORTABLE_BINS)

check-unit-static: $(UNIT_STATIC_BINS)
	@fails=0; for t in $^; do echo "--- $$t"; \
	    $(UNIT_RUNNER) ./$$t || { fails=$$((fails+1)); echo "FAILED: $$t"; }; \
	done; echo "check-unit-static: $$fails binaries failed"; [ $$fails -eq 0 ]

check-unit-shared: $(UNIT_SHARED_BINS)
	@fails=0; for t in $^; do echo "--- $$t"; \
	    $(UNIT_RUNNER) ./$$t || { fails=$$((fails+1)); echo "FAILED: $$t"; }; \
	done; echo "check-unit-shared: $$fails binaries failed"; [ $$fails -eq 0 ]

check-unit-portable: $(UNIT_PORTABLE_BINS)
	@fails=0; for t in $^; do echo "--- $$t"; \
	    $(UNIT_RUNNER) ./$$t || { fails=$$((fails+1)); echo "FAILED: $$t"; }; \
	done; echo "check-unit-portable: $$fails binaries failed"; [ $$fails -eq 0 ]

CHECK_TARGETS += check-unit-static check-unit-shared check-unit-portable
