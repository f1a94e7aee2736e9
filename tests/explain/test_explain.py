"""FeatureMLP and the explanation engines, on data with a planted gender x genre rule."""
import itertools
import json
import math

import numpy as np
import pytest
import torch

from graphrec.cli import main
from graphrec.explain import ENGINES, make_explainer
from graphrec.explain.reasons import because_you_liked, explain_recommendations
from graphrec.models import FeatureMLP, Recommender
from graphrec.config import TrainConfig
from graphrec.training import select_and_refit
from synthetic import ACTION, planted_weight

PLANTED = {"gender", "genres"}
#: L2 makes the shared feature weights the cheaper fit than per-movie embeddings that memorise the same rule
#: (without it the movie id takes a near-equal share; with 1e-3 the planted groups lead by >1.6x over seeds 0-2).
CONFIG = dict(model="feature-mlp", hparams={"factors": 8, "side_dim": 4, "layers": [16, 8]}, epochs=5,
              batch_size=256, lr=1e-2, l2=1e-3, full_eval_every=0, patience=0)


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """These models are tiny: one intra-op thread is fastest and does not fight the other xdist worker."""
    from graphrec.training.trainer import num_threads

    with num_threads(1):
        yield


@pytest.fixture(scope="module")
def planted_data(synthetic_data):
    return synthetic_data(num_users=300, num_items=200, per_user=12, seed=0, weight_fn=planted_weight)


@pytest.fixture(scope="module")
def planted_dir(planted_data):
    return planted_data.dir


@pytest.fixture(scope="module")
def planted(planted_data):
    return planted_data.ml, planted_data.split


@pytest.fixture(scope="module")
def model(planted):
    ml, split = planted
    model = select_and_refit(TrainConfig(**CONFIG), (ml, split), None, progress=False).model
    return model


@pytest.fixture(scope="module")
def pairs(planted):
    """Random (user, movie) pairs: rated and unrated, matching and breaking the rule."""
    _, split = planted
    gen = torch.Generator().manual_seed(1)
    return torch.randint(0, split.num_users, (60,), generator=gen), torch.randint(0, split.num_items, (60,), generator=gen)


def matches_rule(ml, users, items) -> np.ndarray:
    male = (ml.users["gender"].to_numpy()[users.numpy()] == "M")
    action = np.array([bool(ACTION & set(ml.movies["genres"].iloc[i])) for i in items.tolist()])
    return male == action


# --------------------------------------------------------------------------- the model

def test_feature_mlp_groups_score_all_and_state_dict(model, planted):
    _, split = planted
    u, i = torch.tensor([0, 5, 7]), torch.tensor([3, 3, 9])
    assert model.groups == ("user", "movie", "gender", "age", "occupation", "genres", "year")
    inputs = model.group_inputs(u, i)
    assert [x.dtype for x in inputs[:5]] == [torch.long] * 5 and inputs[5].shape == (3, 19) and inputs[6].shape == (3, 1)
    assert torch.equal(model(u, i), model.forward_groups(*inputs))
    users = torch.arange(split.num_users)
    assert torch.allclose(model.score_all(users), Recommender.score_all(model, users), atol=1e-5)
    # the feature tables are rebuilt from the data, not stored with the weights
    assert not any(k.startswith(("user_gender", "item_genres")) for k in model.state_dict())


def test_ig_baseline_is_the_frequency_weighted_mean_embedding(model, planted):
    _, split = planted
    ex = make_explainer("ig", model, split)
    freq = torch.bincount(split.train_item, minlength=split.num_items).float()
    assert torch.allclose(ex.means[1], freq @ model.movie_emb.weight.detach() / freq.sum(), atol=1e-6)
    genres = model.item_genres[split.train_item].mean(0)
    assert torch.allclose(ex.means[5], genres) and 0 < float(genres.sum()) < 3
    with ex.mean_hooks():
        rep = model.movie_emb(torch.tensor([-1, 4]))
    assert torch.allclose(rep[0], ex.means[1]) and torch.equal(rep[1], model.movie_emb.weight[4])
    assert not model.movie_emb._forward_hooks and not model.movie_emb._forward_pre_hooks  # hooks removed


# --------------------------------------------------------------------------- planted rule

@pytest.mark.parametrize("method", sorted(ENGINES))
def test_each_engine_ranks_the_planted_groups_first(model, planted, pairs, method):
    _, split = planted
    users, items = pairs if method != "lime" else (pairs[0][:25], pairs[1][:25])
    attr = make_explainer(method, model, split, background=32).attribute(users, items)
    imp = attr.mean_abs()
    top2 = set(sorted(imp, key=lambda g: -imp[g])[:2])
    assert top2 == PLANTED, imp


