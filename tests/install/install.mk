# tests/install/install.mk — `make install` into scratch prefixes, then
# out-of-tree consumers run against what was installed:
#
#   1. PREFIX=<tmp>/usr: a consumer built with `pkg-config --cflags --libs
#      prefloss` (shared) and with `pkg-config --static`, and a CMake project
#      using find_package(prefloss CONFIG) (shared and static targets); all
#      four print the same thing, and the shared ones load the installed
#      libprefloss.so.1;
#   2. PREFIX=/opt/prefloss DESTDIR=<tmp>/stage: the staged tree has every
#      file and link, the .pc names the final prefix with libdir and
#      includedir relative to it (pkg-config --define-prefix relocates it: a
#      consumer builds against the staged tree), and the CMake package works
#      from the staging area (its paths are relative to itself);
#   3. `make uninstall` (with the same PREFIX/DESTDIR) removes every file.
INSTALL_TMP := $(CURDIR)/$(B)/install-test
INSTALL_QS  := $(CURDIR)/examples/quickstart/quickstart.c

# The files `make install` puts under a prefix (relative to it).
INSTALL_FILES = include/prefloss.h lib/libprefloss.a lib/libprefloss.so.$(VERSION) \
    lib/libprefloss.so.$(ABI_VERSION) lib/libprefloss.so lib/pkgconfig/prefloss.pc \
    lib/cmake/prefloss/prefloss-config.cmake \
    lib/cmake/prefloss/prefloss-config-version.cmake \
    share/doc/prefloss/README.md share/doc/prefloss/CHANGELOG.md \
    share/doc/prefloss/LICENSE share/doc/prefloss/conventions.md

# $(call install_tree_ok,ROOT): every file present, the symlink chain right.
install_tree_ok = \
	for f in $(INSTALL_FILES); do test -e $(1)/$$f || { echo "install: missing $(1)/$$f"; exit 1; }; done; \
	test "$$(readlink $(1)/lib/libprefloss.so)" = libprefloss.so.$(ABI_VERSION) && \
	test "$$(readlink $(1)/lib/libprefloss.so.$(ABI_VERSION))" = libprefloss.so.$(VERSION) && \
	test -f $(1)/lib/libprefloss.so.$(VERSION) && ! test -L $(1)/lib/libprefloss.so.$(VERSION) || \
	    { echo "install: wrong symlink chain under $(1)/lib"; exit 1; }

# $(call cmake_consumer,PREFIX_PATH,BUILD_DIR): configure, build, run.
cmake_consumer = \
	cmake -S $(CURDIR)/tests/install/cmake-consumer -B $(2) -DCMAKE_PREFIX_PATH=$(1) \
	    -DCMAKE_C_COMPILER=$(CC) -DQUICKSTART=$(INSTALL_QS) -DEXPECTED_VERSION=$(VERSION) \
	    -DCMAKE_BUILD_TYPE=Release > $(2).log 2>&1 && \
	cmake --build $(2) >> $(2).log 2>&1 || { cat $(2).log; echo "install: CMake consumer failed"; exit 1; }; \
	ldd $(2)/consumer-shared | grep -q "$(1)/lib/libprefloss.so.$(ABI_VERSION)" || \
	    { ldd $(2)/consumer-shared; echo "install: CMake consumer did not load $(1)/lib"; exit 1; }; \
	! ldd $(2)/consumer-static | grep -q libprefloss || \
	    { echo "install: static CMake consumer loads libprefloss"; exit 1; }; \
	$(2)/consumer-shared > $(2)-shared.out && $(2)/consumer-static > $(2)-static.out && \
	cmp $(2)-shared.out $(2)-static.out

