"""Captum/SHAP explanations and attention maps for the attention-based NeuMF models."""
import pytest
import torch

from graphrec.cli import main
from graphrec.explain import make_explainer
from graphrec.explain.attention_map import attention_map
from graphrec.models import AttentionNeuMF, AttentionNeuMFAll
from graphrec.config import TrainConfig
from graphrec.training import select_and_refit


@pytest.mark.parametrize("cls", [AttentionNeuMF, AttentionNeuMFAll])
def test_ig_and_shap_complete_and_leave_model_unchanged(cls, synth, synth_split):
    torch.manual_seed(0)
    model = cls.build(synth, synth_split, factors=8).eval()
    u, i = synth_split.test_user[:4], synth_split.test_item[:4]
    before = model(u, i).detach().clone()
    for method, rel in (("ig", 0.03), ("shap", 1e-5)):  # IG: Gauss-Legendre error; SHAP exact
        attr = make_explainer(method, model, synth_split, background=16).attribute(u, i)
        assert attr.values.shape == (4, len(model.groups))
        torch.testing.assert_close(attr.logits, before)
        gap = (attr.logits - attr.baseline).abs()  # completeness: contributions add up to the gap
        assert bool(((attr.values.sum(1) - (attr.logits - attr.baseline)).abs() <= rel * gap + 1e-5).all()), method
    torch.testing.assert_close(model(u, i), before)


@pytest.fixture(scope="module")
def att_run(synth, synth_split, synth_dir, tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("att") / "run"
    config = TrainConfig(model="att-neumf-all", epochs=1, batch_size=512, hparams={"factors": 8},
                         full_eval_every=0, data={"dataset": "ml-100k", "data_dir": str(synth_dir)})
    model = select_and_refit(config, (synth, synth_split), run_dir, progress=False).model
    return run_dir, model


def test_attention_map_of_one_prediction(att_run, synth):
    _, model = att_run
    maps = attention_map(model, 0, 3)
    assert maps["groups"] == list(model.groups)
    assert maps["fields"].shape == (1, 2, 6, 6)
    torch.testing.assert_close(maps["fields"].sum(-1), torch.ones(1, 2, 6))
    torch.testing.assert_close(maps["towers"].sum(), torch.tensor(1.0))


def test_explain_cli_writes_attention_map(att_run, synth, tmp_path, capsys):
    run_dir, _ = att_run
    png = tmp_path / "att.png"
    user, movie = int(synth.users["raw_id"].iloc[0]), int(synth.movies["raw_id"].iloc[3])
    assert main(["explain", "--user", str(user), "--movie", str(movie), "--run", str(run_dir),
                 "--method", "shap", "--background", "8", "--attention-map", str(png)]) == 0
    out = capsys.readouterr().out
    assert png.is_file() and png.stat().st_size > 1000
    assert "gender=" in out and f"wrote {png}" in out
    assert main(["explain", "--global", "--run", str(run_dir), "--attention-map", str(tmp_path / "x.png")]) == 2
    assert "one prediction" in capsys.readouterr().err
    assert not (tmp_path / "x.png").exists()


def test_attention_map_refuses_models_without_field_attention(synth_split):
    from graphrec.errors import GraphrecError
    from graphrec.models import SeedAttentionNeuMF

    model = SeedAttentionNeuMF(synth_split.num_users, synth_split.num_items)
    with pytest.raises(GraphrecError, match="field-attention"):
        attention_map(model, 0, 0)
