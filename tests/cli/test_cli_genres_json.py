"""``--json`` gives a movie's genres as the same JSON list in ``graphrec recommend`` and ``graphrec similar``."""
import json

import torch

from graphrec.cli import main


def test_similar_and_recommend_give_genres_as_the_same_list(synth, neumf_run, tmp_path, capsys):
    from graphrec.embeddings import EmbeddingConfig, NodeEmbeddings
    from graphrec.embeddings.views import movie_table, write_movies_tsv

    titles = list(synth.movies["title"])
    want = dict(zip(titles, (list(g) for g in synth.movies["genres"])))
    table = movie_table(synth)
    table.loc[1, "genres"] = "(none)"  # how movies.tsv writes a movie without genres
    want[titles[1]] = []
    folder = tmp_path / "emb"
    angle = 0.01 * torch.arange(synth.num_items, dtype=torch.float32)
    movie = torch.stack([angle.cos(), angle.sin()], 1)  # movie i's nearest are i + 1, i + 2, ... by cosine
    NodeEmbeddings(movie, None, EmbeddingConfig()).save(folder)
    write_movies_tsv(table, folder / "movies.tsv")
    assert main(["similar", titles[0], "-k", "5", "--embeddings", str(folder), "--json"]) == 0
    near = json.loads(capsys.readouterr().out)["neighbours"]
    assert [n["title"] for n in near] == titles[1:6] and near[0]["genres"] == []
    assert any(len(want[n["title"]]) > 1 for n in near)  # a movie with several genres is among them
    assert all(n["genres"] == want[n["title"]] for n in near)

    assert main(["recommend", "--user", "1", "-k", "5", "--run", str(neumf_run), "--json"]) == 0
    recs = json.loads(capsys.readouterr().out)["recommendations"]
    assert all(r["genres"] == want[r["title"]] for r in recs)
