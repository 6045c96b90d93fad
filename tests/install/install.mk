# `make install` into a scratch prefix, then an out-of-tree consumer built
# with pkg-config (shared, and --static) runs against what was installed.
INSTALL_TMP := $(CURDIR)/$(B)/install-test

.PHONY: check-install
check-install: lib
	@rm -rf $(INSTALL_TMP)
	@$(MAKE) --no-print-directory -s install PREFIX=$(INSTALL_TMP)/usr >/dev/null
	@test -L $(INSTALL_TMP)/usr/lib/libprefloss.so
	@test -L $(INSTALL_TMP)/usr/lib/libprefloss.so.$(ABI_VERSION)
	@test -f $(INSTALL_TMP)/usr/lib/libprefloss.so.$(VERSION)
	@test "$$(PKG_CONFIG_PATH=$(INSTALL_TMP)/usr/lib/pkgconfig pkg-config --modversion prefloss)" = "$(VERSION)"
	@PKG_CONFIG_PATH=$(INSTALL_TMP)/usr/lib/pkgconfig; export PKG_CONFIG_PATH; \
	cd $(INSTALL_TMP) && \
	$(CC) -o consumer-shared $(CURDIR)/examples/quickstart/quickstart.c \
	    $$(pkg-config --cflags --libs prefloss) -Wl,-rpath,$(INSTALL_TMP)/usr/lib && \
	$(CC) -o consumer-static $(CURDIR)/examples/quickstart/quickstart.c \
	    $$(pkg-config --cflags prefloss) $(INSTALL_TMP)/usr/lib/libprefloss.a \
	    $$(pkg-config --static --libs-only-other prefloss) && \
	ldd ./consumer-shared | grep -q "$(INSTALL_TMP)/usr/lib/libprefloss.so.$(ABI_VERSION)" && \
	./consumer-shared > shared.out && ./consumer-static > static.out && cmp shared.out static.out
	@$(MAKE) --no-print-directory -s uninstall PREFIX=$(INSTALL_TMP)/usr
	@test ! -e $(INSTALL_TMP)/usr/include/prefloss.h
	@echo "install: pkg-config consumer (shared and static) ran against the installed library; uninstall removed it"
CHECK_TARGETS += check-install
