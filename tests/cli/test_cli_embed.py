"""``graphrec embed node2vec`` and ``graphrec similar`` end to end on synthetic data."""
import json

import pytest
import torch

from graphrec.cli import main

TINY = ["--dim", "8", "--walk-length", "8", "--walks-per-node", "2", "--window", "2", "--negatives", "2",
        "--no-progress"]


@pytest.fixture(scope="module")
def emb_dir(synth_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("emb") / "n2v"
    assert main(["embed", "node2vec", "--data-dir", str(synth_dir), "--out", str(out), *TINY]) == 0
    return out


def test_node2vec_writes_a_complete_folder(emb_dir, synth):
    t = torch.load(emb_dir / "embeddings.pt", weights_only=True)
    # the co-movie graph has no users; a movie is its target and context vectors side by side (2 x --dim)
    assert t["movie"].shape == (synth.num_items, 16) and "user" not in t
    meta = json.loads((emb_dir / "embeddings.json").read_text())
    assert meta["config"]["trainer"] == "word2vec" and meta["config"]["all_edges"] is False
    assert meta["config"]["graph"] == "metapath" and 0.0 <= meta["info"]["quality"]["test_i2i_HR@10"] <= 1.0
    assert (emb_dir / "raters.pt").is_file()
    lines = (emb_dir / "movies.tsv").read_text().splitlines()
    assert lines[0] == "title\tyear\tmain_genre\tgenres\tratings" and len(lines) == synth.num_items + 1
    assert lines[1].split("\t")[0] == synth.movies["title"][0]
    assert (emb_dir / "pca.png").stat().st_size > 10_000
    tb = emb_dir / "tensorboard"
    pbtxt = (tb / "projector_config.pbtxt").read_text()
    assert "metadata.tsv" in pbtxt and "tensors.tsv" in pbtxt
    meta_tsv = next(tb.rglob("metadata.tsv")).read_text().splitlines()
    assert meta_tsv[0] == "title\tyear\tmain_genre\tgenres\tratings" and len(meta_tsv) == synth.num_items + 1
    tensors = next(tb.rglob("tensors.tsv")).read_text().splitlines()
    assert len(tensors) == synth.num_items and len(tensors[0].split("\t")) == 16
    assert list(tb.glob("events.out.tfevents.*"))  # loss scalars
    assert not [p for p in emb_dir.parent.iterdir() if p.name.startswith(".")]  # no temporary left behind


def test_single_column_projector_metadata_has_no_header():
    import pandas as pd

    from graphrec.embeddings.views import projector_metadata

    table = pd.DataFrame({"title": ["A (1990)", "B (1991)"], "year": ["1990", "1991"]})
    assert projector_metadata(table, ["title"]) == (["A (1990)", "B (1991)"], None)
    assert projector_metadata(table, ["title", "year"]) == ([["A (1990)", "1990"], ["B (1991)", "1991"]],
                                                            ["title", "year"])


def test_similar_json_and_text(emb_dir, capsys):
    assert main(["similar", "movie 1", "--embeddings", str(emb_dir), "-k", "3", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["query"] == "Movie 1 (1950)" and len(out["neighbours"]) == 3
    sims = [n["similarity"] for n in out["neighbours"]]
    assert sims == sorted(sims, reverse=True) and "Movie 1 (1950)" not in [n["title"] for n in out["neighbours"]]
    assert main(["similar", "Movie 2 (1951)", "--embeddings", str(emb_dir), "--metric", "euclidean"]) == 0
    text = capsys.readouterr().out
    assert "most similar to Movie 2 (1951)" in text and "distance" in text


@pytest.mark.parametrize("title, msg", [
    ("Movie", "is ambiguous: 146 titles match: Movie 1 (1950); Movie 2 (1951); Movie 3 (1952)"),
    ("Movei 12", "no movie titled 'Movei 12'; did you mean: Movie 12"),
])
def test_similar_bad_titles_one_line_exit_2(emb_dir, capsys, title, msg):
    assert main(["similar", title, "--embeddings", str(emb_dir)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("graphrec: error: ") and err.count("\n") == 1 and msg in err


@pytest.mark.parametrize("flags, msg", [
    (["--p", "0"], "--p must be > 0"), (["--q", "-2"], "--q must be > 0"),
    (["--walk-length", "1"], "--walk-length: must be >= 2"), (["--window", "0"], "--window: must be >= 1"),
])
def test_node2vec_bad_flags_one_line_exit_2(synth_dir, tmp_path, capsys, flags, msg):
    out = tmp_path / "never"
    try:  # a bound of the parser ends in SystemExit(2), a check of the config returns 2
        code = main(["embed", "node2vec", "--data-dir", str(synth_dir), "--out", str(out), *TINY, *flags])
    except SystemExit as e:
        code = e.code
    assert code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and msg in err and "Traceback" not in err
    assert not out.exists()


def test_similar_not_an_embedding_folder(tmp_path, capsys):
    assert main(["similar", "x", "--embeddings", str(tmp_path)]) == 2
    assert "not an embedding folder" in capsys.readouterr().err


def test_similar_trains_a_default_once_and_caches_it(synth_dir, capsys, monkeypatch):
    from graphrec.embeddings import node2vec

    monkeypatch.setattr(node2vec, "DEFAULT_SIMILAR", node2vec.EmbeddingConfig(
        all_edges=True, dim=8, walk_length=8, walks_per_node=2, window=2, negatives=2))
    assert main(["similar", "Movie 3", "--data-dir", str(synth_dir), "--json"]) == 0
    first = json.loads(capsys.readouterr().out)
    assert "graphrec-home" in first["embeddings"] and len(first["neighbours"]) == 5
    calls = []
    monkeypatch.setattr(node2vec, "export_embeddings", lambda *a, **k: calls.append(a))
    assert main(["similar", "Movie 3", "--data-dir", str(synth_dir), "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == first and not calls


def test_pyg_trainer_and_comovie_graph(synth_dir, tmp_path, capsys):
    out = tmp_path / "pyg"
    assert main(["embed", "node2vec", "--data-dir", str(synth_dir), "--out", str(out), *TINY, "--trainer", "pyg",
                 "--graph", "comovie", "--min-weight", "2"]) == 0
    t = torch.load(out / "embeddings.pt", weights_only=True)
    assert set(t) == {"movie"} and t["movie"].shape[1] == 8 and torch.isfinite(t["movie"]).all()
    assert "pyg on the comovie graph" in capsys.readouterr().out


def test_similar_says_why_and_counts_common_raters_like_the_training_ratings(emb_dir, synth, synth_split, capsys):
    assert main(["similar", "movie 1", "--embeddings", str(emb_dir), "-k", "4", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    split = synth_split  # the folder was trained on this split's training edges
    raters = [set(split.train_user[split.train_item == m].tolist()) for m in range(synth.num_items)]
    titles = list(synth.movies["title"])
    q = titles.index(out["query"])
    assert out["query_raters"] == len(raters[q])
    for n in out["neighbours"]:
        j, why = titles.index(n["title"]), n["why"]
        assert why["common_raters"] == len(raters[q] & raters[j])
        assert why["shared_genres"] == [g for g in n["genres"] if g in synth.movies["genres"][q]]
        assert why["franchise"] is None  # synthetic titles "Movie N (year)" have no sequels
        assert why["year_gap"] == why["year"] - int(synth.movies["year"][q])
    assert main(["similar", "movie 1", "--embeddings", str(emb_dir), "-k", "4"]) == 0
    text = capsys.readouterr().out
    assert "common raters" in text and "shared genres" in text and f"of {len(raters[q])}" in text
