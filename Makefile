# libprefloss — build, test, install.
#
#   make            build/libprefloss.a and build/libprefloss.so.1.x.y
#   make demo       build the library and run the demo (needs only a C compiler)
#   make test       the edit-compile-test loop: a quick build, the unit tests
#   make check      install test dependencies if missing, then run the tests
#                   (the README's test command; about 10 minutes)
#   make check-all  everything: make check plus long fuzzing, valgrind, every
#                   cross target and language mode, the measurements (.ci/run)
#   make amalgamate regenerate include/prefloss.h from the sources in lib/
#   make install    PREFIX=/usr/local DESTDIR=
#
# Each area keeps its own rules in a fragment (tests/unit/unit.mk, ...), which
# adds its check targets to CHECK_TARGETS (run by make check and make
# check-all) or CHECK_ALL_TARGETS (run by make check-all only).

VERSION_MAJOR := $(shell sed -n 's/^\#define PREFLOSS_VERSION_MAJOR \([0-9]*\)/\1/p' include/prefloss.h)
VERSION_MINOR := $(shell sed -n 's/^\#define PREFLOSS_VERSION_MINOR \([0-9]*\)/\1/p' include/prefloss.h)
VERSION_PATCH := $(shell sed -n 's/^\#define PREFLOSS_VERSION_PATCH \([0-9]*\)/\1/p' include/prefloss.h)
ABI_VERSION   := $(shell sed -n 's/^\#define PREFLOSS_ABI_VERSION \([0-9]*\)/\1/p' include/prefloss.h)
VERSION       := $(VERSION_MAJOR).$(VERSION_MINOR).$(VERSION_PATCH)

CC      ?= cc
# -O3: GCC 12's -O2 cost model vectorises none of the kernels. Never add
# -ffast-math (or -Ofast): the error-free transformations need IEEE rounding.
OPTFLAGS ?= -O3
WARN    := -std=c99 -Wall -Wextra -Wpedantic -Wconversion -Wdouble-promotion -Wshadow
CFLAGS  ?= $(OPTFLAGS)
ALL_CFLAGS = $(WARN) $(CFLAGS) -Iinclude
# The library's own build: a kernel that no row of the kind registry names
# is an unused static function, and that is an error.
LIB_ONLY_FLAGS := -Werror=unused-function

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
CHECK_ALL_TARGETS :=

# $(call ensure_packages,LIST): install those Debian packages of LIST that
# are missing (CI runs as root on a fresh machine; elsewhere through sudo).
define ensure_packages
missing=""; for p in $(1); do \
    dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
if [ -n "$$missing" ]; then \
    echo "installing:$$missing"; \
    if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
    $$SUDO apt-get update -qq && \
    DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; \
fi
endef

.PHONY: all lib demo check check-all check-deps install uninstall clean amalgamate check-amalgamation
all: lib
lib: $(STLIB) $(SHLIB) $(B)/$(SONAME) $(B)/libprefloss.so

$(B):
	@mkdir -p $(B)

# --- the single header -----------------------------------------------------
# include/prefloss.h is generated from the sources in lib/ (lib/amalgamate.sh
# lists them in order) and committed, so that vendoring stays "copy one
# file". Editing a source regenerates it; check-amalgamation fails when the
# committed header is not the amalgamation of the committed sources.
LIB_SOURCES := $(shell sh lib/amalgamate.sh --list)
$(HEADER): $(LIB_SOURCES) lib/amalgamate.sh
	sh lib/amalgamate.sh $@
amalgamate:
	sh lib/amalgamate.sh $(HEADER)
check-amalgamation: | $(B)
	@rm -rf $(B)/amalgamation && mkdir -p $(B)/amalgamation
	@if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then \
	    git archive HEAD lib include | tar -x -C $(B)/amalgamation; what="committed"; \
	else cp -R lib include $(B)/amalgamation/; what="present"; fi; \
	sh $(B)/amalgamation/lib/amalgamate.sh $(CURDIR)/$(B)/amalgamation/fresh.h; \
	if cmp -s $(B)/amalgamation/fresh.h $(B)/amalgamation/include/prefloss.h; then \
	    echo "amalgamation: the $$what include/prefloss.h is the amalgamation of lib/ ($(words $(LIB_SOURCES)) sources)"; \
	else echo "amalgamation: the $$what include/prefloss.h is stale: run make amalgamate and commit it"; exit 1; fi
