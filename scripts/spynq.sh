#!/usr/bin/env bash
# Run `python -m spynq ARGS` on the right Python (make demo, make bench):
# on a PYNQ board (the image's pynq-venv, or a system python with pynq and no .venv here)
# the image's Python, never the workstation bootstrap (its pins cannot install there);
# elsewhere scripts/bootstrap.sh, then .venv. PYNQ_VENV_SH: where the image's venv script is.
set -euo pipefail
cd "$(dirname "$0")/.."
PYNQ_VENV_SH=${PYNQ_VENV_SH:-/etc/profile.d/pynq_venv.sh}
if [ -f "$PYNQ_VENV_SH" ] || { [ ! -d .venv ] && python3 -c "import pynq" 2>/dev/null; }; then
    echo "[spynq] PYNQ board: the image's Python, no bootstrap"
    # shellcheck disable=SC1090
    if [ -f "$PYNQ_VENV_SH" ]; then source "$PYNQ_VENV_SH"; fi
    [ "$(id -u)" = 0 ] || echo "[spynq] not root: pynq cannot open the PL, so this runs on the cpu (sudo -E make ...)"
    python3 -c "import spynq" 2>/dev/null || export PYTHONPATH="$PWD/host${PYTHONPATH:+:$PYTHONPATH}"
    exec python3 -m spynq "$@"
fi
bash scripts/bootstrap.sh
exec .venv/bin/python -m spynq "$@"
