"""The model registry: every recommender by name, and capabilities that say what each one does."""
import inspect

import pytest
import torch

from graphrec.catalogue import QUICK_HPARAMS
from graphrec.errors import CheckpointError
from graphrec.models import MODELS, capabilities, names
from graphrec.pipeline import build_model
from graphrec.config import TrainConfig

GROUP_API = ("groups", "group_inputs", "forward_groups", "group_layers")


def small(name: str) -> dict:
    takes = inspect.signature(MODELS[name].__init__).parameters
    return {k: v for k, v in QUICK_HPARAMS.get(name, {}).items() if k in takes}


@pytest.mark.parametrize("name", names(trainable=True))
def test_capabilities_of_each_trainable_model_hold(name, synth, synth_split):
    caps = capabilities(name)
    torch.manual_seed(0)
    model = build_model(TrainConfig(model=name, hparams=small(name)), prepared(synth, synth_split)).eval()
    u, i = synth_split.test_user[:6], synth_split.test_item[:6]
    assert caps.explainable == all(hasattr(model, a) for a in GROUP_API)
    if caps.explainable:  # the group interface reproduces the logits
        torch.testing.assert_close(model.forward_groups(*model.group_inputs(u, i)), model(u, i))
    if caps.attention_map:
        fields = model.attention(u, i)["fields"]
        assert fields.shape[0] == 6 and fields.shape[-1] == fields.shape[-2] == len(model.groups)
    if caps.score_all:  # full-ranking scores agree with pairwise ones (brute-force oracle)
        torch.testing.assert_close(model.score_all(u)[torch.arange(6), i], model(u, i), rtol=1e-4, atol=1e-5)
    if caps.uses_graph:  # the model reads the training graph: a graph without user 0's edges changes its scores
        from graphrec.data.graph import RATES, set_edges

        g = synth_split.graph
        keep = g[RATES].edge_index[0] != 0
        from dataclasses import replace

        other = replace(synth_split)
        other._graph = set_edges(g.clone(), *g[RATES].edge_index[:, keep])
        torch.manual_seed(0)
        changed = build_model(TrainConfig(model=name, hparams=small(name)), prepared(synth, other)).eval()
        assert not torch.allclose(changed.score_all(u[:1]), model.score_all(u[:1]))


@pytest.mark.parametrize("name", names(fit=True))
def test_fitted_models_are_not_trainable_and_rank_consistently(name, synth_split):
    assert not capabilities(name).trainable and name not in names(trainable=True)
    if name == "node2vec":
        pytest.importorskip("torch_cluster")
    if not getattr(MODELS[name], "available", lambda: True)():
        pytest.skip(f"{name}: its optional library is not installed")
    takes = inspect.signature(MODELS[name].__init__).parameters
    kw = {k: v for k, v in QUICK_HPARAMS.get(name, {}).items() if k in takes}
    scorer = MODELS[name](**kw).fit(synth_split)
    u = synth_split.test_user[:5]
    items = torch.arange(synth_split.num_items).expand(5, -1)
    torch.testing.assert_close(scorer.score_all(u).float(), scorer.score(u, items).float())
    with pytest.raises(CheckpointError, match="trainable"):
        build_model(TrainConfig(model=name), prepared(None, synth_split))


def prepared(ml, split):
    from graphrec.pipeline import Prepared

    return Prepared(ml, split)
