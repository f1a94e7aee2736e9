"""Strict delimited-text reading: every malformed row is reported by file and line.

With ``on_bad="skip"`` malformed rows are dropped instead, and their line numbers
are kept in ``df.attrs["skipped"]`` so the caller can report them.
"""
from __future__ import annotations

import codecs
import csv
import io
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Sequence

from ..errors import DataError

if TYPE_CHECKING:  # numpy and pandas load with the first file read (the CLI's parsers import ON_BAD_ROWS)
    import numpy as np
    import pandas as pd

#: What ``--on-bad-rows`` accepts: stop at the first bad row, or drop bad rows and report them.
ON_BAD_ROWS = ("error", "skip")

log = logging.getLogger("graphrec")


def read_table(
    path: str | Path,
    names: Sequence[str],
    sep: str,
    numeric: Sequence[str] = (),
    encoding: str = "latin-1",
    header: bool = False,
    quoted: bool = False,
    on_bad: str = "error",
) -> pd.DataFrame:
    """Read a delimited file whose rows must all have ``len(names)`` fields (a leading UTF-8 byte-order
    mark is dropped: the same file saved with or without one reads the same).

    ``numeric`` columns must parse as numbers. The fast path reads numbers
    directly; if anything fails, a second strict pass finds the first bad line
    and raises :class:`DataError` naming the file and line (``on_bad="skip"``:
    drops every bad line instead). With ``header`` the first line must be a
    header, not data. ``df.attrs`` holds ``source`` (the path), ``skipped`` (line
    numbers dropped) and what :func:`row_line` needs to name a row's line.
    """
    import numpy as np
    import pandas as pd

    if on_bad not in ON_BAD_ROWS:
        raise ValueError(f"on_bad must be one of {ON_BAD_ROWS}, got {on_bad!r}")
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: file not found" if not path.exists() else f"{path}: not a file")
    if path.stat().st_size == 0:
        raise DataError(f"{path}: file is empty")
    raw = path.read_bytes()
    if raw.startswith(codecs.BOM_UTF8):  # an editor's byte-order mark is no part of the first field or header
        raw = raw[len(codecs.BOM_UTF8):]
        if not raw.strip():
            raise DataError(f"{path}: file is empty")
    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError as e:
        line = raw[: e.start].count(b"\n") + 1
        raise DataError(f"{path}: line {line}: not valid {encoding} text") from None
    if header:
        _check_header(path, text[: text.find("\n")] if "\n" in text else text, names, numeric, sep)
    if len(sep) > 1:  # pandas' fast C parser takes one-character separators only
        text = text.replace(sep, "\x1f")
        sep = "\x1f"
        source, enc = text, None
    else:  # parse the bytes: a str in a StringIO costs several times the file's size
        source, enc, text = raw, encoding, None
    if source.isspace():  # no copy, unlike strip()
        raise DataError(f"{path}: file is empty")
    kwargs = dict(
        sep=sep,
        header=0 if header else None,
        names=list(names),
        engine="c",
        quoting=csv.QUOTE_MINIMAL if quoted else csv.QUOTE_NONE,
        on_bad_lines="error",
        skip_blank_lines=True,
    )
    try:  # fast path
        stream = io.StringIO(source) if enc is None else io.BytesIO(source)
        df = pd.read_csv(stream, dtype={c: np.float64 for c in numeric}, keep_default_na=False,
                         na_values={c: [""] for c in numeric}, **({"encoding": enc} if enc else {}), **kwargs)
        if len(df) and not df.isna().to_numpy().any() and len(df.columns) == len(names):
            df.attrs.update(source=str(path), skipped=[], lines=_data_lines(raw, header, len(df)))
            return df
    except (ValueError, pd.errors.ParserError):
        pass
    if text is None:
        text = raw.decode(encoding)
    return _slow_read(path, text, names, numeric, kwargs, on_bad)


def row_line(df: pd.DataFrame, j: int) -> int:
    """The file line of row ``j`` of a table from :func:`read_table`."""
    return int(df.attrs["lines"][j])


def check_rows(df: pd.DataFrame, checks: dict[str, tuple[Callable[[np.ndarray], np.ndarray], str]],
               on_bad: str = "error") -> pd.DataFrame:
    """Apply per-column value checks ``{column: (is_bad(values) -> mask, "what is wrong")}``.

    ``on_bad="error"``: :class:`DataError` naming the file and line of the first bad
    row; ``"skip"``: drop the bad rows, adding their lines to ``df.attrs["skipped"]``.
    """
    import numpy as np

    bad_any = np.zeros(len(df), dtype=bool)
    for col, (is_bad, what) in checks.items():
        values = df[col].to_numpy()
        bad = np.asarray(is_bad(values), dtype=bool)
        if bad.any() and on_bad == "error":
            j = int(np.flatnonzero(bad)[0])
            raise DataError(f"{df.attrs['source']}: line {row_line(df, j)}: {col} {_show(values[j])} {what}")
        bad_any |= bad
    if not bad_any.any():
        return df
    attrs = dict(df.attrs)
    lines = np.asarray(attrs["lines"])
    out = df[~bad_any].reset_index(drop=True)
    out.attrs.update(attrs, lines=lines[~bad_any], skipped=sorted(list(attrs["skipped"]) + lines[bad_any].tolist()))
    return out


