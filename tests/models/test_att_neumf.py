"""Attention-based NeuMF variants: shapes, attention maps, the length-1 degeneracy, training and reload."""
import pytest
import torch

from graphrec.data import FeatureTable
from graphrec.errors import GraphrecError
from graphrec.models import AttentionNeuMF, AttentionNeuMFAll, SeedAttentionNeuMF
from graphrec.config import TrainConfig
from graphrec.pipeline import Prepared
from graphrec.training.runs import load_model
from graphrec.training import select_and_refit


@pytest.fixture(scope="module")
def pairs(synth_split):
    return synth_split.test_user[:20], synth_split.test_item[:20]


def test_all_feature_tokens_and_group_interface(synth, synth_split, pairs):
    torch.manual_seed(0)
    model = AttentionNeuMFAll.build(synth, synth_split, factors=8, heads=2, att_layers=2).eval()
    u, i = pairs
    inputs = model.group_inputs(u, i)
    assert model.groups == ("user", "movie", "gender", "age", "occupation", "genres")
    assert len(model.group_layers()) == 6
    tokens = model.tokens(*inputs)
    assert tokens.shape == (20, 6, 8)
    ft = FeatureTable.from_movielens(synth)
    assert torch.equal(inputs[2], ft.user_gender[u])
    assert torch.equal(inputs[5], ft.item_genres[i])
    pooled = (ft.item_genres[i] @ model.group_layers()[5].weight.T) / ft.item_genres[i].sum(1, keepdim=True)
    torch.testing.assert_close(tokens[:, 5], pooled)  # genres token = mean of genre embeddings
    torch.testing.assert_close(model.forward_groups(*inputs), model(u, i))
    att = model.attention(u, i)
    assert att["fields"].shape == (20, 2, 2, 6, 6)
    torch.testing.assert_close(att["fields"].sum(-1), torch.ones(20, 2, 2, 6))
    assert float(att["fields"].max()) < 1.0  # six tokens: no field takes all the weight
    torch.testing.assert_close(att["towers"].sum(-1), torch.ones(20))


def test_id_variant_needs_no_side_features(synth_split, pairs):
    model = AttentionNeuMF.build(None, synth_split, factors=8).eval()
    assert model.groups == ("user", "movie")
    assert model(*pairs).shape == (20,)
    scores = model.score_all(pairs[0][:3])
    torch.testing.assert_close(scores[torch.arange(3), pairs[1][:3]], model(pairs[0][:3], pairs[1][:3]))


def test_all_feature_variant_refuses_missing_side_features(synth_split):
    from dataclasses import replace

    bare = replace(synth_split)  # the same split without the dataset: its graph has no node features
    with pytest.raises(GraphrecError, match="side features"):
        AttentionNeuMFAll.build(None, bare)


def test_seed_design_attention_is_exactly_one(synth_split, pairs):
    """The original length-1 design: softmax over a single key is identically 1."""
    torch.manual_seed(0)
    model = SeedAttentionNeuMF(synth_split.num_users, synth_split.num_items, heads=2).eval()
    for p in model.parameters():  # large random weights: still exactly 1
        torch.nn.init.normal_(p, std=3.0)
    weights = model.attention(*pairs)
    assert len(weights) == 6
    for name, w in weights.items():
        assert w.shape == (20, 2, 1, 1), name
        assert torch.equal(w, torch.ones_like(w)), name
    # so each "attention" is out_proj(v_proj(x)): two linear maps, whatever q and k are
    att = model.att["gmf_user"]
    x = model.gmf_user(pairs[0])
    torch.testing.assert_close(att(x.unsqueeze(1))[0].squeeze(1), att.out_proj(att.v_proj(x)))


@pytest.mark.parametrize("name", ["att-neumf", "att-neumf-all", "att-neumf-seed"])
def test_trains_and_reloads(name, synth, synth_split, tmp_path):
    config = TrainConfig(model=name, epochs=2, batch_size=256, lr=5e-3, hparams={"heads": 2}, full_eval_every=0)
    outcome = select_and_refit(config, (synth, synth_split), tmp_path / "run", progress=False)
    model, metrics = outcome.model, outcome.metrics()
    for key in ("HR@10", "NDCG@10", "full_HR@10", "full_NDCG@10"):
        assert 0.0 <= metrics[key] <= 1.0
    loaded = load_model(tmp_path / "run", Prepared(synth, synth_split))
    u, i = synth_split.test_user, synth_split.test_item
    torch.testing.assert_close(loaded(u, i), model.eval()(u, i))
