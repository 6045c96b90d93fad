# The Python package (python/): its pytest suite and the DPO training example
# (check-python), and an offline install into a fresh virtualenv that runs
# the README's Python snippet from another directory (check-python-install).
# Both use Debian's interpreter, which has NumPy, PyTorch and pytest (the
# targets install python3-pytest / python3-venv when missing).
PY_SYS   ?= /usr/bin/python3
PY_VENV  := $(B)/pyvenv
PY_DEPS  := python3-numpy python3-torch python3-pytest python3-venv python3-pip \
            python3-setuptools python3-wheel

.PHONY: check-python check-python-install install-python
check-python: $(B)/$(SONAME)
	@$(call ensure_packages,$(PY_DEPS))
	@OMP_NUM_THREADS=1 $(PY_SYS) -m pytest -q tests/python && \
	OMP_NUM_THREADS=1 $(PY_SYS) examples/python/train_dpo.py --check && \
	OMP_NUM_THREADS=1 $(PY_SYS) examples/python/train_dpo.py --from-logits --check

# The documented command, in a virtualenv made as the README says; then the
# README's first Python block (under "## From Python"), run from a directory
# outside the tree with no PYTHONPATH or PREFLOSS_LIBRARY.
check-python-install: $(B)/$(SONAME)
	@$(call ensure_packages,$(PY_DEPS))
	@rm -rf $(PY_VENV) $(B)/pyinstall-run && mkdir -p $(B)/pyinstall-run
	@$(PY_SYS) -m venv --system-site-packages $(PY_VENV)
	@$(PY_VENV)/bin/python -m pip install -q --no-build-isolation ./python
	@awk '/^## From Python/{s=1} s&&/^```python/{p=1;next} p&&/^```/{exit} p' README.md \
	    > $(B)/pyinstall-run/readme_snippet.py
	@test -s $(B)/pyinstall-run/readme_snippet.py || { echo "check-python-install: no snippet in README.md"; exit 1; }
	@cd $$(mktemp -d) && env -u PYTHONPATH -u PREFLOSS_LIBRARY \
	    $(CURDIR)/$(PY_VENV)/bin/python $(CURDIR)/$(B)/pyinstall-run/readme_snippet.py && \
	    $(CURDIR)/$(PY_VENV)/bin/python -c 'import prefloss, os; \
	        lib = prefloss.load()._name; \
	        assert os.path.dirname(lib) == os.path.dirname(prefloss.__file__), lib; \
	        print("check-python-install: prefloss %s from %s, library %s" % (prefloss.version(), os.path.dirname(prefloss.__file__), lib))'

# The package into the Python that runs it (a virtualenv's, or a user site):
#   make install-python PY_SYS=/path/to/venv/bin/python
install-python: $(B)/$(SONAME)
	$(PY_SYS) -m pip install --no-build-isolation ./python

CHECK_TARGETS += check-python check-python-install

# The package, the README's snippet and the training example type-check with
# mypy (Debian's; about two minutes, PyTorch's stubs are large).
.PHONY: check-python-types
check-python-types:
	@$(call ensure_packages,mypy python3-torch python3-numpy)
	@mkdir -p $(B)/pyinstall-run
	@awk '/^## From Python/{s=1} s&&/^```python/{p=1;next} p&&/^```/{exit} p' README.md \
	    > $(B)/pyinstall-run/readme_snippet.py
	@MYPYPATH=python mypy --cache-dir $(B)/mypy-cache --python-executable $(PY_SYS) \
	    python/prefloss $(B)/pyinstall-run/readme_snippet.py examples/python/train_dpo.py
CHECK_ALL_TARGETS += check-python-types
