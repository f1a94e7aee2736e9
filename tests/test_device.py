"""graphrec.device: --device auto|cpu|cuda[:N], and one clear error where CUDA is missing."""
import pytest
import torch

from graphrec.cli import main
from graphrec.device import resolve_device
from graphrec.errors import GraphrecError

no_cuda = pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")


def test_auto_and_cpu():
    assert resolve_device("cpu") == torch.device("cpu")
    assert resolve_device("auto").type == ("cuda" if torch.cuda.is_available() else "cpu")
    assert resolve_device(None) == resolve_device("auto")
    for bad in ("gpu", "cuda:x", "cuda:-1", "mps0"):
        with pytest.raises(GraphrecError, match="expected auto|cpu|cuda"):
            resolve_device(bad)


@no_cuda
@pytest.mark.parametrize("spec", ["cuda", "cuda:0", "cuda:3"])
def test_cuda_without_cuda_is_one_clear_error(spec):
    with pytest.raises(GraphrecError, match="CUDA is not available"):
        resolve_device(spec)


@no_cuda
@pytest.mark.parametrize("argv", [["train", "gmf", "--epochs", "1"], ["evaluate", "no-such-run"],
                                  ["recommend", "--user", "1"], ["explain", "--user", "1", "--movie", "1"],
                                  ["embed", "node2vec"], ["benchmark", "--quick"]])
def test_every_command_refuses_cuda_before_loading_anything(argv, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main([*argv, "--device", "cuda", "--data-dir", str(tmp_path / "nowhere")]) != 0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "CUDA is not available" in err[0] and "Traceback" not in err[0]
    assert list(tmp_path.iterdir()) == []  # nothing written

