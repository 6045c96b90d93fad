# tests/abi/abi.mk — the ABI guard, the version agreement test and the docs
# build, as check targets (the rules of `abi-check` and `docs` are in the
# top-level Makefile; see docs/abi.md).
#
#   make abi-check       debug rebuild + abidiff against lib/prefloss.abi.xml
#   make check-versions  header, library, .pc, CMake package, file name,
#                        soname and CHANGELOG.md state the same version
#   make check-docs      Doxygen over the header and docs/, zero warnings

# The Debian packages these need, installed by `make check` with the others.
check-deps: CHECK_DEPS += abigail-tools binutils doxygen cmake pkg-config

ABI_TEST_DIR := $(B)/tests/abi

$(ABI_TEST_DIR)/version_agree: tests/abi/version_agree.c $(HEADER) $(B)/libprefloss.so
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -Werror $< -L$(B) -lprefloss -Wl,-rpath,'$$ORIGIN/../..' -o $@

$(ABI_TEST_DIR)/prefloss.pc: pkgconfig/prefloss.pc.in $(HEADER)
	@mkdir -p $(@D)
	@$(PC_SED) $< > $@
$(ABI_TEST_DIR)/prefloss-config-version.cmake: lib/cmake/prefloss-config-version.cmake.in $(HEADER)
	@mkdir -p $(@D)
	@$(CMAKE_SED) $< > $@

.PHONY: check-versions check-docs
check-versions: $(ABI_TEST_DIR)/version_agree $(ABI_TEST_DIR)/prefloss.pc $(ABI_TEST_DIR)/prefloss-config-version.cmake
	@sh tests/abi/check-versions.sh $(ABI_TEST_DIR)/version_agree $(SHLIB) \
	    $(ABI_TEST_DIR)/prefloss.pc $(HEADER) CHANGELOG.md \
	    $(ABI_TEST_DIR)/prefloss-config-version.cmake

check-docs: docs

CHECK_TARGETS += abi-check check-versions check-docs
