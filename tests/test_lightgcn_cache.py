"""LightGCN's inference cache must not outlive a training step (fused Adam keeps ``_version``)."""
import torch

from graphrec.evaluation import evaluate
from graphrec.training import TrainConfig, train


def test_evaluation_follows_training_under_fused_adam(synth_split):
    model, _ = train(TrainConfig(model="lightgcn", epochs=3, batch_size=64, lr=0.05, patience=0, full_eval_every=0,
                                 hparams={"factors": 8, "num_layers": 2}), None, split=synth_split, progress=False)
    model.eval()
    before = model.score_all(torch.arange(3)).clone()
    opt = torch.optim.Adam(model.parameters(), lr=0.5, fused=True)
    model.train()
    u, p, n = synth_split.train_user[:64], synth_split.train_item[:64], torch.zeros(64, dtype=torch.long)
    pos, neg = model.pair_logits(u, p, n)
    (-torch.nn.functional.logsigmoid(pos - neg).mean()).backward()
    opt.step()
    model.eval()
    assert not torch.allclose(model.score_all(torch.arange(3)), before)
    assert 0.0 <= evaluate(model, synth_split, full=False)["HR@10"] <= 1.0