@pytest.mark.parametrize("method", ["ig", "shap"])
def test_planted_groups_carry_the_gap_between_rule_matching_and_breaking_pairs(model, planted, pairs, method):
    ml, split = planted
    attr = make_explainer(method, model, split, background=32).attribute(*pairs)
    planted = attr.values[:, [attr.groups.index(g) for g in sorted(PLANTED)]].sum(1).numpy()
    logits, match = attr.logits.numpy(), matches_rule(ml, *pairs)
    assert 0 < match.mean() < 1
    share = (planted[match].mean() - planted[~match].mean()) / (logits[match].mean() - logits[~match].mean())
    assert share >= 0.7


# --------------------------------------------------------------------------- axioms

def test_ig_completeness(model, planted, pairs):
    _, split = planted
    ex = make_explainer("ig", model, split)
    attr = ex.attribute(*pairs)
    gap = attr.logits - attr.baseline
    assert torch.allclose(attr.logits, model(*pairs).detach())
    assert torch.allclose(attr.values.sum(1), gap, atol=0.02 * float(gap.abs().max()) + 1e-3)
    assert torch.allclose(attr.delta, gap - attr.values.sum(1), atol=1e-4)
    # the baseline is the average training pair: mean embeddings, mean genres and year
    with ex.mean_hooks():
        base = model.forward_groups(*ex.baselines(model.group_inputs(*pairs)))
    assert torch.allclose(attr.baseline, base.detach()) and float(base.std()) < 1e-5


def brute_force_shapley(explainer, u: int, i: int) -> np.ndarray:
    """Shapley values from their definition over all 2^G coalitions."""
    g = len(explainer.groups)
    masks = torch.tensor(list(itertools.product([0, 1], repeat=g)), dtype=torch.float)
    v = dict(zip(map(tuple, masks.int().tolist()),
                 explainer.coalition_logits(torch.tensor([u]), torch.tensor([i]), masks[None])[0].tolist()))
    phi = np.zeros(g)
    for s in v:
        for j in range(g):
            if s[j]:
                continue
            k = sum(s)
            with_j = s[:j] + (1,) + s[j + 1:]
            phi[j] += math.factorial(k) * math.factorial(g - k - 1) / math.factorial(g) * (v[with_j] - v[s])
    return phi


def test_shap_values_are_exact_and_sum_to_prediction_minus_expected_value(model, planted, pairs):
    _, split = planted
    ex = make_explainer("shap", model, split, background=16)
    attr = ex.attribute(pairs[0][:3], pairs[1][:3])
    bu, bi = ex.background
    assert torch.allclose(attr.baseline, model(bu, bi).detach().double().mean().float().expand(3), atol=1e-5)
    assert torch.allclose(attr.values.sum(1) + attr.baseline, attr.logits, atol=1e-4)
    for n in range(3):
        assert np.allclose(attr.values[n].numpy(), brute_force_shapley(ex, int(pairs[0][n]), int(pairs[1][n])),
                           atol=1e-4)


@pytest.mark.parametrize("method,kwargs", [("shap", {}), ("lime", {"n_samples": 64}), ("ig", {})])
def test_deterministic_under_a_seed(model, planted, pairs, method, kwargs):
    _, split = planted
    u, i = pairs[0][:4], pairs[1][:4]
    a = make_explainer(method, model, split, seed=3, background=16, **kwargs).attribute(u, i)
    b = make_explainer(method, model, split, seed=3, background=16, **kwargs).attribute(u, i)
    assert torch.equal(a.values, b.values) and torch.equal(a.baseline, b.baseline)
    if method != "ig":  # another seed draws another background
        c = make_explainer(method, model, split, seed=4, background=16, **kwargs).attribute(u, i)
        assert not torch.equal(a.values, c.values)


@pytest.mark.parametrize("method", sorted(ENGINES))
def test_explaining_does_not_change_the_model(model, planted, pairs, method):
    _, split = planted
    state = {k: v.clone() for k, v in model.state_dict().items()}
    before = model(*pairs).detach().clone()
    rng = torch.get_rng_state()
    model.train()
    try:
        make_explainer(method, model, split, background=8, **({"n_samples": 32} if method == "lime" else {})
                       ).attribute(pairs[0][:2], pairs[1][:2])
        assert model.training  # mode restored
    finally:
        model.eval()
    assert torch.equal(model(*pairs).detach(), before)
    assert all(torch.equal(state[k], v) for k, v in model.state_dict().items())
    assert torch.equal(torch.get_rng_state(), rng)


