"""``graphrec recommend --new-user`` / ``--include-new-movies`` and ``graphrec data split --cold``."""
import json

import pytest
import torch

from graphrec.cli import main
from graphrec.cli.recommend import liked_titles


@pytest.fixture(scope="module")
def run_dir(synth_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("runs")
    assert main(["train", "hetero-sage", "--data-dir", str(synth_dir), "--epochs", "2", "--quiet", "--out", str(out),
                 "--name", "hs"]) == 0
    return out / "hs"


def test_new_user_json_excludes_liked_titles(run_dir, synth, capsys):
    capsys.readouterr()
    titles = list(synth.movies["title"])
    assert main(["recommend", "--new-user", "--gender", "F", "--age", "25", "--occupation", "student",
                 "--liked", f"{titles[0]};{titles[3]}", "-k", "7", "--run", str(run_dir), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["new_user"]["liked"] == [titles[0], titles[3]] and len(out["recommendations"]) == 7
    ids = [r["movie_id"] for r in out["recommendations"]]
    assert int(synth.movies["raw_id"][0]) not in ids and int(synth.movies["raw_id"][3]) not in ids


def test_new_user_explained_and_new_movies_refused(run_dir, synth, tmp_path, capsys):
    capsys.readouterr()
    args = ["recommend", "--new-user", "--gender", "F", "--age", "25", "--occupation", "student", "-k", "3",
            "--run", str(run_dir)]
    assert main([*args, "--json"]) == 0
    plain = json.loads(capsys.readouterr().out)["recommendations"]
    assert main([*args, "--json", "--explain"]) == 0
    explained = json.loads(capsys.readouterr().out)["recommendations"]
    # the same list, each movie with its positive groups, largest first
    assert [{k: v for k, v in r.items() if k != "why"} for r in explained] == plain
    for r in explained:
        contributions = [g["contribution"] for g in r["why"]]
        assert contributions == sorted(contributions, reverse=True) and all(c > 0 for c in contributions)
        assert {g["group"] for g in r["why"]} <= {"gender", "age", "occupation", "genres", "year", "user_ratings",
                                                  "movie_ratings", "popularity"}
    path = tmp_path / "new.csv"
    path.write_text("title,year,genres\nA,1999,Drama\n")
    assert main(["recommend", "--user", "1", "--include-new-movies", str(path), "--explain", "--run", str(run_dir)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "not --include-new-movies" in err


def test_bad_demographics_one_line_listing_valid_values(run_dir, capsys):
    code = main(["recommend", "--new-user", "--gender", "X", "--age", "25", "--occupation", "pilot",
                 "--run", str(run_dir)])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "Traceback" not in err
    assert "gender 'X' (valid: F, M)" in err and "occupation 'pilot' (valid: administrator, artist" in err


def test_new_user_needs_demographics(run_dir, capsys):
    assert main(["recommend", "--new-user", "--gender", "F", "--run", str(run_dir)]) == 2
    assert "--new-user needs --age, --occupation" in capsys.readouterr().err
    assert main(["recommend", "--new-user", "--gender", "F"]) == 2  # refused before any default is trained
    assert "--new-user needs --age, --occupation" in capsys.readouterr().err


def test_new_movies_ranked_for_a_user(run_dir, tmp_path, capsys):
    path = tmp_path / "new.csv"
    path.write_text("title,year,genres\nA,1999,Drama|Romance\nB,1960,Action\nC,,\n")
    capsys.readouterr()
    assert main(["recommend", "--user", "1", "--include-new-movies", str(path), "--run", str(run_dir), "--json"]) == 0
    recs = json.loads(capsys.readouterr().out)["recommendations"]
    assert sorted(r["title"] for r in recs) == ["A", "B", "C"]
    assert [r["score"] for r in recs] == sorted((r["score"] for r in recs), reverse=True)
    path.write_text("title,year,genres\nA,1999,Space\n")
    assert main(["recommend", "--user", "1", "--include-new-movies", str(path), "--run", str(run_dir)]) == 2
    assert "unknown genre 'Space'" in capsys.readouterr().err


def test_liked_titles_keep_commas():
    assert liked_titles(["Star Wars;Usual Suspects, The; Fargo ; "]) == ["Star Wars", "Usual Suspects, The", "Fargo"]
    assert liked_titles(["Shawshank Redemption, The (1994)", "Fargo"]) == ["Shawshank Redemption, The (1994)", "Fargo"]


def test_cold_split_exported_and_read_back(synth_dir, synth, tmp_path, capsys):
    from graphrec.coldstart import load_cold
    from graphrec.config import DataConfig
    from graphrec.pipeline import build_cold_split

    assert main(["data", "split", "--cold", "--seed", "4", "--data-dir", str(synth_dir), "--out",
                 str(tmp_path / "cold")]) == 0
    back, fresh = load_cold(tmp_path / "cold"), build_cold_split(DataConfig(split_seed=4), synth)
    assert torch.equal(back.cold_users, fresh.cold_users) and torch.equal(back.user_negatives, fresh.user_negatives)
