"""The runs a server answers from, swapped whole on reload.

A :class:`Served` is one loaded run, immutable once built: its :class:`~graphrec.api.TrainedRun`, the id
that names exactly these weights (``<name>@<hash of model.pt>``), and what scoring needs precomputed.
The :class:`Registry` keeps them in a dict that is never changed in place: a reload builds the new
runs first and then replaces the dict in one assignment, so a request that already took its run
finishes on it (the old model stays alive while it is referenced) and every later request sees the new
one. A run that fails to load (a corrupt ``model.pt``, a half-written folder) is refused with one line
and the one already loaded keeps serving.
"""
from __future__ import annotations

import gc
import hashlib
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from ..api import TrainedRun, load_run
from ..errors import CheckpointError, GraphrecError
from ..training.runs import CONFIG, WEIGHTS


@dataclass(eq=False)
class Served:
    """One loaded run (see the module docstring)."""

    name: str
    id: str
    path: Path
    run: TrainedRun
    stamp: tuple  # (inode, size, mtime) of model.pt and config.json when loaded: what --watch compares
    loaded_at: float = field(default_factory=time.time)
    #: Explanations need gradients through the shared model: one at a time per run.
    explain_lock: threading.Lock = field(default_factory=threading.Lock)
    _vectors: torch.Tensor | None = None
    _map: list | None = None
    #: Every known user's logits, seen movies at -inf (:meth:`precompute`); ``None``: scored per request.
    _scores: torch.Tensor | None = None

    @property
    def model_name(self) -> str:
        return self.run.config.model

    @property
    def new_users(self) -> bool:
        """Whether the run can score users it never saw (a hetero-sage run)."""
        return hasattr(self.run.model, "score_with_nodes")

    @property
    def feature_groups(self) -> bool:
        from ..models import capabilities

        return bool(capabilities(self.run.model).explainable)

    def item_vectors(self) -> torch.Tensor | None:
        """The model's item embedding (``None`` if it has none), read once."""
        if self._vectors is None:
            try:
                self._vectors = self.run.item_vectors().float().contiguous()
            except GraphrecError:
                self._vectors = torch.zeros(0)
        return self._vectors if len(self._vectors) else None

    def precompute(self, limit: int) -> None:
        """Score every known user against every movie once, when the matrix has at most ``limit`` entries
        (ML-100K: 1.6 M, 6 MB): a request then only ranks its row. The model does not change while this
        object lives (a reload builds a new one), so the matrix never goes stale."""
        c = self.run.catalog
        if c.num_users * c.num_items > limit:
            return
        users = np.arange(c.num_users)
        self._scores = torch.cat([self.run.scores(users[s:s + 64]) for s in range(0, len(users), 64)])

    def recommend(self, user: int, k: int) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`TrainedRun.recommend <graphrec.api.TrainedRun.recommend>`, from the precomputed matrix if any."""
        if self._scores is None:
            return self.run.recommend(user, k)
        row = self._scores[self.run.catalog.user_index(user)]
        val, idx = torch.topk(row, min(k, len(row)))
        val, idx = val.numpy(), idx.numpy()
        keep = np.isfinite(val)
        return self.run.catalog.movie_ids[idx[keep]], 1.0 / (1.0 + np.exp(-val[keep]))

    def describe(self) -> dict:
        c = self.run.catalog
        return {"name": self.name, "id": self.id, "model": self.model_name, "path": str(self.path),
                "loaded_at": self.loaded_at, "dataset": c.name, "users": c.num_users, "movies": c.num_items,
                "user_ids": [int(c.user_ids[0]), int(c.user_ids[-1])] if c.num_users else [],
                "scores_precomputed": self._scores is not None,
                "can": {"recommend": True, "explain_groups": self.feature_groups, "new_user": self.new_users,
                        "similar": self.item_vectors() is not None},
                **({"occupations": self.occupations()} if self.new_users else {}),
                "metrics": self.run.metrics, "config": self.run.config.to_dict()}

    def occupations(self) -> list[str]:
        """The occupations a new user may give (hetero-sage runs)."""
        return [o for o in self.run.newcomers.table.occupation_names if o != "unknown"]


def file_stamp(path: Path) -> tuple:
    """What changes when a run's files are replaced: inode, size and mtime of its weights and config."""
    out = []
    for f in (WEIGHTS, CONFIG):
        try:
            st = (path / f).stat()
            out.append((st.st_ino, st.st_size, st.st_mtime_ns))
        except OSError:
            out.append(None)
    return tuple(out)


