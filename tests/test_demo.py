"""`spynq demo` (make demo): all three kernels on the best backend and golden, one CPU-vs-FPGA
table (estimated here, with its label; measured and checked bit for bit against golden on a
board), the plots and a one-page summary that links them; `make demo` on a board uses the
image's Python and never the workstation bootstrap."""
import dataclasses
import json
import os
import re
import subprocess
from pathlib import Path

import numpy as np
import pytest

from spynq import demo
from spynq.cli import main

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def quick_demo(tmp_path_factory):
    import contextlib
    import io

    out = tmp_path_factory.mktemp("demo")
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        assert main(["demo", "--quick", "--out", str(out)]) == 0
    return out, buf.getvalue()


def test_demo_runs_every_kernel_and_writes_the_table(quick_demo):
    from spynq.hw.platform import PL_CLOCK_HZ
    from spynq.lif import cycles as lif_cycles
    from spynq.snnwm import cycles as snnwm_cycles
    from spynq.stm import cycles as stm_cycles

    out, printed = quick_demo
    doc = json.loads((out / "table.json").read_text())
    rows = doc["rows"]
    assert {(r["kernel"], r["workload"]) for r in rows} == {
        ("stm", "two_layer_causal"), ("stm", "multi_layer_causal"), ("stm", "visual_auditory_haptic"),
        ("stm", "visual_haptic"), ("lif_delay", "jeffress"), ("lif_delay", "speech_shape"), ("snnwm", "window_layer")}
    assert doc["meta"]["backend"] == "cpu"  # no board here
    labels = {"stm": stm_cycles.SCHEDULE.label, "lif_delay": lif_cycles.SCHEDULE.label,
              "snnwm": snnwm_cycles.SCHEDULE.label}
    for r in rows:
        # off the board the FPGA column is the cycle model, said so, at the platform clock
        assert r["fpga_source"] == labels[r["kernel"]] and r["fpga_source"].startswith("estimated")
        assert r["fpga_s"] == pytest.approx(r["fpga_cycles"] / PL_CLOCK_HZ)
        assert r["bit_exact"] is None and r["fpga_j"] is None and r["cpu_j"] is None and r["energy_why"]
        assert r["cpu_s"] > 0 and r["golden_s"] > 0
    md = (out / "table.md").read_text()
    assert "FPGA estimated (ms)" in md and "estimated (designed II table" in md and "energy missing" in md
    assert md.split("\n", 2)[2].strip() in printed  # the table is printed too
    # progress: one line per step with the elapsed time
    steps = re.findall(r"^\[demo +(\d+\.\d) s\] ", printed, re.M)
    assert len(steps) >= 10 and [float(s) for s in steps] == sorted(float(s) for s in steps)


def test_demo_results_are_the_demonstrations(quick_demo):
    out, _ = quick_demo
    res = json.loads((out / "results.json").read_text())
    metric = {(r["kernel"], r["workload"]): r["metric"] for r in res["rows"]}
    # noise-free Jeffress detectors estimate every ITD exactly, float and fixed point
    assert metric[("lif_delay", "jeffress")] == {"cpu": 1.0, "golden": 1.0}
    assert res["jeffress"]["golden"]["clean"]["exact"] == 1.0
    # the fixed-point STM posterior is as close to the exact one as the float one (N = 300)
    for w in ("two_layer_causal", "multi_layer_causal"):
        m = metric[("stm", w)]
        assert m["golden"] < 0.05 and abs(m["golden"] - m["cpu"]) < 0.005, (w, m)
    assert set(res["gesture"]) == {"cpu", "golden"}


def test_summary_links_every_file_it_names(quick_demo):
    out, _ = quick_demo
    index = (out / "index.md").read_text()
    links = set(re.findall(r"\]\(([^)]+)\)", index))
    assert {"table.md", "table.json", "results.json", "cpu_vs_fpga.png", "stm_error_vs_samples.png",
            "stm_multisensory.png", "lif_jeffress.png", "lif_speech_rasters.png", "snnwm_opcounts.png"} <= links
    for name in links:
        f = out / name
        assert f.is_file() and f.stat().st_size > 0, name
        if name.endswith(".png"):
            assert f.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", name


class _FakeOverlay:
    clock_mhz = 150.0


def test_board_rows_are_measured_and_checked_against_golden():
    """The board path of a row with a stand-in FPGA (golden's words, a timer's source): a
    run equal to golden is reported bit-exact and measured; one flipped word is caught."""
    case = demo.jeffress_case(17, T=64)

    def fpga(flip):
        def run(backend, **o):
            if backend != "fpga":
                return case.run(backend)
            assert o.get("ol") is ol
            r = case.run("golden")
            if flip:
                r.raw["out"][0] = np.asarray(r.raw["out"][0]).copy()
                r.raw["out"][0][-1] ^= 1
            r.info.update(source="measured: test timer", cycles=1234, host_seconds=1e-3)
            r.seconds = 1234 / 150e6
            return r
        return dataclasses.replace(case, run=run)

    ol = _FakeOverlay()
    good = demo.evaluate(fpga(False), "fpga", ol, repeats=2)
    assert good.bit_exact is True and good.fpga_source == "measured: test timer"
    assert good.fpga_s == pytest.approx(1234 / 150e6) and good.fpga_cycles == 1234
    # the estimate beside it uses the board's clock, not the designed one
    assert good.fpga_estimated_s == pytest.approx(case.cycles(case.golden) / 150e6)
    assert "FPGA measured (ms)" in demo.table_markdown([good])
    bad = demo.evaluate(fpga(True), "fpga", ol, repeats=2)
    assert bad.bit_exact is False and "**NO**" in demo.table_markdown([bad])


def test_make_demo_on_a_board_uses_the_image_python_without_bootstrap(tmp_path):
    """A stand-in for the image's /etc/profile.d/pynq_venv.sh puts a python3 first on PATH
    that records its arguments: make demo and make bench must call it, never
    scripts/bootstrap.sh."""
    bindir = tmp_path / "bin"
    bindir.mkdir()
    log = tmp_path / "calls"
    (bindir / "python3").write_text(f'#!/bin/bash\necho "python3 $*" >> {log}\n')
    (bindir / "python3").chmod(0o755)
    venv_sh = tmp_path / "pynq_venv.sh"
    venv_sh.write_text(f'export PATH="{bindir}:$PATH"\n')
    p = subprocess.run(["make", "-s", "demo", f"PYNQ_VENV_SH={venv_sh}"], cwd=REPO, capture_output=True, text=True,
                       timeout=60, env=dict(os.environ))
    assert p.returncode == 0, p.stderr
    assert "[bootstrap]" not in p.stdout + p.stderr and "PYNQ board" in p.stdout
    assert "python3 -m spynq demo --out build/demo" in log.read_text().splitlines()
    p = subprocess.run(["make", "-s", "bench", f"PYNQ_VENV_SH={venv_sh}"], cwd=REPO, capture_output=True, text=True,
                       timeout=60, env=dict(os.environ))
    assert p.returncode == 0 and "[bootstrap]" not in p.stdout + p.stderr, p.stderr
    assert "python3 -m spynq bench stm --out build/bench" in log.read_text().splitlines()
