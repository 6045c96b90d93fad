# libprefloss — build, test, install.
#
#   make            build/libprefloss.a and build/libprefloss.so.1.x.y
#   make demo       build the library and run the demo (needs only a C compiler)
#   make check      install test dependencies if missing, then run every test
#   make install    PREFIX=/usr/local DESTDIR=
#
# Each area keeps its own rules in a fragment (tests/unit/unit.mk, ...), which
# adds its check targets to CHECK_TARGETS.

VERSION_MAJOR := $(shell sed -n 's/^\#define PREFLOSS_VERSION_MAJOR \([0-9]*\)/\1/p' include/prefloss.h)
VERSION_MINOR := $(shell sed -n 's/^\#define PREFLOSS_VERSION_MINOR \([0-9]*\)/\1/p' include/prefloss.h)
VERSION_PATCH := $(shell sed -n 's/^\#define PREFLOSS_VERSION_PATCH \([0-9]*\)/\1/p' include/prefloss.h)
ABI_VERSION   := $(shell sed -n 's/^\#define PREFLOSS_ABI_VERSION \([0-9]*\)/\1/p' include/prefloss.h)
VERSION       := $(VERSION_MAJOR).$(VERSION_MINOR).$(VERSION_PATCH)

CC      ?= cc
# Hardware FMA makes the error-free product one instruction; the portable
# path (Dekker's split) gives the same results where FMA is absent.
OPTFLAGS ?= -O2
WARN    := -std=c99 -Wall -Wextra -Wpedantic -Wconversion -Wdouble-promotion -Wshadow
CFLAGS  ?= $(OPTFLAGS)
ALL_CFLAGS = $(WARN) $(CFLAGS) -Iinclude

PREFIX  ?= /usr/local
LIBDIR  ?= $(PREFIX)/lib
INCDIR  ?= $(PREFIX)/include
PCDIR   ?= $(LIBDIR)/pkgconfig
DESTDIR ?=

B        := build
SONAME   := libprefloss.so.$(ABI_VERSION)
SHLIB    := $(B)/libprefloss.so.$(VERSION)
STLIB    := $(B)/libprefloss.a
HEADER   := include/prefloss.h

CHECK_TARGETS :=

.PHONY: all lib demo check check-deps install uninstall clean
all: lib
lib: $(STLIB) $(SHLIB) $(B)/$(SONAME) $(B)/libprefloss.so

$(B):
	@mkdir -p $(B)

$(B)/prefloss.pic.o: lib/prefloss.c $(HEADER) | $(B)
	$(CC) $(ALL_CFLAGS) -fPIC -fvisibility=hidden -DPREFLOSS_BUILD_SHARED -c $< -o $@

$(B)/prefloss.o: lib/prefloss.c $(HEADER) | $(B)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

$(STLIB): $(B)/prefloss.o
	rm -f $@ && ar rcs $@ $^

$(SHLIB): $(B)/prefloss.pic.o lib/prefloss.map
	$(CC) -shared -Wl,-soname,$(SONAME) -Wl,--version-script=lib/prefloss.map \
	    -Wl,--no-undefined -o $@ $(B)/prefloss.pic.o

$(B)/$(SONAME): $(SHLIB)
	ln -sf $(notdir $(SHLIB)) $@
$(B)/libprefloss.so: $(B)/$(SONAME)
	ln -sf $(SONAME) $@

# The .pc file names the install prefix, so it is made by `install`.
PC_SED = sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@LIBDIR@|$(LIBDIR)|g' \
	    -e 's|@INCDIR@|$(INCDIR)|g' -e 's|@VERSION@|$(VERSION)|g'

# --- the areas -------------------------------------------------------------
include $(wildcard tests/*/*.mk examples/*/*.mk)

# --- demo ------------------------------------------------------------------
# The bandit experiment when present, else the quick start example.
DEMO_TARGET ?= demo-quickstart
demo: $(DEMO_TARGET)

# --- check -----------------------------------------------------------------
# Debian packages the tests need; installed when missing (CI runs as root).
CHECK_DEPS := libcmocka-dev pkg-config python3-numpy python3-torch valgrind
check-deps:
	@missing=""; for p in $(CHECK_DEPS); do \
	    dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	    echo "installing:$$missing"; \
	    if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	    $$SUDO apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; \
	fi

check: check-deps
	@$(MAKE) --no-print-directory lib
	@fails=0; passed=0; for t in $(CHECK_TARGETS); do \
	    echo "=== $$t"; \
	    if $(MAKE) --no-print-directory $$t; then passed=$$((passed+1)); \
	    else fails=$$((fails+1)); echo "FAILED: $$t"; fi; \
	done; \
	echo "check: $$passed passed, $$fails failed"; \
	[ $$fails -eq 0 ]

# --- install ---------------------------------------------------------------
install: lib
	install -d $(DESTDIR)$(INCDIR) $(DESTDIR)$(LIBDIR) $(DESTDIR)$(PCDIR)
	install -m 644 $(HEADER) $(DESTDIR)$(INCDIR)/prefloss.h
	install -m 644 $(STLIB) $(DESTDIR)$(LIBDIR)/libprefloss.a
	install -m 755 $(SHLIB) $(DESTDIR)$(LIBDIR)/$(notdir $(SHLIB))
	ln -sf $(notdir $(SHLIB)) $(DESTDIR)$(LIBDIR)/$(SONAME)
	ln -sf $(SONAME) $(DESTDIR)$(LIBDIR)/libprefloss.so
	$(PC_SED) pkgconfig/prefloss.pc.in > $(DESTDIR)$(PCDIR)/prefloss.pc

uninstall:
	rm -f $(DESTDIR)$(INCDIR)/prefloss.h $(DESTDIR)$(LIBDIR)/libprefloss.a \
	    $(DESTDIR)$(LIBDIR)/$(notdir $(SHLIB)) $(DESTDIR)$(LIBDIR)/$(SONAME) \
	    $(DESTDIR)$(LIBDIR)/libprefloss.so $(DESTDIR)$(PCDIR)/prefloss.pc

clean:
	rm -rf $(B)