CHECK_TARGETS += check-amalgamation

$(B)/prefloss.pic.o: lib/prefloss.c $(HEADER) | $(B)
	$(CC) $(ALL_CFLAGS) $(LIB_ONLY_FLAGS) -fPIC -fvisibility=hidden -DPREFLOSS_BUILD_SHARED -c $< -o $@

$(B)/prefloss.o: lib/prefloss.c $(HEADER) | $(B)
	$(CC) $(ALL_CFLAGS) $(LIB_ONLY_FLAGS) -c $< -o $@

$(STLIB): $(B)/prefloss.o
	rm -f $@ && ar rcs $@ $^

$(SHLIB): $(B)/prefloss.pic.o lib/prefloss.map
	$(CC) -shared -Wl,-soname,$(SONAME) -Wl,--version-script=lib/prefloss.map \
	    -Wl,--no-undefined -o $@ $(B)/prefloss.pic.o

$(B)/$(SONAME): $(SHLIB)
	ln -sf $(notdir $(SHLIB)) $@
$(B)/libprefloss.so: $(B)/$(SONAME)
	ln -sf $(SONAME) $@

# The .pc file names the install prefix, so it is made by `install`. Its
# libdir and includedir are written relative to ${prefix} where they lie
# under it (as zlib's), so pkg-config --define-prefix can relocate a staged
# tree.
PC_LIBDIR = $(patsubst $(PREFIX)/%,$${prefix}/%,$(LIBDIR))
PC_INCDIR = $(patsubst $(PREFIX)/%,$${prefix}/%,$(INCDIR))
PC_SED = sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@LIBDIR@|$(PC_LIBDIR)|g' \
	    -e 's|@INCDIR@|$(PC_INCDIR)|g' -e 's|@VERSION@|$(VERSION)|g'

# --- the areas -------------------------------------------------------------
include $(wildcard tests/*/*.mk examples/*/*.mk)

# --- demo ------------------------------------------------------------------
# The bandit experiment when present, else the quick start example.
DEMO_TARGET ?= demo-quickstart
demo: $(DEMO_TARGET)

# --- check -----------------------------------------------------------------
# Debian packages the tests need; installed when missing (CI runs as root).
CHECK_DEPS := libcmocka-dev pkg-config python3-numpy python3-torch valgrind \
              python3-pytest python3-venv python3-pip python3-setuptools python3-wheel
check-deps:
	@$(call ensure_packages,$(CHECK_DEPS))

# $(call run_targets,NAME,TARGETS): run each target (its builds on
# CHECK_JOBS cores), timing it; go on after a failure; end with the plain
# "N passed, N failed" line.
CHECK_JOBS ?= $(shell nproc 2>/dev/null || echo 2)
define run_targets
fails=0; passed=0; failed=""; for t in $(2); do \
    echo "=== $$t"; t0=$$(date +%s); \
    if $(MAKE) --no-print-directory -j$(CHECK_JOBS) $$t; then passed=$$((passed+1)); \
    else fails=$$((fails+1)); failed="$$failed $$t"; echo "FAILED: $$t"; fi; \
    echo "=== $$t: $$(( $$(date +%s) - t0 )) s"; \
done; \
[ -z "$$failed" ] || echo "failed:$$failed"; \
echo "$(1): $$passed passed, $$fails failed"; \
[ $$fails -eq 0 ]
endef

check: check-deps
	@$(MAKE) --no-print-directory lib
	@$(call run_targets,check,$(CHECK_TARGETS))

check-all: check-deps
	@$(MAKE) --no-print-directory lib
	@$(call run_targets,check-all,$(CHECK_TARGETS) $(CHECK_ALL_TARGETS))

