# tests/vendor/vendor.mk — vendoring and embedded targets (docs/embedding.md).
# Included by the top-level Makefile; paths are relative to the repository root.
#
#   check-vendor-dropin        the header alone in an empty directory: one C file
#                              with PREFLOSS_IMPLEMENTATION, one that only includes
#                              it, the core vectors; PREFLOSS_STATIC twice in one
#                              program
#   check-vendor-modes         C99/C11/C17 (gcc, clang), C++11/17 (g++, clang++),
#                              strict warnings, -Werror
#   check-vendor-freestanding  -ffreestanding -nostdlib -nostdinc: no undefined
#                              symbol (x86-64, aarch64, Cortex-M4F)
#   check-vendor-m4f           Cortex-M4F: no double arithmetic, no __aeabi_d*
#   check-vendor-cross         the vectors on aarch64 and armhf (qemu-user) and
#                              i386 (-m32 -msse2 -mfpmath=sse)
#   check-vendor-measure       code size and stack bytes per call per target
#   check-vendor-traps         refused: -ffast-math and the other value-changing
#                              float flags (#error), PREFLOSS_STATIC after a plain
#                              include (#error); a directed rounding mode gives
#                              PREFLOSS_ERR_ROUNDING
#   check-vendor-dispatch      the x86-64 dispatch: no ifunc, constructor or
#                              __cpu_model in the object; clang ThreadSanitizer
#                              run of the default build
#   check-vendor-lean          PREFLOSS_NO_CATALOGUE/_ORPO_KTO/_AOT/_LD builds:
#                              warning-free, PREFLOSS_ERR_UNSUPPORTED from what
#                              is left out, the core vectors
#   check-vendor-docs          (check-all) the size and stack tables of
#                              docs/embedding.md within 5 % of the measurement
#   check-vendor               all of the above
#
# Knobs (environment): VENDOR_SAMPLES (native, default 20000),
# VENDOR_QEMU_SAMPLES (under qemu, default 5000), VENDOR_STACK_LIMIT (8192).
#
# The toolchains are Debian packages, installed when missing (as root; CI runs
# as root). gcc-multilib conflicts with the Debian cross compilers
# (gcc-12-aarch64-linux-gnu and gcc-12-arm-linux-gnueabihf declare
# Conflicts: gcc-multilib), so -m32 uses what gcc-multilib would pull in for
# C: lib32gcc-N-dev and libc6-dev-i386, which install beside them.

VENDOR_OUT  := $(B)/vendor
VENDOR_SH   := sh tests/vendor/vendor.sh
VENDOR_SRC  := $(wildcard tests/vendor/*.c) tests/vendor/vendor.sh
VENDOR_GCCV := $(shell gcc -dumpversion 2>/dev/null | cut -d. -f1)
VENDOR_DEPS := gcc g++ clang binutils gcc-arm-none-eabi libnewlib-arm-none-eabi \
               gcc-aarch64-linux-gnu gcc-arm-linux-gnueabihf qemu-user \
               lib32gcc-$(or $(VENDOR_GCCV),12)-dev libc6-dev-i386

.PHONY: check-vendor-deps check-vendor check-vendor-dropin check-vendor-modes \
        check-vendor-freestanding check-vendor-m4f check-vendor-cross check-vendor-measure \
        check-vendor-traps check-vendor-dispatch check-vendor-lean

check-vendor-deps:
	@$(call ensure_packages,$(VENDOR_DEPS))

check-vendor-dropin check-vendor-modes check-vendor-freestanding check-vendor-m4f \
check-vendor-cross check-vendor-measure check-vendor-traps check-vendor-dispatch check-vendor-lean: check-vendor-%: check-vendor-deps $(HEADER) $(VENDOR_SRC)
	@$(VENDOR_SH) $* $(HEADER) $(VENDOR_OUT)

check-vendor: check-vendor-dropin check-vendor-modes check-vendor-freestanding \
              check-vendor-m4f check-vendor-cross check-vendor-measure check-vendor-traps \
              check-vendor-dispatch check-vendor-lean

# make check: the drop-in, the traps (refused flags, a late PREFLOSS_STATIC,
# the rounding mode) and the dispatch under TSan; make check-all: every
# language mode, the cross targets, the freestanding and Cortex-M4F builds,
# the lean configurations and the size and stack measurements.
CHECK_TARGETS += check-vendor-dropin check-vendor-traps check-vendor-dispatch
CHECK_ALL_TARGETS += check-vendor-modes check-vendor-freestanding check-vendor-m4f \
                     check-vendor-cross check-vendor-lean check-vendor-measure

.PHONY: check-vendor-docs
check-vendor-docs: check-vendor-measure
	@$(VENDOR_SH) docs $(HEADER) $(VENDOR_OUT)

CHECK_ALL_TARGETS += check-vendor-docs
