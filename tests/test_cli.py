"""The command line behaves: a domain error is one line `spynq: error: ...` and exit 2 (a
traceback only with --debug); counts reject zero and negatives before anything runs."""
import pytest

from spynq.cli import main


@pytest.mark.parametrize("argv", [["lif", "jeffress", "--trials", "-1"], ["lif", "speech", "--batch", "0"],
                                  ["stm", "--samples", "0"], ["bench", "stm", "--repeats", "-3"]])
def test_counts_must_be_positive(argv, capsys):
    with pytest.raises(SystemExit) as e:
        main(argv)
    assert e.value.code == 2 and "must be at least 1" in capsys.readouterr().err


def test_domain_error_is_one_line_and_exit_2(capsys):
    assert main(["stm", "--samples", "99999", "--batch", "1", "--backend", "golden"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("spynq: error: ") and "4096" in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def test_debug_shows_the_traceback():
    with pytest.raises(ValueError, match="4096"):
        main(["--debug", "stm", "--samples", "99999", "--batch", "1", "--backend", "golden"])


def test_backend_names_are_checked_with_the_spynq_errors():
    from spynq.errors import SpynqTypeError, SpynqValueError
    from spynq.hw.board import resolve_backend

    with pytest.raises(SpynqTypeError, match="backend=3"):
        resolve_backend(3)
    with pytest.raises(SpynqValueError, match="choose from"):
        resolve_backend("gpu")


def test_train_hands_the_learning_models_their_arguments(tmp_path, capsys):
    """`spynq train wtcrl ...` runs spynq.learning.wtcrl with those arguments (a tiny run:
    its checkpoint and summary land in --out); a BPTT model refuses extra arguments."""
    assert main(["train", "--list"]) == 0
    listed = capsys.readouterr().out
    assert "spikeprop" in listed and "lnm" in listed
    assert main(["train", "wtcrl", "--m", "4", "--iters", "30", "--test", "10", "--seeds", "1",
                 "--out", str(tmp_path)]) == 0
    assert (tmp_path / "wtcrl_m4_s0.npz").exists() and (tmp_path / "wtcrl_summary.json").exists()
    assert main(["train", "lnm", "--bogus"]) == 2
    assert "unexpected arguments --bogus" in capsys.readouterr().err
