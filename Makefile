# spynq: the two set-up-and-go commands are `make demo` and `make test`.
SHELL := /bin/bash
VENV  := .venv
PY    := $(VENV)/bin/python
JOBS  ?= 2

.PHONY: bootstrap demo test test-fast bench clean

bootstrap:
	@bash scripts/bootstrap.sh

# Main job on the best backend present (fpga on a board with the overlay, else cpu+golden).
demo: bootstrap
	$(PY) -m spynq demo --out build/demo

test: bootstrap
	$(PY) -m pytest -q -rs tests

# Skip the Verilator co-simulations.
test-fast: bootstrap
	$(PY) -m pytest -q -rs -m "not cosim" tests

bench: bootstrap
	$(PY) -m spynq bench stm --out build/bench

clean:
	rm -rf build
