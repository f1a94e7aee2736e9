"""Arguments and helpers shared by sub-commands."""
from __future__ import annotations

import argparse
import json
import math
import sys
from typing import TYPE_CHECKING

from ..data.tables import ON_BAD_ROWS

if TYPE_CHECKING:
    from ..data.movielens import MovieLens


def int_at_least(low: int, high: int | None = None, why: str = ""):
    """An argparse type: an integer >= ``low`` (and <= ``high``, ``why`` saying why), else one clear line."""
    def parse(text: str) -> int:
        try:
            v = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
        if v < low:
            raise argparse.ArgumentTypeError(f"must be >= {low}, got {v}")
        if high is not None and v > high:
            raise argparse.ArgumentTypeError(f"must be <= {high}{why}, got {v}")
        return v
    return parse


def float_where(valid, requirement: str):
    """An argparse type: a finite float for which ``valid(v)`` holds, else one clear message."""
    def parse(text: str) -> float:
        try:
            v = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        if not math.isfinite(v):
            raise argparse.ArgumentTypeError(f"must be a finite number, got {text!r}")
        if not valid(v):
            raise argparse.ArgumentTypeError(f"must be {requirement}, got {v}")
        return v
    return parse


positive_int = int_at_least(1)
positive_float = float_where(lambda v: v > 0.0, "> 0")
nonnegative_int = int_at_least(0)
#: Seeds: what numpy and torch both accept.
SEED_MAX = 2**32 - 1
seed_int = int_at_least(0, SEED_MAX)
#: Sizes beyond these cannot be allocated on any machine graphrec targets: refused before anything is built.
MAX_FACTORS, MAX_NEG, MAX_THREADS = 65536, 1000, 1024
factors_int = int_at_least(1, MAX_FACTORS, " (an embedding wider than that does not fit in memory)")
neg_int = int_at_least(1, MAX_NEG, " (negatives per positive)")
threads_int = int_at_least(0, MAX_THREADS, " (torch threads; 0 = torch's default)")
#: Walks and skip-gram windows (``graphrec embed``): a walk of ``MAX_WALK`` nodes is 125x node2vec's 80, and the
#: walks tensor and each step's context grow with these; a window or time span wider than any walk or
#: history adds nothing but memory and time.
MAX_WALK, MAX_WALKS_PER_NODE = 10_000, 1000


def add_data_args(p: argparse.ArgumentParser, split: bool = True, bad_rows: bool = True) -> None:
    g = p.add_argument_group("data")
    g.add_argument("--dataset", default=None, help="ml-100k (default), ml-1m, ml-latest-small, ml-20m, ml-25m, ml-32m")
    g.add_argument("--data-dir", default=None, help="folder holding the MovieLens files (else $GRAPHREC_DATA, the cache, or a download)")
    g.add_argument("--no-cache", action="store_true",
                   help="parse the data files again instead of reading the processed-data cache (graphrec cache info)")
    g.add_argument("--force", action="store_true",
                   help="use a run with data other than it was trained on (another data fingerprint): refused "
                        "otherwise (docs/reliability.md)")
    if bad_rows:
        g.add_argument("--on-bad-rows", choices=ON_BAD_ROWS, default="error",
                       help="a malformed row in the data files: stop with its file and line (error, the default), "
                            "or skip it and report how many were skipped (skip)")
    if split:
        g.add_argument("--split-dir", default=None, help="evaluate on NCF-format split files in this folder")
        g.add_argument("--split-seed", type=seed_int, default=0, help="seed of the test negatives (default 0)")


def add_progress_args(p: argparse.ArgumentParser) -> None:
    """``--progress``/``--quiet``: ``args.progress`` is True, False or None (decide by the terminal)."""
    g = p.add_argument_group("progress")
    g.add_argument("--progress", dest="progress", action="store_true", default=None,
                   help="progress bars even when stderr is not a terminal (default: bars on a terminal, "
                        "otherwise one log line per epoch)")
    g.add_argument("--quiet", "--no-progress", dest="progress", action="store_false",
                   help="no progress bars or epoch lines")


def show_bars(progress: bool | None) -> bool:
    """Progress bars: on or off as forced, or (``None``) when stderr is a terminal."""
    return sys.stderr.isatty() if progress is None else progress


def add_device_arg(p: argparse.ArgumentParser, what: str = "models run") -> None:
    """``--device auto|cpu|cuda[:N]`` (:func:`graphrec.device.resolve_device`; checked before anything loads)."""
    p.add_argument("--device", default=None, metavar="auto|cpu|cuda[:N]",
                   help=f"where {what} (default auto: CUDA when available)")


def data_config(args, absolute: bool = False):
    """The :class:`~graphrec.training.DataConfig` of the data flags (``absolute``: paths resolved, as a run
    records them)."""
    from pathlib import Path

    from ..config import DataConfig

    def path(p):
        return str(Path(p).resolve()) if p and absolute else p

    return DataConfig(getattr(args, "dataset", None), path(getattr(args, "data_dir", None)),
                      path(getattr(args, "split_dir", None)), getattr(args, "split_seed", 0) or 0,
                      getattr(args, "on_bad_rows", "error"))


def load_data(args) -> MovieLens:
    from ..pipeline import load_dataset

    return load_dataset(data_config(args), cache=not args.no_cache)


def load_split(args, ml: MovieLens | None = None):
    """The dataset (for titles; ``None`` if only split files are given and no data is found) and the split,
    through :func:`graphrec.pipeline.build_split`; a :class:`~graphrec.pipeline.Prepared` pair."""
    from ..pipeline import build_split

    return build_split(data_config(args), ml, cache=not args.no_cache)


def print_json(obj) -> None:
    """Strict JSON on stdout (non-finite floats as ``null``); human messages go to stderr."""
    from ..io import finite_json

    json.dump(finite_json(obj), sys.stdout, indent=2, default=str, allow_nan=False)
    sys.stdout.write("\n")


def print_table(rows: list[dict], columns: list[str] | None = None, floatfmt: str = ".4f") -> None:
    if not rows:
        return
    columns = columns or list(rows[0])
    cells = [[c for c in columns]] + [
        [format(r.get(c, ""), floatfmt) if isinstance(r.get(c), float) else str(r.get(c, "")) for c in columns]
        for r in rows
    ]
    widths = [max(len(row[j]) for row in cells) for j in range(len(columns))]
    for n, row in enumerate(cells):
        print("  ".join(v.ljust(w) for v, w in zip(row, widths)).rstrip())
        if n == 0:
            print("  ".join("-" * w for w in widths))
