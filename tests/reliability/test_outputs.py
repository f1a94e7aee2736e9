"""Class 1 of issue 25: an output path that is not a regular file (or a folder, for folder outputs) is
refused with one line naming it; nothing is replaced. Every writer goes through graphrec.io."""
import os
import stat
from pathlib import Path

import pytest

from graphrec.errors import GraphrecError
from graphrec.io import OutputError, atomic_dir, atomic_path, check_output, write_csv, write_json, write_text


def _targets(tmp_path: Path) -> dict[str, Path]:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    folder = tmp_path / "folder"
    folder.mkdir()
    (folder / "keep.txt").write_text("kept")
    links = {"link-to-fifo": fifo, "link-to-folder": folder, "link-to-dev-null": Path(os.devnull),
             "link-to-nothing": tmp_path / "missing"}
    out = {"fifo": fifo, "folder": folder}
    for name, target in links.items():
        (tmp_path / name).symlink_to(target)
        out[name] = tmp_path / name
    loop = tmp_path / "loop"
    loop.symlink_to(loop)
    out["symlink-loop"] = loop
    return out


@pytest.mark.parametrize("writer", [
    lambda p: write_text(p, "x"), lambda p: write_json(p, {"a": 1}), lambda p: write_csv(p, [{"a": 1}])])
def test_file_writers_refuse_what_is_not_a_regular_file(tmp_path, writer):
    for name, path in _targets(tmp_path).items():
        before = os.lstat(path)
        with pytest.raises(OutputError) as e:
            writer(path)
        msg = str(e.value)
        assert str(path) in msg and "\n" not in msg and ".tmp" not in msg, (name, msg)
        after = os.lstat(path)
        assert (before.st_mode, before.st_ino) == (after.st_mode, after.st_ino), name  # not replaced
    assert isinstance(OutputError("x"), GraphrecError)  # one line, exit 2 on the command line
    assert (tmp_path / "folder" / "keep.txt").read_text() == "kept"
    assert stat.S_ISFIFO(os.lstat(tmp_path / "fifo").st_mode)
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]  # no temp file left


def test_refused_before_the_work(tmp_path):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    ran = []
    with pytest.raises(OutputError):
        with atomic_path(fifo):
            ran.append(1)
    assert not ran


def test_regular_and_missing_files_are_written(tmp_path):
    write_text(tmp_path / "new" / "a.txt", "one")
    write_text(tmp_path / "new" / "a.txt", "two")
    assert (tmp_path / "new" / "a.txt").read_text() == "two"


def test_a_link_to_a_regular_file_writes_the_file_and_keeps_the_link(tmp_path):
    real = tmp_path / "real.json"
    real.write_text("old")
    link = tmp_path / "link.json"
    link.symlink_to(real)
    write_json(link, {"a": 1})
    assert link.is_symlink() and '"a": 1' in real.read_text()


def test_folder_writer_refuses_files_devices_and_fifos(tmp_path):
    t = _targets(tmp_path)
    f = tmp_path / "file"
    f.write_text("x")
    for path in (f, t["fifo"], t["link-to-fifo"], t["link-to-dev-null"], t["link-to-nothing"], t["symlink-loop"]):
        with pytest.raises(OutputError) as e:
            with atomic_dir(path) as stage:
                (stage / "a").write_text("a")
        assert str(path) in str(e.value)
    assert f.read_text() == "x"
    with atomic_dir(t["link-to-folder"]) as stage:  # a link to a folder: written into that folder
        (stage / "a").write_text("a")
    assert (tmp_path / "folder" / "a").read_text() == "a" and t["link-to-folder"].is_symlink()


def test_check_output_names_the_kind(tmp_path):
    with pytest.raises(OutputError, match="character device"):
        check_output(os.devnull)  # only checked, never written
    with pytest.raises(OutputError, match="folder"):
        check_output(tmp_path)


