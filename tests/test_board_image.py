"""spynq on the PYNQ 3.0.1 ZCU104 image's Python stack, installed from its wheel, offline.

A venv reproduces the image (CPython 3.10, numpy 1.21.5, scipy 1.8.0, matplotlib 3.5.1 from
Ubuntu 22.04; pip 22.0.2, setuptools 59.6.0; pynq 3.0.1), cached under build/board-image/
by those versions. The wheel of scripts/build_wheel.sh installs there by the command
scripts/deploy_board.sh runs on the board (`pip install --no-deps --no-build-isolation
--no-index` in the pynq-venv), and the same smoke script then runs there, from a folder
outside the repo, and here in the repo venv: every kernel's cpu and golden backends, the
loop schedules, the resource ledger, every notebook on its off-board fallback path. The
integer results (packed buffers, golden out words, spikes, counts, status, the cpu's MAP
states) must agree bit for bit between the two.

Python 3.10 comes from pyenv (`pyenv root`/versions/3.10.*), python3.10 on PATH, or
SPYNQ_PYTHON310; without one the test skips and says so. `python tests/test_board_image.py
--find-python` prints which one it uses (scripts/bootstrap.sh reports it).
"""
from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
# The image's versions: PYNQ v3.0.1 sdbuild (Ubuntu jammy python3-numpy/-scipy/-matplotlib in
# a --system-site-packages venv; pip and setuptools pinned there). `wheel` is jammy's
# python3-wheel: pynq 3.0.1 is an sdist on PyPI, which pip 22 builds with setup.py
# bdist_wheel (about 15 s, nothing compiled on x86: its C libraries build only on arm).
IMAGE = {"pip": "22.0.2", "setuptools": "59.6.0", "wheel": "0.37.1",
         "numpy": "1.21.5", "scipy": "1.8.0", "matplotlib": "3.5.1", "pynq": "3.0.1"}
VENV_ROOT = REPO / "build" / "board-image"
PIP_NET = ["--timeout", "60", "--retries", "3"]  # a dead network fails in minutes, not 15
NET_ERROR = re.compile(r"NewConnectionError|Temporary failure in name resolution|Network is unreachable|"
                       r"Could not fetch URL|ConnectTimeout|Max retries exceeded")


def find_python310() -> tuple[str | None, str]:
    """(interpreter, "3.10.x") or (None, why there is none)."""
    cands = [os.environ["SPYNQ_PYTHON310"]] if os.environ.get("SPYNQ_PYTHON310") else []
    try:
        root = subprocess.run(["pyenv", "root"], capture_output=True, text=True, timeout=30).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        root = ""
    if root:
        vers = [p for p in Path(root, "versions").glob("3.10.*") if re.fullmatch(r"3\.10\.\d+", p.name)]
        cands += [str(p / "bin" / "python3.10") for p in sorted(vers, key=lambda p: -int(p.name.split(".")[2]))]
    if shutil.which("python3.10"):
        cands.append(shutil.which("python3.10"))
    for c in cands:
        try:
            p = subprocess.run([c, "-c", "import sys, venv, ensurepip; print('%d.%d.%d' % sys.version_info[:3])"],
                               capture_output=True, text=True, timeout=30)
        except (OSError, subprocess.TimeoutExpired):
            continue
        if p.returncode == 0 and p.stdout.startswith("3.10."):
            return c, p.stdout.strip()
    return None, ("no Python 3.10 with venv/ensurepip (pyenv versions/3.10.*, python3.10 on PATH or "
                  "SPYNQ_PYTHON310): `pyenv install 3.10` to run the PYNQ-image test")


def _run(cmd, timeout, **kw):
    try:
        return subprocess.run([str(c) for c in cmd], capture_output=True, text=True, timeout=timeout, **kw)
    except subprocess.TimeoutExpired:
        pytest.fail(f"{' '.join(map(str, cmd[:6]))} ... did not finish within {timeout} s")


