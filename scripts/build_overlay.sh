#!/usr/bin/env bash
# Build the ZCU104 overlay (overlays/zcu104/spynq.bit + spynq.hwh) with Vivado:
#   scripts/build_overlay.sh            JOBS=8 scripts/build_overlay.sh
# Needs the kernels' HLS IP first (scripts/build_hls.sh). The Vivado release must be
# the one pinned in overlays/zcu104/vivado_pin.tcl; the Tcl checks and says so.
set -euo pipefail
cd "$(dirname "$0")/.."

command -v vivado >/dev/null 2>&1 || {
    echo "build_overlay: vivado not on PATH; source <Xilinx>/Vivado/<version>/settings64.sh first" >&2
    exit 1
}
mkdir -p build/logs
vivado -mode batch -nojournal -log build/logs/vivado_overlay.log \
    -source overlays/zcu104/build_overlay.tcl -tclargs "${JOBS:-4}"
ls -l overlays/zcu104/spynq.bit overlays/zcu104/spynq.hwh
