"""A warm ``recommend --new-user`` / ``--include-new-movies`` of a hetero-sage run reads the run's exported
twin and the cached catalog: it imports neither torch_geometric, pandas nor scikit-learn, and says the same."""
import json
import os

from test_lazy_imports import _probe

from graphrec.cli import main


def test_warm_new_user_imports_only_torch(synth_dir, synth, tmp_path, capsys):
    import graphrec

    assert main(["train", "hetero-sage", "--data-dir", str(synth_dir), "--epochs", "1", "--quiet", "--out",
                 str(tmp_path), "--name", "hs"]) == 0
    run = tmp_path / "hs"
    titles = list(synth.movies["title"])
    loaded = graphrec.load_run(run)
    # through PyG (the loaded model itself) ...
    from graphrec.inductive import recommend_new_user

    pyg = recommend_new_user(loaded.model, synth, "F", 25, "student", [titles[0], titles[3]], k=5)
    # ... and through the twin, which this call exports to inference.npz (and warms the catalog)
    assert rounded(loaded.recommend_new_user("F", 25, "student", [titles[0], titles[3]], k=5)) == rounded(pyg)
    assert (run / "inference.npz").is_file()
    csv = tmp_path / "new.csv"
    csv.write_text("title,year,genres\nA,1999,Drama|Romance\nB,1960,Action\n")
    argv = [["recommend", "--new-user", "--gender", "F", "--age", "25", "--occupation", "student", "--liked",
             f"{titles[0]};{titles[3]}", "-k", "5", "--run", str(run), "--json"],
            ["recommend", "--user", "1", "--include-new-movies", str(csv), "--run", str(run), "--json"]]
    seen = _probe(argv, env={"GRAPHREC_HOME": os.environ["GRAPHREC_HOME"]})
    for modules in seen.values():
        assert "torch" in modules and not {"torch_geometric", "pandas", "sklearn", "scipy"} & set(modules)
    capsys.readouterr()
    assert main(argv[0]) == 0
    assert rounded(json.loads(capsys.readouterr().out)["recommendations"]) == rounded(pyg)


def rounded(recs: list[dict]) -> list[dict]:
    """Scores to 5 decimals: the twin sums in another order than PyG."""
    return [{**r, "score": round(r["score"], 5)} for r in recs]