def test_cli_refuses_a_device_out_with_one_line(tmp_path, capsys):
    from graphrec.cli import main

    link = tmp_path / "recs.csv"
    link.symlink_to(os.devnull)
    code = main(["recommend", "--user", "1", "--out", str(link)])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and str(link) in err and link.is_symlink()


def test_every_writer_goes_through_graphrec_io():
    """No module writes files itself: open(..., 'w'), write_text, torch.save, np.save outside graphrec.io's
    helpers (a staged file inside atomic_dir/atomic_path's temporary path is fine: listed here)."""
    import re

    root = Path(__file__).resolve().parents[2] / "graphrec"
    allowed = {"io.py", "data/processed.py", "data/download.py", "data/split.py", "coldstart.py", "training/runs.py",
               "benchmark/suites/scale.py"}  # scale: synthetic CSV files in a temporary directory
    pattern = re.compile(r"open\([^)]*[\"'][wa]b?[\"']|\.write_(text|bytes)\(|to_csv\(|csv\.(Dict)?[wW]riter\(")
    bad = []
    for path in root.rglob("*.py"):
        rel = path.relative_to(root).as_posix()
        if rel in allowed:
            continue
        for n, line in enumerate(path.read_text().splitlines(), 1):
            if pattern.search(line):
                bad.append(f"{rel}:{n}: {line.strip()}")
    assert not bad, bad


def _projector_rows(tmp_path, table, columns=None):
    """The lines of the ``metadata.tsv`` TensorBoard writes for ``table`` (as the projector splits them)."""
    import torch
    from torch.utils.tensorboard import SummaryWriter

    from graphrec.embeddings.views import add_projector

    writer = SummaryWriter(str(tmp_path / "tb"))
    add_projector(writer, torch.randn(len(table), 4), table, columns=columns)
    writer.close()
    (path,) = (tmp_path / "tb").rglob("metadata.tsv")
    return path.read_bytes().decode("utf-8").split("\n")[:-1]


def test_projector_metadata_one_row_per_vector_in_order(tmp_path):
    """Titles holding a tab, a newline, a carriage return or spaces at their ends, and a genre holding a tab, give
    exactly one metadata row per vector, each with one field per column, labels in the vectors' order."""
    from types import SimpleNamespace

    import pandas as pd

    from graphrec.embeddings.views import MOVIE_COLUMNS, movie_table

    titles = ["Tab\tTitle (1990)", "New\nLine (1991)", " Spaced (1992) ", "Cr\r\nLf (1993)", "Plain (1994)"]
    ml = SimpleNamespace(num_items=5, ratings=pd.DataFrame({"item": [0, 1, 1, 4]}), movies=pd.DataFrame({
        "title": titles, "year": [1990, 1991, 1992, 1993, 1994],
        "genres": [["Drama"], ["Sci\tFi", "Drama"], [], ["Comedy"], ["Drama"]]}))
    rows = _projector_rows(tmp_path, movie_table(ml))
    assert rows[0].split("\t") == MOVIE_COLUMNS
    cells = [r.split("\t") for r in rows[1:]]
    assert len(cells) == 5 and all(len(c) == len(MOVIE_COLUMNS) for c in cells)
    assert [c[0] for c in cells] == ["Tab Title (1990)", "New Line (1991)", "Spaced (1992)", "Cr Lf (1993)",
                                     "Plain (1994)"]
    assert cells[1][2:4] == ["Sci Fi", "Sci Fi|Drama"] and [c[4] for c in cells] == ["1", "2", "0", "0", "1"]


def test_projector_single_column_labels_in_order(tmp_path):
    """The one-column form (no header) of a table not made by movie_table: each label on its own line; a blank
    label would be skipped by the projector and shift every label after it."""
    import pandas as pd

    table = pd.DataFrame({"title": ["A\tB", "C\nD", "   ", "E"]})
    assert _projector_rows(tmp_path, table, ["title"]) == ["A B", "C D", "(none)", "E"]
