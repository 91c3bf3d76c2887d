#!/usr/bin/env bash
# Install spynq on a ZCU104 running the PYNQ image, from a workstation:
#   BOARD=xilinx@192.168.2.99 scripts/deploy_board.sh
#   DRY_RUN=1 BOARD=xilinx@pynq scripts/deploy_board.sh     (print the commands only)
#   OVERLAY=stm scripts/deploy_board.sh                     (the overlay to check for; default all)
# Builds the wheel (scripts/build_wheel.sh: the package with the hls headers, overlays.json,
# the notebooks and every overlays/zcu104/spynq_*.bit/.hwh built here), copies it over and
# installs it into the image's pynq-venv as root, the user Jupyter runs as, offline and
# without touching the image's numpy/scipy/matplotlib/pynq (--no-deps; the image's setuptools
# cannot build, --no-build-isolation --no-index keeps pip from trying). The notebooks also
# go to DEST (default /home/xilinx/jupyter_notebooks/spynq) for Jupyter.
set -euo pipefail
cd "$(dirname "$0")/.."

die() { echo "deploy_board: $*" >&2; exit 1; }
[ -n "${BOARD:-}" ] || die "set BOARD=user@host (e.g. BOARD=xilinx@192.168.2.99)"
DEST=${DEST:-/home/xilinx/jupyter_notebooks/spynq}
OVERLAY=${OVERLAY:-all}
DRY=${DRY_RUN:-0}

run() {
    if [ "$DRY" = 1 ]; then echo "+ $*"; else "$@"; fi
}

bit=overlays/zcu104/spynq_$OVERLAY.bit
hwh=overlays/zcu104/spynq_$OVERLAY.hwh
if [ -f "$bit" ]; then
    [ -f "$hwh" ] || die "$bit without $hwh (pynq needs both): rebuild with scripts/build_overlay.sh $OVERLAY"
    echo "deploy_board: the wheel carries $bit and $hwh"
else
    echo "deploy_board: no $bit / $hwh (scripts/build_overlay.sh $OVERLAY on a Vivado machine):" \
         "the board gets the package and notebooks; the fpga backend needs them"
fi
if [ "$DRY" != 1 ]; then
    command -v ssh >/dev/null 2>&1 || die "ssh not found"
fi

version=$(sed -n 's/^version = "\(.*\)"/\1/p' pyproject.toml)
whl=build/wheel/spynq-$version-py3-none-any.whl
if [ "$DRY" = 1 ]; then
    echo "+ scripts/build_wheel.sh"
else
    whl=$(scripts/build_wheel.sh | tail -1)
fi
remote_whl=/tmp/$(basename "$whl")

# pynq-venv is root's (Jupyter and /dev/mem need root); as another user pip would fall back
# to ~/.local, which root's Jupyter kernel never sees.
install="source /etc/profile.d/pynq_venv.sh && python3 -m pip install --no-deps --no-build-isolation --no-index --force-reinstall '$remote_whl' && python3 -c 'import spynq.stm.backends, spynq.lif.backends, spynq.snnwm.backends, spynq; print(spynq.__file__)'"
if [ "${BOARD%%@*}" = root ]; then
    remote="bash -c \"$install\""
else
    remote="sudo -H bash -c \"$install\""
fi

run scp "$whl" "$BOARD:$remote_whl"
run ssh -t "$BOARD" "$remote"
notebooks=(overlays/zcu104/notebooks/*.ipynb)
if [ -e "${notebooks[0]}" ]; then
    run ssh "$BOARD" "mkdir -p '$DEST'"
    run scp "${notebooks[@]}" "$BOARD:$DEST/"
fi
echo "deploy_board: spynq $version installed on $BOARD (pynq-venv); notebooks in $DEST"
