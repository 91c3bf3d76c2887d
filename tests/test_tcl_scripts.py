"""The Vitis HLS and Vivado Tcl scripts, run in plain tclsh with the tools stubbed.

scripts/tcl_stubs.tcl records every tool command; these tests check that each script
runs to its end with only vetted commands, that every file it names is in the repo or
is a build product, and that IP names, VLNVs, the kernel list, clock and bus widths
agree with the Python interface definitions. The real tools run in the tests marked
`vitis` / `vivado`, which skip when the tools are not on PATH.
"""
from __future__ import annotations

import importlib
import json
import os
import pkgutil
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from spynq.hw import platform
from spynq.hw.platform import PL_CLOCK_MHZ

import spynq
from spynq.hw import interface as hwif
from spynq.hw import perf_timer as pt

from conftest import require_tool

REPO = Path(__file__).resolve().parents[1]
STUBS = REPO / "scripts" / "tcl_stubs.tcl"
HLS_SCRIPTS = sorted(REPO.glob("hls/*/run_hls.tcl"))
OVERLAY_DIR = REPO / "overlays" / "zcu104"
OVERLAY = OVERLAY_DIR / "build_overlay.tcl"
SOLUTION = "zcu104"  # solution name in hls/common/run_hls_common.tcl
PINNED_VIVADO = "2022.1"  # PYNQ v3.0 ZCU104 image, see overlays/zcu104/vivado_pin.tcl

pytestmark = pytest.mark.skipif(shutil.which("tclsh") is None, reason="tclsh not installed")


def kernel_interfaces() -> dict[str, hwif.KernelInterface]:
    """Every KernelInterface defined in a spynq.<pkg>.interface module, by top name."""
    found = {}
    for mod in pkgutil.iter_modules(spynq.__path__):
        if not mod.ispkg:
            continue
        try:
            m = importlib.import_module(f"spynq.{mod.name}.interface")
        except ModuleNotFoundError:
            continue
        for v in vars(m).values():
            if isinstance(v, hwif.KernelInterface):
                found[v.top] = v
    return found