def weights_hash(path: Path) -> str:
    """Eight hex digits of the run's ``model.pt`` bytes: the same weights always get the same id."""
    h = hashlib.blake2b(digest_size=4)
    with open(path / WEIGHTS, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


#: The largest users x movies score matrix a run precomputes (:meth:`Served.precompute`): 32 M entries, 128 MB.
PRECOMPUTE_LIMIT = 32_000_000


def load_served(name: str, path: Path, data_dir: str | None = None, precompute: int = PRECOMPUTE_LIMIT) -> Served:
    """Load and warm the run in ``path`` (weights, catalog, a hetero-sage run's plain-torch twin, the score
    matrix up to ``precompute`` entries); :class:`CheckpointError` with one line if it cannot serve."""
    path = Path(path)
    for _ in range(3):  # the files may be replaced while we read them: read until a stable stamp
        stamp = file_stamp(path)
        try:
            run = load_run(path, data_dir=data_dir, progress=False)
            digest = weights_hash(path)
        except GraphrecError as e:
            raise CheckpointError(f"run {name!r} refused: {' '.join(str(e).split())}") from None
        except Exception as e:  # noqa: BLE001 - anything else a broken folder raises is refused the same way
            raise CheckpointError(f"run {name!r} refused: {path}: {type(e).__name__}: "
                                  f"{' '.join(str(e).split())[:300]}") from None
        if file_stamp(path) == stamp:
            break
    served = Served(name, f"{name}@{digest}", path, run, stamp)
    try:
        if served.new_users:
            _ = run.newcomers  # exports inference.npz on first use: now, not in a request
        served.item_vectors()
        served.precompute(precompute)
    except GraphrecError as e:
        raise CheckpointError(f"run {name!r} refused: {' '.join(str(e).split())}") from None
    return served


def run_names(paths: list[Path]) -> list[str]:
    """A short unique name per run folder: its own name, with its parent's in front where two clash."""
    names = [p.name for p in paths]
    return [f"{p.parent.name}/{p.name}" if names.count(p.name) > 1 else p.name for p in paths]


class Registry:
    """The loaded runs by name, in the order given (the first is the default)."""

    def __init__(self, runs: list[Served], data_dir: str | None = None, precompute: int = PRECOMPUTE_LIMIT) -> None:
        if not runs:
            raise GraphrecError("no run to serve")
        self._runs = {r.name: r for r in runs}
        self._data_dir, self._precompute = data_dir, precompute
        self._reload_lock = threading.Lock()

    @classmethod
    def load(cls, paths: list[str | Path], data_dir: str | None = None,
             precompute: int = PRECOMPUTE_LIMIT) -> "Registry":
        """Load every run folder of ``paths`` (``precompute``: see :meth:`Served.precompute`; 0: never)."""
        paths = [Path(p) for p in paths]
        return cls([load_served(n, p, data_dir, precompute) for n, p in zip(run_names(paths), paths)],
                   data_dir, precompute)

    @property
    def runs(self) -> dict[str, Served]:
        """The current runs (a snapshot: never changed in place)."""
        return self._runs

    def get(self, name: str | None = None, need: str | None = None) -> Served:
        """The run called ``name``; without one the first run, or with ``need`` the first that can:
        ``"new_user"`` (a hetero-sage run) or ``"similar"`` (a run with an item embedding)."""
        runs = self._runs
        if name:
            if name not in runs:
                raise LookupError(f"no run named {name!r}: loaded runs are {', '.join(runs)}")
            return runs[name]
        if need is None:
            return next(iter(runs.values()))
        for r in runs.values():
            if (r.new_users if need == "new_user" else r.item_vectors() is not None):
                return r
        if need == "new_user":
            raise RuntimeError("no hetero-sage run is loaded, and only a hetero-sage run scores new users: "
                               "start the server with --run DIR of one (graphrec train hetero-sage)")
        raise RuntimeError("no loaded run has an item embedding to compare movies by: serve a run of an "
                           "embedding model (e.g. neumf, lightgcn)")

    def reload(self, names: list[str] | None = None, changed_only: bool = False) -> dict:
        """Load the runs ``names`` (default: all) again from their folders and swap them in at once.

        Returns ``{"reloaded": [ids], "unchanged": [ids], "refused": [{"run", "error"}]}``; a refused run
        keeps serving its old model. With ``changed_only`` a run whose files did not change is left alone."""
        with self._reload_lock:  # one reload at a time; requests never wait for it
            old = self._runs
            unknown = [n for n in names or [] if n not in old]
            if unknown:
                raise LookupError(f"no run named {', '.join(map(repr, unknown))}: loaded runs are {', '.join(old)}")
            new, report = dict(old), {"reloaded": [], "unchanged": [], "refused": []}
            for name in names or list(old):
                cur = old[name]
                if changed_only and file_stamp(cur.path) == cur.stamp:
                    continue
                try:
                    fresh = load_served(name, cur.path, self._data_dir, self._precompute)
                except CheckpointError as e:
                    report["refused"].append({"run": name, "serving": cur.id, "error": str(e)})
                    continue
                if fresh.id == cur.id and not changed_only:
                    report["unchanged"].append(cur.id)
                    continue
                new[name] = fresh
                report["reloaded"].append(fresh.id)
            self._runs = new  # the swap: one assignment
        if report["reloaded"]:
            del old, new
            gc.collect()  # a run holds reference cycles (its lazily loaded dataset): free the old one now
        return report
