"""Strict delimited-text reading: every malformed row is reported by file and line."""
from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from ..errors import DataError


def read_table(
    path: str | Path,
    names: Sequence[str],
    sep: str,
    numeric: Sequence[str] = (),
    encoding: str = "latin-1",
    header: bool = False,
    quoted: bool = False,
) -> pd.DataFrame:
    """Read a delimited file whose rows must all have ``len(names)`` fields.

    ``numeric`` columns must parse as numbers. The fast path reads numbers
    directly; if anything fails, a second strict pass finds the first bad line
    and raises :class:`DataError` naming the file and line.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: file not found")
    if path.stat().st_size == 0:
        raise DataError(f"{path}: file is empty")
    raw = path.read_bytes()
    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError as e:
        line = raw[: e.start].count(b"\n") + 1
        raise DataError(f"{path}: line {line}: not valid {encoding} text") from None
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
            return df
    except (ValueError, pd.errors.ParserError):
        pass
    if text is None:
        text = raw.decode(encoding)
    _diagnose(path, text, names, numeric, kwargs)
    raise DataError(f"{path}: could not be parsed")  # pragma: no cover - _diagnose always raises


def _diagnose(path: Path, text: str, names, numeric, kwargs) -> None:
    """Slow path, run only after the fast read failed: find the first bad line."""
    reader = csv.reader(io.StringIO(text), delimiter=kwargs["sep"],
                        quoting=csv.QUOTE_MINIMAL if kwargs["quoting"] == csv.QUOTE_MINIMAL else csv.QUOTE_NONE)
    col = {c: names.index(c) for c in numeric}
    rows = 0
    for row in reader:
        line = reader.line_num
        if kwargs["header"] == 0 and line == 1:
            continue
        if not row or row == [""]:
            continue
        if len(row) != len(names):
            raise DataError(f"{path}: line {line}: expected {len(names)} fields, found {len(row)}")
        for c, j in col.items():
            try:
                float(row[j])
            except ValueError:
                raise DataError(f"{path}: line {line}: {c} {row[j]!r} is not a number") from None
        rows += 1
    if rows == 0:
        raise DataError(f"{path}: no data rows")
