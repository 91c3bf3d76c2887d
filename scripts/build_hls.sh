#!/usr/bin/env bash
# Build the HLS IP of one or more kernels with Vitis HLS:
#   scripts/build_hls.sh [kernel ...]        (default: every hls/*/run_hls.tcl)
#   SPYNQ_HLS_STEPS="csim csynth" scripts/build_hls.sh stm
# Products: build/hls/<top>/ (IP in prj/zcu104/impl/ip, reports in reports/).
set -euo pipefail
cd "$(dirname "$0")/.."

die() { echo "build_hls: $*" >&2; exit 1; }
command -v vitis_hls >/dev/null 2>&1 ||
    die "vitis_hls not on PATH; source <Xilinx>/Vitis_HLS/<version>/settings64.sh first"

# The IP must come from the same release as the Vivado that builds the overlay
# (newer IP is locked in an older Vivado), so warn early on a mismatch.
if command -v tclsh >/dev/null 2>&1; then
    pin=$(echo 'source overlays/zcu104/vivado_pin.tcl; puts [spynq_pin::vivado]' | tclsh)
    vitis_hls -version 2>/dev/null | grep -q "v${pin}" ||
        echo "build_hls: WARNING vitis_hls is not ${pin}, the release pinned for the overlay" >&2
fi

if [ $# -eq 0 ]; then
    set -- $(for f in hls/*/run_hls.tcl; do basename "$(dirname "$f")"; done)
fi
mkdir -p build/logs
for k in "$@"; do
    [ -f "hls/$k/run_hls.tcl" ] || die "no hls/$k/run_hls.tcl (kernels: $(ls -d hls/*/run_hls.tcl | cut -d/ -f2 | xargs))"
    # The csim/cosim testbench compares against the golden model's vectors.
    tb="$PWD/build/hls/$k/tb_data"
    PY=${PYTHON:-.venv/bin/python}
    "$PY" -m "spynq.$k.vectors" "$tb" || die "could not write test vectors (run make bootstrap first)"
    echo "build_hls: $k (log: build/logs/hls_$k.log)"
    SPYNQ_TB_DATA="$tb" vitis_hls -f "hls/$k/run_hls.tcl" -l "build/logs/hls_$k.log"
done
