"""The board notebooks run: each one executes top to bottom here (nbclient, this venv's
kernel, scripts/run_notebooks.py) on the fallback path and fails if a cell fails; they open
the board session and hand it to every backend call; the committed copies carry the outputs
of such a run."""
import ast
import importlib.util
import json
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("run_notebooks", REPO / "scripts" / "run_notebooks.py")
run_notebooks = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(run_notebooks)

NOTEBOOKS = sorted(run_notebooks.NOTEBOOKS.glob("*.ipynb"))
SESSION = "from spynq.hw.board import session\nbackend, ol, note = session()\nprint(note)"
# backend entry points a notebook calls: each must get the session's overlay (ol=ol)
RUNS = {("backends", "infer"), ("backends", "run"), ("demos", "jeffress_accuracy"), ("hyb", "run"),
        ("demo", "evaluate")}


def code_cells(path):
    return [c for c in json.loads(path.read_text())["cells"] if c["cell_type"] == "code"]


def source(cell) -> str:
    return "".join(cell["source"])


def text(outputs) -> str:
    """The printed text of some outputs (nbformat stores it as a string or a list of lines)."""
    return "".join("".join(o.get("text", "")) for o in outputs)


def test_one_notebook_per_kernel_and_the_comparison():
    assert [p.name for p in NOTEBOOKS] == ["cpu_vs_fpga.ipynb", "lif_delays.ipynb", "snnwm.ipynb",
                                           "stm_inference.ipynb"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_first_cell_opens_the_session_and_every_run_gets_it(path):
    cells = code_cells(path)
    assert source(cells[0]) == SESSION
    calls = [n for c in cells for n in ast.walk(ast.parse(source(c))) if isinstance(n, ast.Call)
             and isinstance(n.func, ast.Attribute) and isinstance(n.func.value, ast.Name)
             and (n.func.value.id, n.func.attr) in RUNS]
    assert calls, "no backend call found"
    bad = [ast.unparse(n) for n in calls
           if not any(k.arg == "ol" for k in n.keywords) and not any(isinstance(a, ast.Name) and a.id == "ol"
                                                                     for a in n.args)]
    assert not bad, f"backend calls without the session's overlay: {bad}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_committed_copy_carries_the_outputs_of_a_run(path):
    cells = code_cells(path)
    assert [c["execution_count"] for c in cells] == list(range(1, len(cells) + 1)), "not executed top to bottom"
    outs = [o for c in cells for o in c["outputs"]]
    assert not [o for o in outs if o["output_type"] == "error"]
    first = text(cells[0]["outputs"])
    assert "backends only" in first or "spynq overlay" in first, first  # where it ran, said plainly
    assert any("image/png" in o.get("data", {}) for o in outs), "no plot in the stored outputs"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_runs_here(path, tmp_path):
    from spynq.hw.board import session

    backend, _, note = session()
    out = tmp_path / path.name
    run_notebooks.execute(path, out, timeout=300)  # raises CellExecutionError on a failing cell
    cells = code_cells(out)
    assert text(cells[0]["outputs"]).strip() == note
    texts = text(o for c in cells for o in c["outputs"])
    if backend != "fpga":  # off the board the notebook says it did not check the FPGA
        assert "no board here" in texts
    assert all(c["execution_count"] for c in cells)


def test_a_failing_cell_fails_the_run(tmp_path):
    import nbformat
    from nbclient.exceptions import CellExecutionError

    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("print('fine')"),
                                         nbformat.v4.new_code_cell("raise RuntimeError('cell 2 is broken')")])
    path = tmp_path / "broken.ipynb"
    nbformat.write(nb, path)
    with pytest.raises(CellExecutionError, match="cell 2 is broken"):
        run_notebooks.execute(path, tmp_path / "out.ipynb", timeout=60)
