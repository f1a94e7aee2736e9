"""``graphrec.load_run``: recommendations, similar movies and explanations in the dataset's own ids,
checked against brute-force oracles; the batch CLI agrees with the API."""
import csv
import json

import numpy as np
import pytest
import torch

import graphrec
from graphrec.cli import main
from graphrec.errors import DataError, GraphrecError


def _oracle_top(model, ml, user_raw, k, filter_seen=True):
    """Score every movie one pair at a time, drop rated ones, sort: (raw ids, sigmoid scores)."""
    u = ml.user_index(user_raw)
    with torch.no_grad():
        logits = torch.stack([model(torch.tensor([u]), torch.tensor([i]))[0] for i in range(ml.num_items)])
    rated = set(ml.ratings.loc[ml.ratings["user"] == u, "item"]) if filter_seen else set()
    order = [i for i in torch.argsort(logits, descending=True, stable=True).tolist() if i not in rated][:k]
    return ml.movies["raw_id"].to_numpy()[order], torch.sigmoid(logits[order]).numpy()


def test_recommend_matches_brute_force_in_raw_ids(neumf_run, synth):
    run = graphrec.load_run(neumf_run)
    for user in (1, 17, 60):
        ids, scores = run.recommend(user, k=7)
        want_ids, want_scores = _oracle_top(run.model, synth, user, 7)
        assert ids.tolist() == want_ids.tolist()
        np.testing.assert_allclose(scores, want_scores, rtol=1e-5)
    ids, _ = run.recommend(5, k=synth.num_items, filter_seen=False)
    assert len(ids) == synth.num_items  # nothing filtered
    ids, _ = run.recommend(5, k=synth.num_items)
    assert len(ids) == synth.num_items - (synth.ratings["user"] == synth.user_index(5)).sum()
    with pytest.raises(DataError, match=r"valid user ids lie in 1\.\.60"):
        run.recommend(999)
    with pytest.raises(GraphrecError, match="k must be >= 1"):
        run.recommend(1, k=0)


def test_recommend_all_is_every_users_recommend(neumf_run, synth):
    run = graphrec.load_run(neumf_run)
    users, ids, scores = run.recommend_all(k=5, batch=7)  # several batches
    assert users.tolist() == synth.users["raw_id"].tolist() and ids.shape == scores.shape == (synth.num_users, 5)
    for row in (0, 13, 59):
        one_ids, one_scores = run.recommend(int(users[row]), k=5)
        assert ids[row].tolist() == one_ids.tolist()
        np.testing.assert_allclose(scores[row], one_scores, rtol=1e-5)
    some, ids2, _ = run.recommend_all(k=5, users=[9, 2])
    assert some.tolist() == [9, 2] and ids2.tolist() == [ids[8].tolist(), ids[1].tolist()]


def test_similar_items_is_cosine_nearest_in_the_item_embedding(neumf_run, synth):
    run = graphrec.load_run(neumf_run)
    vec = run.item_vectors().numpy()
    unit = vec / np.linalg.norm(vec, axis=1, keepdims=True)
    q = synth.movie_index(42)
    sims = unit @ unit[q]
    sims[q] = -np.inf
    order = np.argsort(-sims, kind="stable")[:6]
    ids, got = run.similar_items(42, k=6)
    assert ids.tolist() == synth.movies["raw_id"].to_numpy()[order].tolist()
    np.testing.assert_allclose(got, sims[order], rtol=1e-5)


def test_explain_contributions_add_up_to_the_logit(synth_dir, tmp_path):
    from graphrec.config import DataConfig, TrainConfig
    from graphrec.training import select_and_refit

    config = TrainConfig(model="feature-mlp", hparams={"factors": 4, "side_dim": 2, "layers": [8]}, epochs=1,
                         batch_size=256, full_eval_every=0, data=DataConfig(dataset="ml-100k", data_dir=str(synth_dir)))
    select_and_refit(config, None, tmp_path / "f", progress=False)
    run = graphrec.load_run(tmp_path / "f")
    e = run.explain(3, 20, method="ig")
    total = e["baseline"] + sum(r["contribution"] for r in e["contributions"]) + e["delta"]
    assert e["logit"] == pytest.approx(total, abs=1e-4)
    with torch.no_grad():
        want = run.model(torch.tensor([run.catalog.user_index(3)]), torch.tensor([run.catalog.movie_index(20)]))
    assert e["logit"] == pytest.approx(float(want[0]), abs=1e-5)
    assert {r["group"] for r in e["contributions"]} == set(run.model.groups)
    with pytest.raises(GraphrecError):
        graphrec.load_run(tmp_path / "f").explain(3, 99999)


def test_cli_batch_output_equals_the_api(neumf_run, tmp_path, capsys):
    run = graphrec.load_run(neumf_run)
    assert main(["recommend", "--users", "1,5,9", "-k", "4", "--run", str(neumf_run), "--json"]) == 0
    got = json.loads(capsys.readouterr().out)["users"]
    assert [g["user"] for g in got] == [1, 5, 9]
    for g in got:
        ids, scores = run.recommend(g["user"], k=4)
        assert [r["movie_id"] for r in g["recommendations"]] == ids.tolist()
        assert [r["title"] for r in g["recommendations"]] == [m["title"] for m in run.describe(ids)]
    out = tmp_path / "recs.csv"
    assert main(["recommend", "--all-users", "-k", "3", "--run", str(neumf_run), "--out", str(out)]) == 0
    rows = list(csv.DictReader(out.open()))
    assert len(rows) == 60 * 3 and rows[0].keys() >= {"user_id", "rank", "movie_id", "title", "score"}
    ids, _ = run.recommend(60, k=3)
    assert [int(r["movie_id"]) for r in rows if r["user_id"] == "60"] == ids.tolist()
    out = tmp_path / "recs.jsonl"
    assert main(["recommend", "--all-users", "-k", "3", "--run", str(neumf_run), "--out", str(out)]) == 0
    lines = [json.loads(x) for x in out.read_text().splitlines()]
    assert len(lines) == 60 and [r["movie_id"] for r in lines[59]["recommendations"]] == ids.tolist()
    capsys.readouterr()
    assert main(["recommend", "--all-users", "--run", str(neumf_run), "--out", str(tmp_path / "x.txt")]) == 2
    assert "choose a .csv or .jsonl" in capsys.readouterr().err and not (tmp_path / "x.txt").exists()


def test_cli_similar_takes_several_titles(synth, tmp_path, capsys):
    from graphrec.embeddings import EmbeddingConfig, NodeEmbeddings, nearest
    from graphrec.embeddings.views import movie_table, write_movies_tsv

    folder = tmp_path / "emb"
    movie = torch.randn(synth.num_items, 6, generator=torch.Generator().manual_seed(0))
    NodeEmbeddings(movie, None, EmbeddingConfig()).save(folder)
    write_movies_tsv(movie_table(synth), folder / "movies.tsv")
    assert main(["similar", "Movie 3", "movie 40 (1989)", "-k", "4", "--embeddings", str(folder), "--json"]) == 0
    res = json.loads(capsys.readouterr().out)["results"]
    titles = list(synth.movies["title"])
    for r, q in zip(res, (2, 39)):
        idx, _ = nearest(movie, q, 4)
        assert r["query"] == titles[q] and [n["title"] for n in r["neighbours"]] == [titles[i] for i in idx.tolist()]
    assert main(["similar", "Movie 3", "--embeddings", str(folder), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["query"] == titles[2]  # one title: the single-query shape
    assert main(["similar", "Movie 3", "No Such Film", "--embeddings", str(folder)]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and "no movie titled 'No Such Film'" in captured.err