# --- install ---------------------------------------------------------------
# Header, both libraries with the symlink chain, prefloss.pc, the CMake
# package (find_package(prefloss CONFIG)) and the documentation (the pages and
# their charts;
# the HTML reference too if `make docs` has built it).
CMAKEDIR ?= $(LIBDIR)/cmake/prefloss
DOCDIR   ?= $(PREFIX)/share/doc/prefloss
CMAKE_SED = sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@LIBDIR@|$(LIBDIR)|g' \
	    -e 's|@INCDIR@|$(INCDIR)|g' -e 's|@VERSION@|$(VERSION)|g' -e 's|@CMAKEDIR@|$(CMAKEDIR)|g' -e 's|@SONAME@|$(SONAME)|g' \
	    -e 's|@VERSION_MAJOR@|$(VERSION_MAJOR)|g' -e 's|@SHLIB@|$(notdir $(SHLIB))|g' \
	    -e 's|@SIZEOF_VOID_P@|$(SIZEOF_VOID_P)|g'
SIZEOF_VOID_P = $(shell printf '__SIZEOF_POINTER__\n' | $(CC) -E -P - 2>/dev/null | tail -n 1)
install: lib
	install -d $(DESTDIR)$(INCDIR) $(DESTDIR)$(LIBDIR) $(DESTDIR)$(PCDIR) \
	    $(DESTDIR)$(CMAKEDIR) $(DESTDIR)$(DOCDIR)
	install -m 644 $(HEADER) $(DESTDIR)$(INCDIR)/prefloss.h
	install -m 644 $(STLIB) $(DESTDIR)$(LIBDIR)/libprefloss.a
	install -m 755 $(SHLIB) $(DESTDIR)$(LIBDIR)/$(notdir $(SHLIB))
	ln -sf $(notdir $(SHLIB)) $(DESTDIR)$(LIBDIR)/$(SONAME)
	ln -sf $(SONAME) $(DESTDIR)$(LIBDIR)/libprefloss.so
	$(PC_SED) pkgconfig/prefloss.pc.in > $(DESTDIR)$(PCDIR)/prefloss.pc
	$(CMAKE_SED) lib/cmake/prefloss-config.cmake.in > $(DESTDIR)$(CMAKEDIR)/prefloss-config.cmake
	$(CMAKE_SED) lib/cmake/prefloss-config-version.cmake.in > $(DESTDIR)$(CMAKEDIR)/prefloss-config-version.cmake
	install -m 644 README.md CHANGELOG.md LICENSE docs/*.md docs/*.svg $(DESTDIR)$(DOCDIR)
	if [ -f $(DOCS_OUT)/html/index.html ]; then \
	    rm -rf $(DESTDIR)$(DOCDIR)/html && cp -R $(DOCS_OUT)/html $(DESTDIR)$(DOCDIR)/html; fi

uninstall:
	rm -f $(DESTDIR)$(INCDIR)/prefloss.h $(DESTDIR)$(LIBDIR)/libprefloss.a \
	    $(DESTDIR)$(LIBDIR)/$(notdir $(SHLIB)) $(DESTDIR)$(LIBDIR)/$(SONAME) \
	    $(DESTDIR)$(LIBDIR)/libprefloss.so $(DESTDIR)$(PCDIR)/prefloss.pc \
	    $(DESTDIR)$(CMAKEDIR)/prefloss-config.cmake \
	    $(DESTDIR)$(CMAKEDIR)/prefloss-config-version.cmake
	rm -rf $(DESTDIR)$(DOCDIR)
	-rmdir $(DESTDIR)$(CMAKEDIR) 2>/dev/null

# --- docs ------------------------------------------------------------------
# The reference (header) and the pages (docs/*.md) through Doxygen, into
# build/docs/html, with MathJax copied into build/docs/html/mathjax so that
# formulas render offline. Any warning fails the build (WARN_AS_ERROR), and
# so does a page of docs/ that docs/index.md does not link to: the pages go
# into the documentation in the order the index links to them.
DOCS_OUT    := $(B)/docs
DOCS_DEPS   := doxygen libjs-mathjax
MATHJAX_DIR ?= /usr/share/javascript/mathjax
# What MathJax 2 needs for TeX input and SVG output (Doxyfile: MATHJAX_*).
MATHJAX_FILES := MathJax.js extensions jax/input/TeX jax/element \
    jax/output/SVG/jax.js jax/output/SVG/config.js jax/output/SVG/autoload \
    jax/output/SVG/fonts/TeX
DOCS_PAGES = docs/index.md $(shell grep -o '](\([A-Za-z0-9_-]*\.md\))' docs/index.md | \
    sed 's|^](\(.*\))$$|docs/\1|' | awk '!seen[$$0]++')
.PHONY: docs docs-deps
docs-deps:
	@$(call ensure_packages,$(DOCS_DEPS))
docs: docs-deps | $(B)
	@command -v doxygen >/dev/null || { echo "docs: doxygen not found (apt-get install doxygen)"; exit 1; }
	@[ -f $(MATHJAX_DIR)/MathJax.js ] || { echo "docs: no MathJax in $(MATHJAX_DIR) (apt-get install libjs-mathjax)"; exit 1; }
	@bad=0; for f in docs/*.md; do case " $(DOCS_PAGES) " in *" $$f "*) ;; \
	    *) echo "docs: $$f is not linked from docs/index.md"; bad=1;; esac; done; [ $$bad = 0 ]
	@rm -rf $(DOCS_OUT) && mkdir -p $(DOCS_OUT)
	@PREFLOSS_VERSION=$(VERSION) PREFLOSS_DOCS_OUT=$(DOCS_OUT) PREFLOSS_DOCS_PAGES="$(DOCS_PAGES)" \
	    doxygen docs/Doxyfile > $(DOCS_OUT)/doxygen.log 2> $(DOCS_OUT)/warnings.log; \
	rc=$$?; if [ $$rc -ne 0 ] || [ -s $(DOCS_OUT)/warnings.log ]; then \
	    cat $(DOCS_OUT)/warnings.log; echo "docs: FAILED ($$(grep -c . $(DOCS_OUT)/warnings.log) warning lines, doxygen exit $$rc)"; exit 1; fi
	@for f in $(MATHJAX_FILES); do mkdir -p $(DOCS_OUT)/html/mathjax/$$(dirname $$f) && \
	    cp -RL $(MATHJAX_DIR)/$$f $(DOCS_OUT)/html/mathjax/$$f || exit 1; done; \
	if [ -f /usr/share/doc/libjs-mathjax/copyright ]; then \
	    cp /usr/share/doc/libjs-mathjax/copyright $(DOCS_OUT)/html/mathjax/copyright; fi
	@echo "docs: $(DOCS_OUT)/html/index.html (zero warnings; $(words $(DOCS_PAGES)) pages)"

# --- ABI guard -------------------------------------------------------------
# abi-check compares a debug build of the shared library (-g, so abidiff sees
# the types; -O0, since the interface does not depend on the optimisation and
# an unoptimised compile is quick) with the committed baseline, and checks the
# release build's exported symbols against the version script; see
# docs/abi.md.
# abi-baseline rewrites the baseline: only when a release is cut.
ABI_BASELINE := lib/prefloss.abi.xml
ABI_DIR      := $(B)/abi
ABI_SHLIB    := $(ABI_DIR)/libprefloss.so.$(VERSION)
.PHONY: abi-check abi-baseline
$(ABI_SHLIB): lib/prefloss.c $(HEADER) lib/prefloss.map
	@mkdir -p $(@D)
	$(CC) $(WARN) -O0 -g -Iinclude -fPIC -fvisibility=hidden -DPREFLOSS_BUILD_SHARED -c lib/prefloss.c -o $(ABI_DIR)/prefloss.pic.o
	$(CC) -shared -Wl,-soname,$(SONAME) -Wl,--version-script=lib/prefloss.map \
	    -Wl,--no-undefined -o $@ $(ABI_DIR)/prefloss.pic.o
abi-check: $(SHLIB) $(ABI_SHLIB)
	@sh lib/abi-check.sh check $(ABI_BASELINE) $(ABI_SHLIB) $(SHLIB) lib/prefloss.map $(HEADER) $(SONAME)
abi-baseline: $(ABI_SHLIB)
	@sh lib/abi-check.sh baseline $(ABI_BASELINE) $(ABI_SHLIB) include

clean:
	rm -rf $(B)
