#!/usr/bin/env bash
# Build the HLS IP of the kernels of one or more overlays with Vitis HLS, each kernel with
# the parameters its overlay gives it (overlays/zcu104/overlays.json):
#   scripts/build_hls.sh [overlay ...]           (default: every overlay)
#   KERNELS="stm" scripts/build_hls.sh all        only these kernels of the overlay
#   SPYNQ_HLS_STEPS="csim csynth" scripts/build_hls.sh stm
# Products: build/hls/<overlay>/<top>/ (IP in prj/zcu104/impl/ip, csynth reports in
# reports/, where spynq.hw.schedule and `spynq resources` read them).
set -euo pipefail
cd "$(dirname "$0")/.."

die() { echo "build_hls: $*" >&2; exit 1; }
PY=${PYTHON:-.venv/bin/python}
"$PY" -c "import spynq" 2>/dev/null || die "$PY cannot import spynq (run make bootstrap first)"
command -v vitis_hls >/dev/null 2>&1 ||
    die "vitis_hls not on PATH; source <Xilinx>/Vitis_HLS/<version>/settings64.sh first"

# The IP must come from the same release as the Vivado that builds the overlay
# (newer IP is locked in an older Vivado), so warn early on a mismatch.
if command -v tclsh >/dev/null 2>&1; then
    pin=$(echo 'source overlays/zcu104/vivado_pin.tcl; puts [spynq_pin::vivado]' | tclsh)
    vitis_hls -version 2>/dev/null | grep -q "v${pin}" ||
        echo "build_hls: WARNING vitis_hls is not ${pin}, the release pinned for the overlay" >&2
fi

[ $# -gt 0 ] || set -- $("$PY" -m spynq.overlays names)
mkdir -p build/logs
for ov in "$@"; do
    kernels=${KERNELS:-$("$PY" -m spynq.overlays kernels "$ov")} || die "unknown overlay $ov"
    for k in $kernels; do
        [ -f "hls/$k/run_hls.tcl" ] || die "no hls/$k/run_hls.tcl"
        defines=$("$PY" -m spynq.overlays defines "$ov" "$k")
        # The csim/cosim testbench compares against the golden model's vectors.
        tb="$PWD/build/hls/$ov/tb_data_$k"
        pkg=$("$PY" -c "from spynq.kernels import PACKAGES; print(PACKAGES['$k'])")
        "$PY" -m "spynq.$pkg.vectors" "$tb" || die "could not write test vectors for $k"
        echo "build_hls: $k for overlay $ov ($defines) (log: build/logs/hls_${ov}_$k.log)"
        SPYNQ_TB_DATA="$tb" SPYNQ_HLS_OVERLAY="$ov" SPYNQ_HLS_DEFINES="$defines" \
            vitis_hls -f "hls/$k/run_hls.tcl" -l "build/logs/hls_${ov}_$k.log"
    done
done
