# make bench: the Python package's autograd DPO against PyTorch eager
# (forward + backward, one thread, 64 / 1024 / 1 M pairs) before the kernels'
# table. Lines "BENCH kernel=py_dpo n=... vs_torch=..."; see py_bench.py.
.PHONY: bench-python
bench-python: $(B)/$(SONAME)
	@py="$(BENCH_PYTHON)"; \
	if [ -n "$$py" ]; then OMP_NUM_THREADS=1 $$py tests/bench/py_bench.py; \
	else echo "bench: no Python with PyTorch found; py_dpo skipped"; fi
bench: bench-python