def report_skipped(df: pd.DataFrame, shown: int = 5) -> int:
    """Log how many bad rows of ``df``'s file were skipped, with the first few line numbers."""
    lines = df.attrs.get("skipped", [])
    if lines:
        more = ", ..." if len(lines) > shown else ""
        log.warning("%s: skipped %d bad row%s (line%s %s%s)", df.attrs["source"], len(lines),
                    "s" if len(lines) > 1 else "", "s" if len(lines) > 1 else "",
                    ", ".join(map(str, lines[:shown])), more)
    return len(lines)


def _show(v) -> str:
    import numpy as np

    if isinstance(v, (float, np.floating)):
        return f"{v:.20g}" if np.isfinite(v) else str(v)
    return repr(v)


def _check_header(path: Path, first: str, names, numeric, sep: str) -> None:
    """A file that should start with a header must not start with data (it would lose its first row)."""
    fields = first.rstrip("\r").split(sep)
    for c in numeric:
        j = list(names).index(c)
        if j < len(fields):
            try:
                float(fields[j])
            except ValueError:
                continue
            raise DataError(f"{path}: line 1 holds data, not the header line; the file must start with a header "
                            f"naming its {len(names)} columns")


def _data_lines(raw: bytes, header: bool, rows: int) -> np.ndarray:
    """Line number of each data row: blank lines are skipped by the reader, so count them."""
    import numpy as np

    buf = np.frombuffer(raw, dtype=np.uint8)
    ends = np.flatnonzero(buf == 10)
    if len(buf) and buf[-1] != 10:
        ends = np.append(ends, len(buf))
    starts = np.concatenate([[0], ends[:-1] + 1]) if len(ends) else np.zeros(0, np.int64)
    length = ends - starts
    cr_only = (length == 1) & (buf[np.minimum(starts, len(buf) - 1)] == 13) if len(buf) else length.astype(bool)
    lines = np.flatnonzero((length > 0) & ~cr_only) + 1
    lines = lines[1:] if header else lines
    if len(lines) != rows:  # a reader quirk (e.g. a lone \r ending a row): fall back to row order
        return np.arange(rows) + (2 if header else 1)
    return lines


def _rows(path: Path, text: str, kwargs):
    """(line number, fields) of every non-blank data line; a row the csv module cannot read is a DataError
    (NUL bytes, a lone carriage return inside a row)."""
    quoting = csv.QUOTE_MINIMAL if kwargs["quoting"] == csv.QUOTE_MINIMAL else csv.QUOTE_NONE
    for n, line in enumerate(text.split("\n"), 1):
        if kwargs["header"] == 0 and n == 1:
            continue
        line = line[:-1] if line.endswith("\r") else line
        if not line.strip():
            continue
        try:
            row = next(csv.reader([line], delimiter=kwargs["sep"], quoting=quoting))
        except csv.Error as e:
            yield n, e
            continue
        yield n, row


def _problem(row, names, col) -> str | None:
    if isinstance(row, csv.Error):
        return f"unreadable row ({row}): binary data or a stray carriage return?"
    if len(row) != len(names):
        return f"expected {len(names)} fields, found {len(row)}"
    for c, j in col.items():
        try:
            if float(row[j]) != float(row[j]):  # NaN
                raise ValueError
        except ValueError:
            return f"{c} {row[j]!r} is not a number"
    return None


def _slow_read(path: Path, text: str, names, numeric, kwargs, on_bad: str) -> pd.DataFrame:
    """Slow path, run only after the fast read failed: the first bad line is a :class:`DataError`
    (``on_bad="skip"``: every bad line is dropped and noted in ``attrs["skipped"]``)."""
    import numpy as np
    import pandas as pd

    col = {c: list(names).index(c) for c in numeric}
    good, lines, skipped = [], [], []
    for n, row in _rows(path, text, kwargs):
        problem = _problem(row, names, col)
        if problem and on_bad == "error":
            raise DataError(f"{path}: line {n}: {problem}")
        if problem:
            skipped.append(n)
        else:
            good.append(row)
            lines.append(n)
    if not good:
        raise DataError(f"{path}: no data rows" + (f" ({len(skipped)} bad rows skipped)" if skipped else ""))
    df = pd.DataFrame(good, columns=list(names))
    for c in numeric:
        df[c] = df[c].astype(np.float64)
    df.attrs.update(source=str(path), skipped=skipped, lines=np.array(lines))
    return df
