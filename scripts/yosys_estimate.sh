#!/usr/bin/env bash
# Rough LUT/FF/DSP/BRAM estimate of each rtl/*.v with open tools (Debian yosys 0.23+,
# `synth_xilinx -family xcup`), for review without Vivado. Vivado's numbers differ
# (better packing, real carry chains); use them for the overlay's utilisation.
#   scripts/yosys_estimate.sh [file.v ...]     -> table on stdout, logs in build/yosys/
set -euo pipefail
cd "$(dirname "$0")/.."
command -v yosys >/dev/null 2>&1 || { echo "yosys_estimate: yosys not installed (apt-get install yosys)" >&2; exit 1; }

[ $# -gt 0 ] || set -- rtl/*.v
mkdir -p build/yosys
printf '%-24s %6s %6s %6s %6s %6s\n' module LUT FF CARRY DSP BRAM36
for f in "$@"; do
    top=$(basename "$f" .v)  # convention: one module per file, named like the file
    stat=build/yosys/$top.stat
    # -noiopad: the module sits inside the block design, so no I/O buffers
    yosys -q -l "build/yosys/$top.log" -p "read_verilog $f; synth_xilinx -family xcup -top $top -flatten -noiopad; tee -q -o $stat stat"
    awk -v m="$top" '
        $1 ~ /^LUT[1-6]$/        { lut += $2 }
        $1 ~ /^FD[CPRS]E?$/      { ff += $2 }
        $1 ~ /^CARRY[48]$/       { carry += $2 }
        $1 ~ /^DSP48E[12]$/      { dsp += $2 }
        $1 ~ /^RAMB36E[12]$/     { bram += $2 }
        $1 ~ /^RAMB18E[12]$/     { bram += $2 / 2 }
        END { printf "%-24s %6d %6d %6d %6d %6.1f\n", m, lut, ff, carry, dsp, bram }' "$stat"
done
