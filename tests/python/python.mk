# Python binding: unittest suite (against PyTorch float64 references) and the
# DPO training example, run with an interpreter that has NumPy and PyTorch.
# No such interpreter is a failure, not a skip (`make check` installs
# python3-numpy and python3-torch first). Candidates, in order: $PYTHON,
# /usr/bin/python3, python3.
PY_TEST_DIR := tests/python
PY_EXAMPLE_DIR := examples/python

.PHONY: check-python
check-python: $(B)/$(SONAME)
	@py=""; for c in $$PYTHON /usr/bin/python3 python3; do \
	    if command -v "$$c" >/dev/null 2>&1 && \
	       "$$c" -c 'import numpy, torch' >/dev/null 2>&1; then py="$$c"; break; fi; \
	done; \
	if [ -z "$$py" ]; then \
	    echo "python: no interpreter with numpy and torch (tried \$$PYTHON, /usr/bin/python3, python3)"; \
	    echo "python: 0 passed, 1 failed"; exit 1; \
	fi; \
	echo "python: $$py ($$("$$py" -c 'import sys, numpy, torch; print(sys.version.split()[0], "numpy", numpy.__version__, "torch", torch.__version__)'))"; \
	export PREFLOSS_LIBRARY="$(CURDIR)/$(B)/$(SONAME)"; \
	export PYTHONPATH="$(CURDIR)/$(PY_EXAMPLE_DIR)$${PYTHONPATH:+:$$PYTHONPATH}"; \
	export OMP_NUM_THREADS=1; \
	"$$py" $(PY_TEST_DIR)/run_tests.py && \
	"$$py" $(PY_EXAMPLE_DIR)/train_dpo.py --check
CHECK_TARGETS += check-python