def test_because_you_liked_and_explained_recommendations(model, planted):
    ml, split = planted
    user = int(split.train_user[0])
    mine = split.train_user == user
    liked = split.train_item[mine & (split.train_rating >= 4)]
    assert len(liked) > 0
    # a movie the user liked is most similar to itself
    assert because_you_liked(model, split, user, liked[:1])[0][0] == int(liked[0])
    out = explain_recommendations(model, split, user, torch.tensor([3, 4]), make_explainer("ig", model, split))
    assert [r["item"] for r in out] == [3, 4]
    for r in out:
        assert r["because_you_liked"] in liked.tolist() and -1 <= r["similarity"] <= 1
        assert 1 <= len(r["top_groups"]) <= 3 and all(g["contribution"] > 0 for g in r["top_groups"])


# --------------------------------------------------------------------------- CLI

@pytest.fixture(scope="module")
def run_dir(planted, tmp_path_factory):
    ml, split = planted
    path = tmp_path_factory.mktemp("runs") / "fmlp"
    cfg = TrainConfig(**CONFIG, data={"data_dir": str(ml.root)})
    select_and_refit(cfg, (ml, split), path, progress=False)
    return path


def test_cli_explain_json_ig_and_shap_agree_on_the_top_groups(run_dir, capsys, tmp_path):
    tops = {}
    for method in ("ig", "shap"):
        assert main(["explain", "--run", str(run_dir), "--user", "2", "--movie", "7", "--method", method,
                     "--json", "--plot", str(tmp_path / f"{method}.png")]) == 0
        d = json.loads(capsys.readouterr().out)
        assert (d["user"], d["movie"], d["method"]) == (2, 7, method)
        assert d["score"] == pytest.approx(1 / (1 + math.exp(-d["logit"])))
        total = sum(r["contribution"] for r in d["contributions"])
        assert total + d["baseline"] + d["delta"] == pytest.approx(d["logit"], abs=1e-4)
        assert (tmp_path / f"{method}.png").stat().st_size > 1000
        tops[method] = {r["group"] for r in d["contributions"][:2]}
    assert tops["ig"] == tops["shap"] == PLANTED


def test_cli_explain_text_table(run_dir, capsys):
    assert main(["explain", "--run", str(run_dir), "--user", "1", "--movie", "1"]) == 0
    out = capsys.readouterr().out
    assert "predicted score" in out and "gender=" in out and "genre=" in out and "movie id" in out