.PHONY: check-install
check-install: lib
	@command -v cmake >/dev/null || { echo "install: cmake not found (apt-get install cmake)"; exit 1; }
	@command -v pkg-config >/dev/null || { echo "install: pkg-config not found"; exit 1; }
	@rm -rf $(INSTALL_TMP) && mkdir -p $(INSTALL_TMP)
	@# 1. a real prefix: pkg-config and CMake consumers
	@$(MAKE) --no-print-directory -s install PREFIX=$(INSTALL_TMP)/usr >/dev/null
	@$(call install_tree_ok,$(INSTALL_TMP)/usr)
	@test "$$(PKG_CONFIG_PATH=$(INSTALL_TMP)/usr/lib/pkgconfig pkg-config --modversion prefloss)" = "$(VERSION)"
	@PKG_CONFIG_PATH=$(INSTALL_TMP)/usr/lib/pkgconfig; export PKG_CONFIG_PATH; \
	cd $(INSTALL_TMP) && \
	$(CC) -o consumer-shared $(INSTALL_QS) \
	    $$(pkg-config --cflags --libs prefloss) -Wl,-rpath,$(INSTALL_TMP)/usr/lib && \
	$(CC) -o consumer-static $(INSTALL_QS) -static \
	    $$(pkg-config --static --cflags --libs prefloss) && \
	ldd ./consumer-shared | grep -q "$(INSTALL_TMP)/usr/lib/libprefloss.so.$(ABI_VERSION)" && \
	./consumer-shared > shared.out && ./consumer-static > static.out && cmp shared.out static.out || \
	    { echo "install: pkg-config consumer failed"; exit 1; }
	@echo "install: pkg-config consumers (shared, --static) ran against $(INSTALL_TMP)/usr"
	@$(call cmake_consumer,$(INSTALL_TMP)/usr,$(INSTALL_TMP)/cmake)
	@cmp $(INSTALL_TMP)/shared.out $(INSTALL_TMP)/cmake-shared.out
	@echo "install: CMake find_package(prefloss CONFIG) consumers (shared, static) ran against $(INSTALL_TMP)/usr"
	@$(MAKE) --no-print-directory -s uninstall PREFIX=$(INSTALL_TMP)/usr
	@left=$$(find $(INSTALL_TMP)/usr ! -type d); test -z "$$left" || \
	    { echo "install: uninstall left $$left"; exit 1; }
	@# 2. a staged install (DESTDIR) for another prefix
	@$(MAKE) --no-print-directory -s install PREFIX=/opt/prefloss DESTDIR=$(INSTALL_TMP)/stage >/dev/null
	@$(call install_tree_ok,$(INSTALL_TMP)/stage/opt/prefloss)
	@grep -qx 'prefix=/opt/prefloss' $(INSTALL_TMP)/stage/opt/prefloss/lib/pkgconfig/prefloss.pc || \
	    { echo "install: the staged .pc does not name /opt/prefloss"; exit 1; }
	@grep -qx 'libdir=$${prefix}/lib' $(INSTALL_TMP)/stage/opt/prefloss/lib/pkgconfig/prefloss.pc && \
	grep -qx 'includedir=$${prefix}/include' $(INSTALL_TMP)/stage/opt/prefloss/lib/pkgconfig/prefloss.pc || \
	    { echo "install: the .pc's libdir and includedir are not relative to \$${prefix}"; exit 1; }
	@# the staged tree, relocated by pkg-config --define-prefix: a consumer builds and runs from it
	@cd $(INSTALL_TMP) && st=$(INSTALL_TMP)/stage/opt/prefloss && \
	flags="$$(PKG_CONFIG_PATH=$$st/lib/pkgconfig pkg-config --define-prefix --cflags --libs prefloss)" && \
	case "$$flags" in *"-I$$st/include"*"-L$$st/lib"*) ;; \
	    *) echo "install: pkg-config --define-prefix gave '$$flags'"; exit 1 ;; esac && \
	$(CC) -o consumer-staged $(INSTALL_QS) $$flags -Wl,-rpath,$$st/lib && \
	./consumer-staged > staged.out && cmp shared.out staged.out || \
	    { echo "install: consumer of the relocated staged tree failed"; exit 1; }
	@echo "install: pkg-config --define-prefix relocates the staged tree; its consumer ran"
	@$(call cmake_consumer,$(INSTALL_TMP)/stage/opt/prefloss,$(INSTALL_TMP)/cmake-staged)
	@cmp $(INSTALL_TMP)/shared.out $(INSTALL_TMP)/cmake-staged-shared.out
	@$(MAKE) --no-print-directory -s uninstall PREFIX=/opt/prefloss DESTDIR=$(INSTALL_TMP)/stage
	@left=$$(find $(INSTALL_TMP)/stage ! -type d); test -z "$$left" || \
	    { echo "install: uninstall left $$left"; exit 1; }
	@echo "install: DESTDIR staging for /opt/prefloss complete, CMake package relocatable; uninstall removed every file"
CHECK_TARGETS += check-install
