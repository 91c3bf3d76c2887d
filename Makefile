# spynq: the two set-up-and-go commands are `make demo` and `make test`.
SHELL := /bin/bash
VENV  := .venv
PY    := $(VENV)/bin/python
JOBS  ?= 2

.PHONY: bootstrap demo test test-fast bench clean

bootstrap:
	@bash scripts/bootstrap.sh

# Main job on the best backend present (fpga on a board with the overlay, else cpu) and on
# golden: table, plots and build/demo/index.md. DEMO_ARGS=--quick: small sizes. On a PYNQ
# board, demo and bench run on the image's Python without the workstation bootstrap
# (scripts/spynq.sh; PYNQ_VENV_SH names the image's venv script).
PYNQ_VENV_SH ?= /etc/profile.d/pynq_venv.sh
DEMO_ARGS ?=
demo:
	@PYNQ_VENV_SH=$(PYNQ_VENV_SH) bash scripts/spynq.sh demo --out build/demo $(DEMO_ARGS)

test: bootstrap
	$(PY) -m pytest -q -rs tests

# Skip the Verilator co-simulations.
test-fast: bootstrap
	$(PY) -m pytest -q -rs -m "not cosim" tests

bench:
	@PYNQ_VENV_SH=$(PYNQ_VENV_SH) bash scripts/spynq.sh bench stm --out build/bench

clean:
	rm -rf build

# The fuzz cases (tests/fuzz_cases.py) and each kernel's random valid cases on csim
# libraries built with AddressSanitizer + UBSan, after a canary over-read that ASan must
# report; fails on any report or disagreement (165 s here, plus ~65 s for the first builds).
.PHONY: fuzz-asan
fuzz-asan: bootstrap
	$(PY) tests/fuzz_cases.py asan
