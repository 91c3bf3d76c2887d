# spynq: the two set-up-and-go commands are `make demo` and `make test`.
SHELL := /bin/bash
VENV  := .venv
PY    := $(VENV)/bin/python
JOBS  ?= 2

.PHONY: bootstrap demo test test-fast bench clean

bootstrap:
	@bash scripts/bootstrap.sh

# Main job on the best backend present (fpga on a board with the overlay, else cpu) and on
# golden: table, plots and build/demo/index.md. On a PYNQ board (the image's pynq-venv, or
# a system python with pynq and no .venv here) the image's Python runs it and the
# workstation bootstrap never does: its pins cannot install there. DEMO_ARGS=--quick: small sizes.
PYNQ_VENV_SH ?= /etc/profile.d/pynq_venv.sh
DEMO_ARGS ?=
demo:
	@if [ -f $(PYNQ_VENV_SH) ] || { [ ! -d $(VENV) ] && python3 -c "import pynq" 2>/dev/null; }; then \
	    echo "[demo] PYNQ board: the image's Python, no bootstrap"; \
	    if [ -f $(PYNQ_VENV_SH) ]; then source $(PYNQ_VENV_SH); fi; \
	    [ "$$(id -u)" = 0 ] || echo "[demo] not root: pynq cannot open the PL, so this runs on the cpu (sudo -E make demo)"; \
	    python3 -c "import spynq" 2>/dev/null || export PYTHONPATH="$(CURDIR)/host$${PYTHONPATH:+:$$PYTHONPATH}"; \
	    python3 -m spynq demo --out build/demo $(DEMO_ARGS); \
	else \
	    bash scripts/bootstrap.sh && $(PY) -m spynq demo --out build/demo $(DEMO_ARGS); \
	fi

test: bootstrap
	$(PY) -m pytest -q -rs tests

# Skip the Verilator co-simulations.
test-fast: bootstrap
	$(PY) -m pytest -q -rs -m "not cosim" tests

bench: bootstrap
	$(PY) -m spynq bench stm --out build/bench

clean:
	rm -rf build