def run_stubbed(script: Path, tmp_path: Path, *args: str, env: dict | None = None) -> dict:
    """Run `script` under the stubs; return the JSON report (plus 'stdout')."""
    full_env = {k: v for k, v in os.environ.items()
                if k not in ("STUB_VIVADO_VERSION", "SPYNQ_PYNQ_IMAGE", "SPYNQ_HLS_STEPS",
                             "SPYNQ_HLS_TB_ARGV", "SPYNQ_HLS_EXPORT_FLOW")}
    full_env.update(SPYNQ_BUILD_DIR=str(tmp_path / "build"),
                    SPYNQ_OVERLAY_OUT=str(tmp_path / "out"))
    full_env.update(env or {})
    report = tmp_path / f"{script.stem}.{len(list(tmp_path.glob('*.json')))}.json"
    proc = subprocess.run(["tclsh", str(STUBS), str(report), str(script), *args], env=full_env,
                          cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert report.exists(), f"stub harness wrote no report:\n{proc.stdout}\n{proc.stderr}"
    result = json.loads(report.read_text())
    result["stdout"] = proc.stdout + proc.stderr
    assert (proc.returncode == 0) == result["completed"]
    return result


def calls(report: dict, cmd: str) -> list[list[str]]:
    return [c[1:] for c in report["calls"] if c[0] == cmd]


def plain(args: list[str]) -> list[str]:
    """Arguments that are neither options nor an option's value (for -cflags etc.)."""
    out, skip = [], False
    for a in args:
        if skip:
            skip = False
        elif a.startswith("-"):
            skip = a in ("-cflags", "-csimflags", "-fileset", "-of_objects")
        else:
            out.append(a)
    return out


def fake_build_products(build: Path, tops, overlay=True, name="all"):
    """What Vitis HLS / Vivado would have left behind for overlay `name` ("default": the
    kernels built with their config defaults), so the scripts' checks pass."""
    for top in tops:
        ip = build / "hls" / name / top / "prj" / SOLUTION / "impl" / "ip"
        ip.mkdir(parents=True, exist_ok=True)
        (ip / "component.xml").write_text("<stub/>")
    if overlay:
        d = f"spynq_{name}"
        ov = build / "overlay" / name
        (ov / f"{d}.runs" / "impl_1").mkdir(parents=True, exist_ok=True)
        (ov / f"{d}.runs" / "impl_1" / f"{d}_wrapper.bit").write_bytes(b"bit")
        hwh = ov / f"{d}.gen" / "sources_1" / "bd" / d / "hw_handoff"
        hwh.mkdir(parents=True, exist_ok=True)
        (hwh / f"{d}.hwh").write_text("<hwh/>")


def assert_clean(report: dict):
    assert report["completed"], f"{report['script']} stopped: {report['error']}\n{report['stdout']}"
    assert report["unknown"] == [], f"commands not in the stub's known list: {report['unknown']}"


def assert_in_repo_or_build(paths, build: Path, what: str):
    for p in map(Path, paths):
        if build in p.parents:
            continue  # a product of an earlier step of the same flow
        assert REPO in p.parents, f"{what} {p} is outside the repo and the build dir"
        assert p.exists(), f"{what} {p.relative_to(REPO)} does not exist"


# ----------------------------------------------------------------------------------------
# Harness self-checks
# ----------------------------------------------------------------------------------------
def test_stub_reports_unknown_commands(tmp_path):
    script = tmp_path / "typo.tcl"
    script.write_text("create_bd_cel -type ip foo\nconnect_bd_net a b\n"
                      "config_interface -m_axi_max_read_burst 64\nputs done\n")
    r = run_stubbed(script, tmp_path)
    assert r["completed"]
    assert r["unknown"] == [["create_bd_cel", "-type", "ip", "foo"], ["config_interface", "-m_axi_max_read_burst"]]
    assert calls(r, "connect_bd_net") == [["a", "b"]]


# ----------------------------------------------------------------------------------------
# Vitis HLS scripts
# ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("script", HLS_SCRIPTS, ids=lambda p: p.parent.name)
def test_hls_script_runs_and_matches_interface(script, tmp_path):
    build = tmp_path / "build"
    ifaces = kernel_interfaces()
    first = run_stubbed(script, tmp_path, env={"SPYNQ_HLS_STEPS": "csim"})
    (top,) = calls(first, "set_top")[0]
    assert top in ifaces, f"{script} top {top!r} has no KernelInterface in spynq.*.interface"
    fake_build_products(build, [top], overlay=False, name="default")
    r = run_stubbed(script, tmp_path)
    assert_clean(r)
    iface = ifaces[top]

    steps = [c[0] for c in r["calls"] if c[0].endswith("_design") and c[0] != "export_design"]
    assert steps == ["csim_design", "csynth_design", "cosim_design"]
    (exp,) = calls(r, "export_design")
    opt = dict(zip(exp[::2], exp[1::2]))
    assert opt["-format"] == "ip_catalog"
    assert f"{opt['-vendor']}:{opt['-library']}:{opt['-ipname']}:{opt['-version']}" == iface.vlnv

    assert calls(r, "set_part") == [["xczu7ev-ffvc1156-2-e"]]
    # the period of the one PL clock constant (hls/common/spynq_platform.h)
    assert float(calls(r, "create_clock")[0][1]) == pytest.approx(1e3 / PL_CLOCK_MHZ, abs=1e-4)
    cfg = [a for c in calls(r, "config_interface") for a in c]
    assert "-m_axi_addr64" in cfg and hwif.M_AXI_ADDR_BITS == 64
    widen = cfg[cfg.index("-m_axi_max_widen_bitwidth") + 1]
    assert int(widen) == hwif.M_AXI_DATA_BITS
    # one set of burst options for the whole bundle, from hls/common/spynq_platform.h
    for opt, want in (("-m_axi_max_read_burst_length", platform.MAXI_BURST_BEATS),
                      ("-m_axi_max_write_burst_length", platform.MAXI_BURST_BEATS),
                      ("-m_axi_num_read_outstanding", platform.MAXI_OUTSTANDING),
                      ("-m_axi_num_write_outstanding", platform.MAXI_OUTSTANDING),
                      ("-m_axi_latency", platform.MAXI_LATENCY)):
        assert int(cfg[cfg.index(opt) + 1]) == want, opt

    sources = [p for c in calls(r, "add_files") for p in plain(c)]
    assert_in_repo_or_build(sources + r["sourced"], build, "file")
    tb = [plain(c) for c in calls(r, "add_files") if "-tb" in c]
    assert tb, "no testbench added"
    cflags = {c[c.index("-cflags") + 1] for c in calls(r, "add_files")}
    assert cflags == {f"-I{REPO / 'hls' / 'common'} -I{script.parent}"}


def test_hls_builds_for_an_overlay_with_its_parameters(tmp_path):
    """SPYNQ_HLS_OVERLAY / SPYNQ_HLS_DEFINES (what scripts/build_hls.sh passes from
    overlays.json): the -D flags reach kernel and testbench, the build goes to the
    overlay's folder, where build_overlay.tcl and the ledger look."""
    from spynq import overlays

    defines = "-DSTM_LANES=8 -DSTM_EV_FUSE=1"
    fake_build_products(tmp_path / "build", ["stm_top"], overlay=False, name="all")
    r = run_stubbed(REPO / "hls" / "stm" / "run_hls.tcl", tmp_path,
                    env={"SPYNQ_HLS_OVERLAY": "all", "SPYNQ_HLS_DEFINES": defines})
    assert_clean(r)
    assert {c[c.index("-cflags") + 1] for c in calls(r, "add_files")} == {
        f"-I{REPO / 'hls' / 'common'} -I{REPO / 'hls' / 'stm'} {defines}"}
    assert calls(r, "open_project") == [["-reset", "prj"]]
    assert (tmp_path / "build" / "hls" / "all" / "stm_top" / "reports").is_dir()
    assert overlays.build_dir("all", "stm").relative_to(REPO) == Path("build/hls/all/stm_top")


def test_hls_step_selection(tmp_path):
    script = REPO / "hls" / "stm" / "run_hls.tcl"
    fake_build_products(tmp_path / "build", ["stm_top"], overlay=False, name="default")
    r = run_stubbed(script, tmp_path, env={"SPYNQ_HLS_STEPS": "export,csynth"})
    assert_clean(r)
    assert [c[0] for c in r["calls"] if c[0].endswith("_design")] == ["csynth_design", "export_design"]
    assert ["-reset", SOLUTION, "-flow_target", "vivado"] in calls(r, "open_solution")

    r = run_stubbed(script, tmp_path, "cosim")  # -tclargs wins; no csynth -> no reset
    assert_clean(r)
    assert [c[0] for c in r["calls"] if c[0].endswith("_design")] == ["cosim_design"]
    assert calls(r, "open_solution") == [[SOLUTION, "-flow_target", "vivado"]]

    r = run_stubbed(script, tmp_path, env={"SPYNQ_HLS_STEPS": "csynth bogus"})
    assert not r["completed"] and "unknown step 'bogus'" in r["error"]


def test_hls_reports_land_where_python_reads_them(tmp_path):
    build = tmp_path / "build"
    fake_build_products(build, ["stm_top"], overlay=False, name="default")
    rpt = build / "hls" / "default" / "stm_top" / "prj" / SOLUTION / "syn" / "report"
    rpt.mkdir(parents=True)
    (rpt / "stm_top_csynth.xml").write_text("<profile/>")
    (rpt / "stm_top_Pipeline_EVID_csynth.xml").write_text("<profile/>")
    r = run_stubbed(REPO / "hls" / "stm" / "run_hls.tcl", tmp_path, env={"SPYNQ_HLS_STEPS": "csynth"})
    assert_clean(r)
    got = build / "hls" / "default" / "stm_top" / "reports"
    assert (got / "stm_top_csynth.xml").read_text() == "<profile/>"
    assert (got / "stm_top_Pipeline_EVID_csynth.xml").exists()  # per-loop II and depth


# ----------------------------------------------------------------------------------------
# Vivado overlay scripts
# ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("script", sorted(OVERLAY_DIR.glob("*.tcl")), ids=lambda p: p.name)
def test_overlay_tcl_files_run(script, tmp_path):
    """Helpers only define procs; the main script builds; none uses an unvetted command."""
    fake_build_products(tmp_path / "build", kernel_interfaces())
    assert_clean(run_stubbed(script, tmp_path))


def test_overlay_block_design_matches_python(tmp_path):
    build = tmp_path / "build"
    ifaces = kernel_interfaces()
    fake_build_products(build, ifaces)
    r = run_stubbed(OVERLAY, tmp_path)
    assert_clean(r)

    assert calls(r, "version")[0] == ["-short"] and r["calls"][0][0] == "version"
    (proj,) = calls(r, "create_project")
    assert proj[proj.index("-part") + 1] == "xczu7ev-ffvc1156-2-e"
    assert any(c[0] == "board_part" for c in calls(r, "set_property"))

    cells = {c[-1]: c for c in calls(r, "create_bd_cell")}
    kernels = {name[:-2]: c[c.index("-vlnv") + 1] for name, c in cells.items()
               if "-vlnv" in c and c[c.index("-vlnv") + 1].startswith("spynq:")}
    assert kernels == {top: i.vlnv for top, i in ifaces.items()}, "KERNELS != Python interfaces"
    timer = cells[pt.BD_NAME]
    assert timer[timer.index("-reference") + 1] == pt.VLNV.split(":")[2]

    props = {(c[0], c[-1]): c[1] for c in calls(r, "set_property")}
    ps = "zynq_ultra_ps_e_0"
    assert float(props[("CONFIG.PSU__CRL_APB__PL0_REF_CTRL__FREQMHZ", ps)]) == PL_CLOCK_MHZ == 187.5
    assert int(props[("CONFIG.PSU__SAXIGP2__DATA_WIDTH", ps)]) == hwif.M_AXI_DATA_BITS
    assert int(props[("CONFIG.STOP_W", pt.BD_NAME)]) == len(ifaces)
    assert int(props[("CONFIG.NUM_MI", "ctrl_ic")]) == len(ifaces) + 2
    assert int(props[("CONFIG.NUM_SI", "mem_ic")]) == len(ifaces)

    nets = calls(r, "connect_bd_intf_net")
    for top in ifaces:
        assert any(n[1] == f"{top}_0/s_axi_control" and n[0].startswith("ctrl_ic/") for n in nets)
        assert any(n[0] == f"{top}_0/m_axi_gmem" and n[1].startswith("mem_ic/") for n in nets)
    assert ["mem_ic/M00_AXI", f"{ps}/S_AXI_HP0_FPD"] in nets
    assert ["axi_intc_0/irq", f"{ps}/pl_ps_irq0"] in calls(r, "connect_bd_net")

    repos = [c[1] for c in calls(r, "set_property") if c[0] == "ip_repo_paths"]
    assert_in_repo_or_build(repos, build, "IP repo")
    files = [p for c in calls(r, "add_files") for p in plain(c)]
    assert_in_repo_or_build(files + r["sourced"], build, "file")
    assert [Path(dst).name for _, dst in r["copied"]] == ["spynq_all.bit", "spynq_all.hwh"]
    assert [c for c in r["calls"] if c[0] == "launch_runs"] == [
        ["launch_runs", "impl_1", "-to_step", "write_bitstream", "-jobs", "4"]]


def test_one_kernel_overlay(tmp_path):
    """scripts/build_overlay.sh stm: the kernels of overlays.json's "stm" only, its IP."""
    from spynq import overlays

    tops = [overlays.top(k) for k in overlays.kernels("stm")]
    fake_build_products(tmp_path / "build", tops, name="stm")
    r = run_stubbed(OVERLAY, tmp_path, env={"SPYNQ_OVERLAY": "stm", "SPYNQ_OVERLAY_KERNELS": " ".join(tops)})
    assert_clean(r)
    cells = [c[-1] for c in calls(r, "create_bd_cell") if any(a.startswith("spynq:") for a in c)]
    assert cells == ["stm_top_0"]
    assert [Path(dst).name for _, dst in r["copied"]] == ["spynq_stm.bit", "spynq_stm.hwh"]


def test_overlay_rejects_other_vivado_versions(tmp_path):
    fake_build_products(tmp_path / "build", kernel_interfaces())
    r = run_stubbed(OVERLAY, tmp_path, env={"STUB_VIVADO_VERSION": "2023.2"})
    assert not r["completed"]
    assert "Vivado 2023.2" in r["error"] and f"Vivado {PINNED_VIVADO}" in r["error"]
    assert calls(r, "create_project") == [], "must fail before creating anything"
    # a patch release of the pinned version is accepted
    assert_clean(run_stubbed(OVERLAY, tmp_path, env={"STUB_VIVADO_VERSION": f"{PINNED_VIVADO}.2"}))
    # another image selects its own release
    assert_clean(run_stubbed(OVERLAY, tmp_path, env={"SPYNQ_PYNQ_IMAGE": "3.1",
                                                     "STUB_VIVADO_VERSION": "2024.1"}))


def test_overlay_needs_hls_ip_and_products(tmp_path):
    r = run_stubbed(OVERLAY, tmp_path)
    assert not r["completed"] and "scripts/build_hls.sh all" in r["error"]
    fake_build_products(tmp_path / "build", kernel_interfaces(), overlay=False)
    r = run_stubbed(OVERLAY, tmp_path)
    assert not r["completed"] and "missing build products" in r["error"]


# ----------------------------------------------------------------------------------------
# Shell wrappers
# ----------------------------------------------------------------------------------------
def test_shell_scripts_parse_and_deploy_dry_run():
    for sh in ("build_hls.sh", "build_overlay.sh", "build_wheel.sh", "deploy_board.sh"):
        subprocess.run(["bash", "-n", str(REPO / "scripts" / sh)], check=True, timeout=30)
    env = dict(os.environ, DRY_RUN="1", BOARD="xilinx@pynq")
    out = subprocess.run([str(REPO / "scripts" / "deploy_board.sh")], env=env, check=True,
                         capture_output=True, text=True, timeout=60).stdout
    # the wheel (it carries the overlay when one is built; the output says which) goes into
    # root's pynq-venv offline, leaving the image's packages alone (tests/test_board_image.py
    # runs this command on the image's Python stack)
    assert "+ scripts/build_wheel.sh" in out and "overlays/zcu104/spynq_all.bit" in out
    install = [ln for ln in out.splitlines() if ln.startswith("+ ssh -t xilinx@pynq ")]
    assert len(install) == 1, out
    for item in ("sudo -H", "source /etc/profile.d/pynq_venv.sh",
                 "pip install --no-deps --no-build-isolation --no-index"):
        assert item in install[0]
    assert [ln for ln in out.splitlines() if ln.startswith("+ scp ") and "overlays/zcu104/notebooks/" in ln
            and ln.endswith(" xilinx@pynq:/home/xilinx/jupyter_notebooks/spynq/")], out
    root = subprocess.run([str(REPO / "scripts" / "deploy_board.sh")], env=dict(env, BOARD="root@pynq"),
                          check=True, capture_output=True, text=True, timeout=60).stdout
    assert "sudo" not in root and "pynq_venv.sh" in root
    env.pop("BOARD")
    p = subprocess.run([str(REPO / "scripts" / "deploy_board.sh")], env=env, capture_output=True, text=True,
                       timeout=60)
    assert p.returncode != 0 and "BOARD=user@host" in p.stderr


# ----------------------------------------------------------------------------------------
# The real tools (skip here; run on a workstation with Vitis/Vivado)
# ----------------------------------------------------------------------------------------
@pytest.mark.vitis
@pytest.mark.parametrize("script", HLS_SCRIPTS, ids=lambda p: p.parent.name)
def test_vitis_hls_builds_ip(script):
    require_tool("vitis_hls", "Vitis HLS builds the kernel IP (source its settings64.sh)")
    subprocess.run(["vitis_hls", "-f", str(script)], cwd=REPO, check=True, timeout=4 * 3600)
    top = re.search(r"spynq_hls::run\s+(\w+)", script.read_text()).group(1)
    out = REPO / "build" / "hls" / "default" / top
    assert (out / "prj" / SOLUTION / "impl" / "ip" / "component.xml").exists()
    assert (out / "reports" / f"{top}_csynth.xml").exists()


@pytest.mark.vivado
def test_vivado_builds_overlay(tmp_path):
    require_tool("vivado", "Vivado builds the overlay (source its settings64.sh)")
    missing = [t for t in kernel_interfaces()
               if not (REPO / "build" / "hls" / "all" / t / "prj" / SOLUTION / "impl" / "ip" / "component.xml").exists()]
    if missing:
        pytest.skip(f"HLS IP not built for {missing}: run scripts/build_hls.sh all first")
    env = dict(os.environ, SPYNQ_OVERLAY_OUT=str(tmp_path), SPYNQ_OVERLAY="all")
    subprocess.run(["vivado", "-mode", "batch", "-nojournal", "-source", str(OVERLAY)],
                   cwd=tmp_path, env=env, check=True, timeout=6 * 3600)
    assert (tmp_path / "spynq_all.bit").stat().st_size > 0
    assert "<MODULE" in (tmp_path / "spynq_all.hwh").read_text()
