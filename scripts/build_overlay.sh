#!/usr/bin/env bash
# Build one ZCU104 overlay (overlays/zcu104/spynq_<name>.bit + .hwh) with Vivado:
#   scripts/build_overlay.sh [name]      (default: all; names in overlays/zcu104/overlays.json)
#   JOBS=8 scripts/build_overlay.sh stm
# Needs the overlay's HLS IP first (scripts/build_hls.sh <name>). The Vivado release
# must be the one pinned in overlays/zcu104/vivado_pin.tcl; the Tcl checks and says so.
set -euo pipefail
cd "$(dirname "$0")/.."

PY=${PYTHON:-.venv/bin/python}
name=${1:-all}
tops=$("$PY" -m spynq.overlays tops "$name") || exit 1
command -v vivado >/dev/null 2>&1 || {
    echo "build_overlay: vivado not on PATH; source <Xilinx>/Vivado/<version>/settings64.sh first" >&2
    exit 1
}
mkdir -p build/logs
SPYNQ_OVERLAY="$name" SPYNQ_OVERLAY_KERNELS="$tops" \
    vivado -mode batch -nojournal -log "build/logs/vivado_overlay_$name.log" \
    -source overlays/zcu104/build_overlay.tcl -tclargs "${JOBS:-4}"
ls -l "overlays/zcu104/spynq_$name.bit" "overlays/zcu104/spynq_$name.hwh"