def image_venv(py: str, version: str) -> Path:
    """The image's interpreter in a venv, created once per set of versions (locked, so two
    sessions never build it at once; a half-built one is rebuilt)."""
    import fcntl

    key = hashlib.sha256(json.dumps([version, IMAGE], sort_keys=True).encode()).hexdigest()[:10]
    root = VENV_ROOT / f"py{version}-{key}"
    python = root / "bin" / "python"
    VENV_ROOT.mkdir(parents=True, exist_ok=True)
    with open(VENV_ROOT / f"{root.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if (root / "ready").exists():
            return python
        shutil.rmtree(root, ignore_errors=True)
        p = _run([py, "-m", "venv", root], 180)
        assert p.returncode == 0, f"python -m venv failed:\n{p.stderr[-2000:]}"
        base = [f"{k}=={IMAGE[k]}" for k in ("pip", "setuptools", "wheel")]
        rest = [f"{k}=={v}" for k, v in IMAGE.items() if k not in ("pip", "setuptools", "wheel")]
        for reqs in (base, rest):  # pip 22.0.2 itself installs the image's packages, as on the image
            p = _run([python, "-m", "pip", "install", "-q", *PIP_NET, *reqs], 1200)
            if p.returncode and NET_ERROR.search(p.stdout + p.stderr):
                pytest.skip(f"PyPI unreachable, cannot build the image venv: {(p.stdout + p.stderr)[-300:]}")
            assert p.returncode == 0, f"pip install {' '.join(reqs)} failed:\n{(p.stdout + p.stderr)[-3000:]}"
        freeze = _run([python, "-m", "pip", "list", "--format=freeze"], 120).stdout
        got = dict(line.split("==", 1) for line in freeze.splitlines() if "==" in line)
        for k, v in IMAGE.items():
            assert got.get(k) == v, f"image venv has {k} {got.get(k)}, the image {v}"
        (root / "ready").write_text(freeze)
    return python


# The smoke script: stdlib, numpy and spynq only, so it runs unchanged in both venvs.
# argv[1]: an .npz for the integer results; prints a JSON line of facts about the install.
SMOKE = r'''
import ast, json, sys
from pathlib import Path
import numpy as np

import spynq
from spynq.hw import cconfig, schedule
from spynq.kernels import KERNELS
from spynq.hw.board import resolve_backend
from spynq import overlays, resources
from spynq.stm import backends as stm, encode as stm_encode, workloads
from spynq.lif import backends as lif, model as lif_model, encode as lif_encode
from spynq.snnwm import backends as snnwm, model as snnwm_model

out = {}

wl = workloads.two_layer_causal()
pops = wl.network.sample(300, seed=0)
ev = wl.evidence(4, seed=1)
packed = stm_encode.pack_network(wl.network, pops)
out["stm_in_net"], out["stm_in_ev"] = packed.net, stm_encode.pack_evidence(wl.network, ev)
g, c = stm.infer(wl.network, pops, ev, "golden"), stm.infer(wl.network, pops, ev, "cpu")
out["stm_golden_raw"], out["stm_golden_status"], out["stm_golden_uf"] = g.raw_weights, g.status, g.underflows
out["stm_cpu_status"], out["stm_cpu_map"] = c.status, np.argmax(c.weights, axis=1)

rng = np.random.default_rng(5)
net = lif_model.random_network(rng, [12, 10, 6], "mixed", 20, weight_scale=3.0)
r = lif_model.random_rasters(rng, 2, 30, 12, 0.2)
out["lif_in_net"], out["lif_in_rasters"] = lif_encode.pack_network(net).net, lif_encode.pack_rasters(r)
g, c = lif.run(net, r, "golden"), lif.run(net, r, "cpu")
out["lif_golden_out"] = np.concatenate([np.asarray(o).ravel() for o in g.raw["out"]])
for name, res in (("golden", g), ("cpu", c)):
    for k, (s, n) in enumerate(zip(res.spikes, res.counts)):
        out[f"lif_{name}_spikes{k}"], out[f"lif_{name}_counts{k}"] = np.asarray(s), np.asarray(n)

rng = np.random.default_rng(6)
net = snnwm_model.random_network(rng, [10, 12, 8], 4, "mixed", True, 24, weight_scale=3.0)
r = snnwm_model.random_rasters(rng, 2, 24, 10, 0.3)
args = snnwm.packed_args(net, r)
out["snnwm_in_net"], out["snnwm_in_rasters"] = args[0], args[2]
g, c = snnwm.run(net, r, "golden"), snnwm.run(net, r, "cpu")
out["snnwm_golden_out"] = np.asarray(g.raw["out"])
for name, res in (("golden", g), ("cpu", c)):
    for k, s in enumerate(res.spikes):
        out[f"snnwm_{name}_spikes{k}"] = np.asarray(s)
    for k, stage in enumerate(res.counts):
        out[f"snnwm_{name}_counts{k}"] = np.array([stage[n] for n in sorted(stage)], np.int64)

np.savez(sys.argv[1], **{k: np.asarray(v) for k, v in out.items()})

# The notebooks as the package ships them, whole, on their off-board fallback path
# (session() finds no board: cpu and golden), cell after cell in one namespace, as
# Jupyter would run them on the image (plots go to the Agg backend here).
# Only on the image (argv[2] == "--notebooks"): tests/test_notebooks.py runs them here.
nb_dir = cconfig.repo_path("overlays/zcu104/notebooks")
notebooks = {}
for nb in sorted(nb_dir.glob("*.ipynb")) if sys.argv[2:] == ["--notebooks"] else ():
    import matplotlib
    matplotlib.use("Agg")
    code = [("".join(c["source"])) for c in json.loads(nb.read_text())["cells"] if c["cell_type"] == "code"]
    namespace = {"__name__": "__main__"}
    for i, src in enumerate(code):
        exec(compile(src, f"{nb.name} cell {i}", "exec"), namespace)
    notebooks[nb.name] = len(code)

print(json.dumps({
    "spynq": spynq.__file__, "hls_dir": str(cconfig.HLS_DIR), "data_dir": str(cconfig.DATA_DIR),
    "spec": str(overlays.SPEC), "overlays": list(overlays.names()), "auto": resolve_backend("auto"),
    "bitfile": str(overlays.bitfile("all")),
    "overlay_files": [p.exists() for p in (overlays.bitfile("all"), overlays.bitfile("all").with_suffix(".hwh"))],
    "numpy": np.__version__, "python": sys.version.split()[0], "notebooks": notebooks,
    "ledger": resources.as_json(overlays.names()),
    "schedules": {k: {n: [l.ii, l.depth] for n, l in schedule.declared(k).loops.items()} for k in KERNELS},
}))
'''


def test_wheel_installs_and_runs_on_the_pynq_image_stack(tmp_path):
    py, version = find_python310()
    if py is None:
        pytest.skip(version)
    t0 = time.perf_counter()
    python = image_venv(py, version)
    t_venv = time.perf_counter() - t0

    # The wheel, built from a copy of the checkout holding a stand-in bitstream pair (none is
    # built here, B3): a built overlay must ship and be found.
    src = tmp_path / "checkout"
    for d in ("scripts", "host/spynq", "sim/spynq_sim", "hls", "overlays/zcu104"):
        shutil.copytree(REPO / d, src / d, ignore=shutil.ignore_patterns("__pycache__", "_data"))
    shutil.copy(REPO / "pyproject.toml", src)
    for ext in (".bit", ".hwh"):
        (src / "overlays" / "zcu104" / f"spynq_all{ext}").write_text(f"stand-in {ext}")
    env = dict(os.environ, WHEEL_DIR=str(tmp_path / "wheel"), PYTHON=sys.executable,
               WHEEL_BACKEND=str(REPO / "build" / "wheel-backend"))  # fetched once, kept across runs
    p = _run([src / "scripts" / "build_wheel.sh"], 600, env=env)
    assert p.returncode == 0, f"build_wheel.sh failed:\n{p.stderr[-3000:]}"
    wheel = Path(p.stdout.strip().splitlines()[-1])
    # The install command scripts/deploy_board.sh runs on the board (as root: no sudo), with
    # this venv's activation for the image's /etc/profile.d/pynq_venv.sh and the wheel here:
    # offline, no build backend (setuptools 59.6 cannot build spynq), then the imports.
    plan = _run([REPO / "scripts" / "deploy_board.sh"], 60, env=dict(os.environ, DRY_RUN="1", BOARD="root@pynq"))
    assert plan.returncode == 0, plan.stderr
    remote_whl = re.search(r"^\+ scp \S+ root@pynq:(\S+\.whl)$", plan.stdout, re.M).group(1)
    remote = re.search(r"^\+ ssh -t root@pynq (.*)$", plan.stdout, re.M).group(1)
    assert "source /etc/profile.d/pynq_venv.sh" in remote and remote_whl in remote, remote
    remote = remote.replace("source /etc/profile.d/pynq_venv.sh", f"source {python.parent / 'activate'}")
    # as on the board: no repo on any path, no pip configuration (indexes, find-links) of this machine
    bare = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "PIP_"))}
    bare["PIP_CONFIG_FILE"] = os.devnull
    t1 = time.perf_counter()
    p = _run(["bash", "-c", remote.replace(remote_whl, str(wheel))], 300, cwd=tmp_path, env=bare)
    t_install = time.perf_counter() - t1
    assert p.returncode == 0, f"the deploy's install of {wheel.name} failed:\n{(p.stdout + p.stderr)[-3000:]}"
    assert str(python.parent.parent / "lib") in p.stdout.splitlines()[-1], p.stdout[-500:]
    # spynq's dependency bounds must be met by the image's own numpy/scipy/matplotlib
    check = _run([python, "-m", "pip", "check"], 120).stdout
    assert not [ln for ln in check.splitlines() if ln.startswith("spynq ")], check

    run_dir = tmp_path / "elsewhere"  # no repo around: not the cwd, not on the path
    run_dir.mkdir()
    (tmp_path / "smoke.py").write_text(SMOKE)
    p = _run([python, "-I", tmp_path / "smoke.py", tmp_path / "image.npz", "--notebooks"], 900, cwd=run_dir,
             env=dict(bare, MPLBACKEND="Agg"))
    assert p.returncode == 0, f"smoke run on the image stack failed:\n{p.stderr[-4000:]}"
    img = json.loads(p.stdout.strip().splitlines()[-1])

    site = Path(img["spynq"]).resolve().parents[1]
    assert site.name == "site-packages" and Path(python).parent.parent.resolve() in site.parents, img["spynq"]
    assert (img["python"], img["numpy"]) == (version, IMAGE["numpy"])
    assert img["hls_dir"] == str(Path(img["data_dir"]) / "hls"), "the wheel read hls/ from outside itself"
    assert img["spec"] == str(Path(img["data_dir"]) / "overlays" / "zcu104" / "overlays.json")
    assert img["auto"] == "cpu", "pynq 3.0.1 without a board must leave backend='auto' on the cpu"
    assert img["bitfile"] == str(Path(img["data_dir"]) / "overlays" / "zcu104" / "spynq_all.bit")
    assert img["overlay_files"] == [True, True], "the built overlay (.bit + .hwh) did not ship in the wheel"
    shipped = sorted(p.name for p in (REPO / "overlays" / "zcu104" / "notebooks").glob("*.ipynb"))
    assert sorted(img["notebooks"]) == shipped, "the wheel does not carry every notebook, or one failed"

    # the same script here (repo venv, numpy 1.26, the repo's files): bit for bit the same
    ns = {"__name__": "__smoke__"}
    argv, sys.argv = sys.argv, ["smoke", str(tmp_path / "repo.npz")]
    try:
        buf = io.StringIO()
        with contextlib.redirect_stdout(buf):
            exec(compile(SMOKE, "smoke.py", "exec"), ns)
    finally:
        sys.argv = argv
    here = json.loads(buf.getvalue().strip().splitlines()[-1])
    a, b = np.load(tmp_path / "image.npz"), np.load(tmp_path / "repo.npz")
    assert sorted(a.files) == sorted(b.files)
    inputs = [k for k in a.files if "_in_" in k]
    bad = [k for k in inputs if not np.array_equal(a[k], b[k])]
    assert not bad, f"packed inputs differ between numpy {IMAGE['numpy']} and {np.__version__}: {bad}"
    bad = [k for k in a.files if k not in inputs and not (a[k].dtype == b[k].dtype and np.array_equal(a[k], b[k]))]
    assert not bad, f"results differ between the image stack and the repo venv: {bad}"
    assert img["schedules"] == here["schedules"], "the loop schedules from the wheel differ from the repo's"
    if not list((REPO / "build" / "hls").glob("*/*/reports/*_csynth.xml")):  # csynth figures: repo only
        assert img["ledger"] == here["ledger"], "the resource ledger from the wheel differs from the repo's"
    print(f"\nboard image: venv {t_venv:.1f} s, wheel {wheel.stat().st_size / 1024:.0f} KiB, "
          f"offline install {t_install:.1f} s")


if __name__ == "__main__":  # scripts/bootstrap.sh: which Python 3.10 the image test uses
    if sys.argv[1:] == ["--find-python"]:
        py, what = find_python310()
        print(f"Python {what} at {py}" if py else f"skips: {what}")
    else:
        print("usage: python tests/test_board_image.py --find-python", file=sys.stderr)
        raise SystemExit(2)
