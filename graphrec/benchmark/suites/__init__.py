"""The benchmark's suites: ``graphrec benchmark --suite NAME``.

``models`` (the default) is the model comparison of :class:`graphrec.benchmark.Benchmark`; every other
suite is one module of this package with ``run(args, out) -> list[Path]``: it reads the parsed flags,
writes its results (markdown, JSON, CSV) under ``out`` and returns the files it wrote. This module only
declares them (a name, a line of help, the flags each takes beyond the common ones), so that building the
command line imports nothing heavy; the command line refuses a flag the chosen suite does not take.
"""
from __future__ import annotations

from dataclasses import dataclass
from importlib import import_module
from pathlib import Path

from ...io import write_json, write_text

#: Flags every suite takes (their ``argparse`` destinations).
COMMON = frozenset({"suite", "out", "quick", "threads"})
#: The data flags of suites that read MovieLens and its leave-one-out split (a dataset folder or split files).
DATA = frozenset({"dataset", "data_dir", "split_dir", "split_seed"})


@dataclass(frozen=True)
class Suite:
    name: str
    help: str
    takes: frozenset  # argparse destinations beyond COMMON

    def module(self):
        return import_module(f"{__name__}.{self.name}")

    def run(self, args, out):
        return self.module().run(args, out)


SUITES = {s.name: s for s in (
    Suite("models", "every catalogue model over seeds: the README table (default)",
          DATA | {"models", "seeds", "epochs", "batch_size", "neg", "no_refit", "no_tuned", "retune", "trials",
                  "jobs", "readme", "progress", "device", "force", "no_cache", "on_bad_rows"}),
    Suite("coldstart", "hetero-sage warm and on the cold-start protocols against floors; --tune, --tune-term",
          {"dataset", "data_dir", "seeds", "epochs", "warm_config", "cold_config", "tune", "tune_term",
           "liked_order", "skip_warm", "skip_cold"}),
    Suite("embeddings", "movie embeddings: graphrec's word2vec against gensim, PyG's Node2Vec and baselines",
          DATA | {"epochs", "rows", "pyg_epochs", "pyg_budget", "vary", "set"}),
    Suite("similar", "neighbour quality of the options for graphrec similar: choose on validation, report test",
          DATA | {"seeds", "epochs", "only", "extra", "skip_test", "merge"}),
    Suite("speed", "one sasrec training epoch against an nn.MultiheadAttention twin",
          DATA | {"no_cache", "max_len", "repeat"}),
    Suite("cli", "start-up of graphrec commands as ratios to a bare torch import",
          {"data_dir", "runs", "home", "hetero_run"}),
    Suite("explain", "time of local and global explanations per engine, and the explained model's quality",
          DATA | {"epochs", "pairs", "repeat"}),
    Suite("data", "data pipeline speed: load, graph, split, negative sampling",
          DATA | {"repeat", "neg"}),
    Suite("scale", "every pipeline stage on MovieLens-shaped synthetic data up to 25M ratings",
          {"sizes", "eval_users", "batch_size"}),
    Suite("serve", "load test of graphrec serve on 127.0.0.1 (bounded time and requests), and batching",
          {"run", "swap_with", "scenarios", "clients", "seconds", "max_requests", "reload_every", "server_args",
           "data_dir"}),
)}
#: Every flag some suite takes: a given one the chosen suite does not take is refused.
SUITE_FLAGS = frozenset().union(*(s.takes for s in SUITES.values()))


def refused(suite: str, given: set[str]) -> list[str]:
    """The destinations in ``given`` that ``suite`` does not take (sorted)."""
    s = SUITES[suite]
    return sorted(d for d in given if d in SUITE_FLAGS and d not in s.takes and d not in COMMON)


def save(path: Path, content) -> Path:
    """Write ``content`` atomically (text as it is, anything else as strict JSON) and return ``path``."""
    (write_text if isinstance(content, str) else write_json)(path, content)
    return path
