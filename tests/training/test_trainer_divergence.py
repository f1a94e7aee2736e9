"""Training that goes non-finite stops with a clear error and keeps the last good epoch."""
import math

import pytest
import torch

from graphrec.config import TrainConfig
from graphrec.pipeline import Prepared, build_model
from graphrec.io import load_tensors
from graphrec.training.runs import CHECKPOINT, WEIGHTS
from graphrec.training.trainer import Trainer, TrainingDiverged


class Poisoned(Trainer):
    """Epoch ``bad`` ends with a NaN weight (or a NaN loss), as a too-large learning rate would leave it."""

    def __init__(self, *a, bad: int, what: str, **k):
        super().__init__(*a, **k)
        self.bad, self.what = bad, what

    def train_epoch(self, epoch):
        loss, seconds = super().train_epoch(epoch)
        if epoch == self.bad:
            if self.what == "loss":
                return math.nan, seconds
            with torch.no_grad():
                next(self.model.parameters())[0, 0] = math.inf
        return loss, seconds


@pytest.mark.parametrize("what", ["loss", "weights"])
def test_divergence_keeps_the_last_good_checkpoint(synth, synth_split, tmp_path, what):
    cfg = TrainConfig(model="gmf", hparams={"factors": 4}, epochs=5, batch_size=256, patience=0, full_eval_every=0)
    model = build_model(cfg, Prepared(synth, synth_split))
    trainer = Poisoned(model, synth_split, cfg, tmp_path, progress=False, tensorboard=False, bad=3, what=what)
    with pytest.raises(TrainingDiverged, match=f"training diverged in epoch 3 .*the last good checkpoint \\(epoch 2\\)"):
        trainer.fit()
    ck = load_tensors(tmp_path / CHECKPOINT)
    assert ck["epoch"] == 2 and len(ck["history"]) == 2
    assert all(torch.isfinite(v).all() for v in ck["model"].values())
    assert all(torch.isfinite(v).all() for v in load_tensors(tmp_path / WEIGHTS).values())
    assert not (tmp_path / "metrics.json").exists()
