"""Class 2 of issue 25: every CSV graphrec writes escapes cells a spreadsheet would run as a formula
(OWASP: a leading ``'``), through the one writer graphrec.io.write_csv; graphrec reads its own back exactly."""
import csv

import pytest

from graphrec.io import csv_cell, csv_value, read_csv, write_csv

EVIL = ["=HYPERLINK(\"http://x\")", "+1+1", "-2+3", "@SUM(A1)", "\tx", "\rx", "'=already", "''@twice"]
PLAIN = ["Star Wars (1977)", "'Til There Was You (1997)", "-0.5", "+3", "1e-3", "", "a=b", "x-y"]


def _cells(text: str, delimiter: str = ",") -> list[str]:
    import io

    return [c for row in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter) for c in row]


def test_formula_cells_escaped_and_read_back():
    for s in EVIL:
        assert csv_cell(s).startswith("'") and csv_value(csv_cell(s)) == s
    for s in PLAIN:
        assert csv_cell(s) == s and csv_value(s) == s
    assert csv_cell(-3) == -3 and csv_cell(1.5) == 1.5  # numbers stay numbers


def test_no_written_cell_starts_a_formula(tmp_path):
    write_csv(tmp_path / "a.csv", [{"title": s, "n": -1} for s in EVIL + PLAIN])
    for c in _cells(open(tmp_path / "a.csv", newline="").read()):
        assert not c.startswith(("=", "+", "-", "@", "\t", "\r")) or c in ("-1", "-0.5", "+3"), c
    assert [r["title"] for r in read_csv(tmp_path / "a.csv")] == EVIL + PLAIN


def test_recommend_out_csv(tmp_path):
    from graphrec.cli.recommend import write_lists

    recs = [{"rank": 1, "movie_id": 7, "title": "=cmd|' /C calc'!A0", "year": None, "genres": ["@x"], "score": -0.25}]
    write_lists(str(tmp_path / "recs.csv"), [1], [recs])
    cells = _cells((tmp_path / "recs.csv").read_text())
    assert "'=cmd|' /C calc'!A0" in cells and "'@x" in cells and "-0.250000" in cells


def test_benchmark_csvs():
    from graphrec.benchmark.report import _csv

    assert _cells(_csv([{"model": "=evil", "hr": -0.1}]))[2:] == ["'=evil", "-0.1"]


def test_history_csv(tmp_path):
    """The trainer's history.csv goes through write_csv (a formula-like key is escaped too)."""
    import inspect

    from graphrec.training import trainer

    assert "write_csv(self.run_dir / HISTORY" in inspect.getsource(trainer.Trainer._write_history)
    write_csv(tmp_path / "history.csv", [{"epoch": 1, "=loss": 0.5}])
    assert _cells((tmp_path / "history.csv").read_text())[:2] == ["epoch", "'=loss"]


def test_embedding_movies_tsv_round_trip(tmp_path):
    pd = pytest.importorskip("pandas")
    from graphrec.embeddings.node2vec import movie_rows
    from graphrec.embeddings.views import MOVIE_COLUMNS, write_movies_tsv

    table = pd.DataFrame({"title": ["=1+1", "+Plus (1990)", "Normal"], "year": ["", "1990", "1991"],
                          "main_genre": ["Drama"] * 3, "genres": ["Drama", "Drama|Comedy", "(none)"],
                          "ratings": [1, 2, 3]})[MOVIE_COLUMNS]
    write_movies_tsv(table, tmp_path / "movies.tsv")
    text = (tmp_path / "movies.tsv").read_text()
    assert "\n=1+1" not in text and "\n'=1+1\t" in text
    assert [r["title"] for r in movie_rows(tmp_path)] == ["=1+1", "+Plus (1990)", "Normal"]
