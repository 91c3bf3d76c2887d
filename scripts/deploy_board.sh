#!/usr/bin/env bash
# Copy the overlay, its notebooks and the spynq package to a ZCU104 running PYNQ:
#   BOARD=xilinx@192.168.2.99 scripts/deploy_board.sh
#   DRY_RUN=1 BOARD=xilinx@pynq scripts/deploy_board.sh     (print the commands only)
#   OVERLAY=stm scripts/deploy_board.sh                     (default: all)
# DEST (default /home/xilinx/jupyter_notebooks/spynq) keeps the repo layout, so the
# loader finds overlays/zcu104/spynq_<overlay>.bit there as it does in the repo.
set -euo pipefail
cd "$(dirname "$0")/.."

die() { echo "deploy_board: $*" >&2; exit 1; }
[ -n "${BOARD:-}" ] || die "set BOARD=user@host (e.g. BOARD=xilinx@192.168.2.99)"
DEST=${DEST:-/home/xilinx/jupyter_notebooks/spynq}
DRY=${DRY_RUN:-0}

run() {
    if [ "$DRY" = 1 ]; then echo "+ $*"; else "$@"; fi
}

# the whole package as pyproject.toml declares it, so `pip install` works there too
OVERLAY=${OVERLAY:-all}
items=(overlays/zcu104/spynq_$OVERLAY.bit overlays/zcu104/spynq_$OVERLAY.hwh overlays/zcu104/overlays.json
       host/spynq sim/spynq_sim pyproject.toml)
[ -d overlays/zcu104/notebooks ] && items+=(overlays/zcu104/notebooks)
if [ "$DRY" != 1 ]; then
    for f in "${items[@]}"; do
        [ -e "$f" ] || die "missing $f (build the overlay first: scripts/build_overlay.sh $OVERLAY)"
    done
    command -v ssh >/dev/null 2>&1 || die "ssh not found"
fi

run ssh "$BOARD" "mkdir -p '$DEST/overlays/zcu104' '$DEST/host' '$DEST/sim'"
if command -v rsync >/dev/null 2>&1; then
    # -R keeps each path relative to the repo root under DEST
    run rsync -aR --exclude __pycache__ "${items[@]}" "$BOARD:$DEST/"
else
    for f in "${items[@]}"; do
        run scp -r "$f" "$BOARD:$DEST/$(dirname "$f")/"
    done
fi
echo "deploy_board: copied to $BOARD:$DEST"
echo "deploy_board: on the board, in the PYNQ venv (source /etc/profile.d/pynq_venv.sh):"
echo "    cd $DEST && python3 -m pip install --no-deps -e ."