def test_cli_explain_global_writes_plots(run_dir, capsys, tmp_path):
    assert main(["explain", "--run", str(run_dir), "--global", "--pairs", "30", "--method", "shap",
                 "--out", str(tmp_path), "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["pairs"] == 30 and PLANTED <= {r["group"] for r in d["groups"][:3]}  # test pairs: popularity (movie) too
    for name in ("importance-shap.png", "beeswarm-shap.png"):
        assert (tmp_path / name).stat().st_size > 1000


def test_cli_default_model_is_trained_once_and_reused(planted_dir, capsys):
    args = ["explain", "--data-dir", str(planted_dir), "--user", "3", "--movie", "4", "--json"]
    assert main(args) == 0
    first = capsys.readouterr()
    assert "first use" in first.err  # the notice goes to stderr: stdout stays pure JSON
    assert main(args) == 0
    second = capsys.readouterr()
    assert "first use" not in second.err and json.loads(second.out)["logit"] == json.loads(first.out)["logit"]


def error_of(argv, capsys) -> str:
    code = main(argv)
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "Traceback" not in err
    return err


def test_cli_explain_errors(run_dir, capsys, tmp_path):
    base = ["explain", "--run", str(run_dir)]
    assert "unknown user id 9999: valid user ids lie in 1..300" in error_of(base + ["--user", "9999", "--movie", "1"], capsys)
    assert "unknown movie id 0: valid movie ids lie in 1..200" in error_of(base + ["--user", "1", "--movie", "0"], capsys)
    assert "give --user and --movie" in error_of(base + ["--user", "1"], capsys)
    assert "not a run directory" in error_of(["explain", "--run", str(tmp_path), "--user", "1", "--movie", "1"], capsys)


def test_cli_recommend_explain(run_dir, planted, capsys):
    ml, split = planted
    assert main(["recommend", "--run", str(run_dir), "--user", "5", "-k", "4", "--explain", "--json"]) == 0
    recs = json.loads(capsys.readouterr().out)["recommendations"]
    u = ml.user_index(5)
    liked = set(split.train_item[(split.train_user == u) & (split.train_rating >= 4)].tolist())
    assert len(recs) == 4
    for r in recs:
        assert 1 <= len(r["why"]) <= 3 and all(g["contribution"] > 0 for g in r["why"])
        assert ml.movie_index(r["because_you_liked"]["movie_id"]) in liked
    assert main(["recommend", "--run", str(run_dir), "--user", "5", "-k", "2", "--explain"]) == 0
    assert "because you liked" in capsys.readouterr().out


def dot_run(planted, tmp_path):
    """A run of a model with ids only: no feature groups."""
    ml, split = planted
    select_and_refit(TrainConfig(model="test-dot", epochs=1, full_eval_every=0, data={"data_dir": str(ml.root)}), (ml, split), tmp_path / "dot", progress=False)
    return tmp_path / "dot"


@pytest.fixture
def test_dot():
    """A model with ids only (no feature groups), registered for one test and removed afterwards."""
    from graphrec.models import MODELS, register, unregister

    @register("test-dot")
    class Dot(Recommender):
        def __init__(self, num_users, num_items, factors=4):
            super().__init__()
            self.num_users, self.num_items = num_users, num_items
            self.u, self.i = torch.nn.Embedding(num_users, factors), torch.nn.Embedding(num_items, factors)

        def forward(self, user, item):
            return (self.u(user) * self.i(item)).sum(-1)

    yield Dot
    unregister("test-dot")
    assert "test-dot" not in MODELS


def test_cli_explain_refuses_a_model_without_feature_groups(test_dot, planted, tmp_path, capsys):
    err = error_of(["explain", "--run", str(dot_run(planted, tmp_path)), "--user", "1", "--movie", "1"], capsys)
    assert "'test-dot' has no feature groups to explain" in err


def test_cli_recommend_explain_without_feature_groups_still_finds_liked_movies(test_dot, planted, tmp_path,
                                                                             capsys):
    assert main(["recommend", "--run", str(dot_run(planted, tmp_path)), "--user", "5", "-k", "3", "--explain",
                 "--json"]) == 0
    recs = json.loads(capsys.readouterr().out)["recommendations"]
    assert all("why" not in r and "because_you_liked" in r for r in recs)



def test_cli_train_feature_mlp_then_explain(planted_dir, tmp_path, capsys):
    assert main(["train", "feature-mlp", "--factors", "8", "--layers", "16,8", "--epochs", "1", "--data-dir",
                 str(planted_dir), "--out", str(tmp_path), "--name", "f", "--quiet"]) == 0
    capsys.readouterr()
    assert main(["explain", "--run", str(tmp_path / "f"), "--user", "1", "--movie", "2", "--json"]) == 0
    assert {r["group"] for r in json.loads(capsys.readouterr().out)["contributions"]} == set(FeatureMLP.groups)


def test_feature_mlp_needs_the_movielens_files(planted_dir, tmp_path, capsys):
    assert main(["data", "split", "--data-dir", str(planted_dir), "--out", str(tmp_path / "split")]) == 0
    capsys.readouterr()
    err = error_of(["train", "feature-mlp", "--epochs", "1", "--split-dir", str(tmp_path / "split"),
                    "--out", str(tmp_path), "--quiet"], capsys)
    assert "needs the MovieLens files for its side features" in err


def test_feature_neumf_is_explainable(planted):
    ml, split = planted
    model = select_and_refit(TrainConfig(**{**CONFIG, "model": "feature-neumf", "epochs": 1}), (ml, split), None, progress=False).model
    u, i = torch.tensor([0, 1, 2]), torch.tensor([5, 6, 7])
    assert torch.equal(model(u, i), model.forward_groups(*model.group_inputs(u, i)))
    assert torch.allclose(model.score_all(u)[:, 5], model(u, torch.full_like(u, 5)).detach(), atol=1e-6)
    ig = make_explainer("ig", model, split).attribute(u, i)
    assert float(ig.delta.abs().max()) < 0.01
    shap_ = make_explainer("shap", model, split, background=16).attribute(u, i)
    assert torch.allclose(shap_.values.sum(1) + shap_.baseline, shap_.logits, atol=1e-4)
