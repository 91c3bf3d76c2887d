#!/usr/bin/env bash
# Build the spynq wheel for the board (or any machine without the repo):
#   scripts/build_wheel.sh                  -> build/wheel/spynq-<version>-py3-none-any.whl
#   WHEEL_DIR=/tmp/w scripts/build_wheel.sh (build there; the last line printed is the wheel)
#   PYTHON=... (default .venv/bin/python), WHEEL_BACKEND=dir (default build/wheel-backend, below)
# The package reads repo files at run time (hls/ headers and kernel sources, overlays.json)
# and users want the notebooks and any built overlay: they are staged into a copy of the
# package as spynq/_data/<repo path> (spynq.hw.cconfig.repo_path finds them there when no
# checkout is around). A fresh copy each time, so no stale or git-ignored file gets in.
set -euo pipefail
cd "$(dirname "$0")/.."

die() { echo "build_wheel: $*" >&2; exit 1; }
PY=${PYTHON:-}
[ -n "$PY" ] || { [ -x .venv/bin/python ] && PY=.venv/bin/python || PY=python3; }
case $PY in /*) ;; */*) PY=$PWD/$PY ;; esac  # the build runs from the staged copy
OUT=${WHEEL_DIR:-build/wheel}
SRC="$OUT/src"

rm -rf "$SRC"
mkdir -p "$SRC"
SRC=$(cd "$SRC" && pwd)
tar -c --exclude=__pycache__ --exclude='*.pyc' --exclude=_data pyproject.toml host/spynq sim/spynq_sim \
    | tar -x -C "$SRC"

# What the package reads or ships (one list): header constants, schedules and ledger inputs
# (kernel.h, config.h, _top.cpp), C-simulation sources, the overlay table, notebooks,
# and the bitstreams with their .hwh when scripts/build_overlay.sh has left them here.
shopt -s nullglob
data=(hls/*/*.h hls/*/*_top.cpp hls/*/*_csim_bridge.cpp
      overlays/zcu104/overlays.json overlays/zcu104/notebooks/*.ipynb
      overlays/zcu104/spynq_*.bit overlays/zcu104/spynq_*.hwh)
shopt -u nullglob
[ -f overlays/zcu104/overlays.json ] || die "overlays/zcu104/overlays.json missing: run from a spynq checkout"
for f in "${data[@]}"; do
    mkdir -p "$SRC/host/spynq/_data/$(dirname "$f")"
    cp "$f" "$SRC/host/spynq/_data/$f"
done
bits=$(printf '%s\n' "${data[@]}" | grep -c '\.bit$' || true)
echo "build_wheel: staged ${#data[@]} data files ($bits bitstream(s)) into spynq/_data" >&2

# The build backend's PEP 517 hook (what pip and `python -m build` call), run directly: no
# build env, no index, a second. Its setuptools must be >= 64 (pyproject.toml) and write
# wheels (>= 70.1, or the `wheel` package beside it); else a setuptools is fetched once and
# unpacked into WHEEL_BACKEND.
backend=
if ! "$PY" - 2>/dev/null <<'PYEOF'
import setuptools
assert tuple(int(x) for x in setuptools.__version__.split(".")[:2]) >= (64, 0)
try:
    import setuptools.command.bdist_wheel
except ImportError:
    import wheel
PYEOF
then
    backend=${WHEEL_BACKEND:-$PWD/build/wheel-backend}/setuptools
    if [ ! -d "$backend/setuptools" ]; then
        echo "build_wheel: $PY cannot build the wheel (setuptools < 64, or < 70.1 without 'wheel'): fetching setuptools" >&2
        tmp=$(mktemp -d)
        "$PY" -m pip download -q --no-deps --only-binary=:all: -d "$tmp" "setuptools>=70.1" >&2 \
            || die "cannot fetch setuptools (offline?): install 'wheel' into $PY, or setuptools >= 70.1"
        rm -rf "$backend" && mkdir -p "$backend"
        "$PY" -c 'import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])' "$tmp"/setuptools-*.whl "$backend"
        rm -rf "$tmp"
    fi
fi
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
name=$(cd "$SRC" && PYTHONPATH="$backend${PYTHONPATH:+:$PYTHONPATH}" "$PY" -c '
import contextlib, sys
from setuptools import build_meta
with contextlib.redirect_stdout(sys.stderr):  # its log; stdout: the wheel name only
    name = build_meta.build_wheel(sys.argv[1])
print(name)' "$OUT" 2>"$SRC/build.log") || { cat "$SRC/build.log" >&2; die "the wheel build failed"; }
whl="$OUT/$name"
[[ "$name" == spynq-*.whl && -f "$whl" ]] || { cat "$SRC/build.log" >&2; die "the build gave '$name', not spynq"; }
echo "build_wheel: $(du -h "$whl" | cut -f1) $whl" >&2
echo "$whl"
