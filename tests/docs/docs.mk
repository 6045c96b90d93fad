# tests/docs/docs.mk — the HTML documentation as a reader sees it (the rule
# of `docs` is in the top-level Makefile).
#
#   make check-docs-browser   build the docs, open every page in headless
#                             Chromium, offline, and fail on unrendered or
#                             broken formulas, broken links, missing images
#                             and network requests; one full-page screenshot
#                             per page in build/docs/screenshots/
#
# It is in `make check-all`; `make check` builds the docs (check-docs in
# tests/abi/abi.mk) without a browser.

check-deps: CHECK_DEPS += libjs-mathjax

DOCS_BROWSER_DEPS := chromium
# The check needs only Python's standard library.
DOCS_PYTHON ?= python3

.PHONY: check-docs-browser
check-docs-browser: docs
	@$(call ensure_packages,$(DOCS_BROWSER_DEPS))
	@$(DOCS_PYTHON) tests/docs/browser_check.py $(DOCS_OUT)/html $(DOCS_OUT)/screenshots

CHECK_ALL_TARGETS += check-docs-browser
