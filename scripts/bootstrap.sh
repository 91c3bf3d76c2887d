#!/usr/bin/env bash
# Create .venv with the pinned environment and fetch the open ap_types headers.
# Idempotent: a stamp holding the hash of requirements.txt + pyproject.toml skips
# the pip step when nothing changed.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
VENV=.venv
DEPS=.deps

# Debian tools the tests use: tclsh (Tcl stub checks), yosys (RTL resource estimates), an
# aarch64 cross g++ and qemu-user (the native CPU baselines built for the board's Cortex-A53
# give the same bits as here; about 45 MB of packages).
need=()
command -v tclsh >/dev/null || need+=(tcl)
command -v yosys >/dev/null || need+=(yosys)
command -v aarch64-linux-gnu-g++ >/dev/null || need+=(g++-aarch64-linux-gnu)
command -v qemu-aarch64 >/dev/null || need+=(qemu-user)
if [ ${#need[@]} -gt 0 ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        echo "[bootstrap] apt-get install ${need[*]}"
        # a package the mirror lacks must not stop the bootstrap: the tests that need it skip
        if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null; }; then
            echo "[bootstrap] apt-get could not install ${need[*]}; the tests that need them skip"
        fi
    else
        echo "[bootstrap] missing ${need[*]}: install them (e.g. sudo apt-get install ${need[*]}); their tests skip"
    fi
fi

if [ ! -x "$VENV/bin/python" ]; then
    echo "[bootstrap] creating $VENV"
    "$PY" -m venv "$VENV"
fi
stamp="$VENV/.spynq-stamp"
want=$(cat requirements.txt pyproject.toml | sha256sum | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    echo "[bootstrap] installing pinned packages"
    "$VENV/bin/python" -m pip install -q --upgrade pip
    "$VENV/bin/python" -m pip install -q -r requirements.txt
    "$VENV/bin/python" -m pip install -q --no-deps -e .
    echo "$want" > "$stamp"
fi

# ap_int/ap_fixed headers: Vitis' own when installed, else the open copy in the hls4ml wheel.
if [ -n "${XILINX_HLS:-}" ] && [ -f "$XILINX_HLS/include/ap_fixed.h" ]; then
    echo "[bootstrap] using ap_types from $XILINX_HLS/include"
elif [ ! -f "$DEPS/ap_types/ap_fixed.h" ]; then
    echo "[bootstrap] fetching ap_types headers (hls4ml wheel)"
    tmp=$(mktemp -d)
    "$VENV/bin/python" -m pip download -q --no-deps hls4ml==1.3.0 -d "$tmp"
    mkdir -p "$DEPS"
    "$VENV/bin/python" - "$tmp"/hls4ml-*.whl "$DEPS" <<'PYEOF'
import sys, zipfile, pathlib
whl, out = sys.argv[1], pathlib.Path(sys.argv[2])
prefix = "hls4ml/templates/vivado/ap_types/"
with zipfile.ZipFile(whl) as z:
    for name in z.namelist():
        if name.startswith(prefix) and not name.endswith("/"):
            dst = out / "ap_types" / name[len(prefix):]
            dst.parent.mkdir(parents=True, exist_ok=True)
            dst.write_bytes(z.read(name))
PYEOF
    rm -rf "$tmp"
fi
# The PYNQ-image test (tests/test_board_image.py) needs a Python 3.10: which one, or why it skips.
echo "[bootstrap] board-image test: $("$VENV/bin/python" tests/test_board_image.py --find-python || true)"
echo "[bootstrap] ready"
