"""``graphrec benchmark --suite coldstart``: HeteroSAGE on warm leave-one-out and on the two cold-start
protocols, against floors; and the choices made on the validation cold splits.

Settings come from the shipped tuned configs (``graphrec/configs/<dataset>/``): ``hetero-sage-ids.json``
(``graphrec tune hetero-sage-ids``) for warm leave-one-out and ``hetero-sage.json`` for cold start
(``--tune``, its new-user term from ``--tune-term``); "hetero-sage (no term)" is the same trained model
without that term. The reported seeds are 0, 1, ... (``--seeds``, default 3); every choice is made on the
validation cold splits :data:`graphrec.catalogue.COLD_VALIDATION_SEED` + 0, 1, ... (as many), never on them.

Modes (one per call):

* default: for each seed, (1) warm LOO: HeteroSAGE (its warm config, and the same without id embeddings) on
  the usual split, against the tuned LightGCN, ItemKNN (k = 50) and MostPop (``--skip-warm``); (2) cold start
  (``--skip-cold``): :func:`graphrec.pipeline.build_cold_split` with that seed, HeteroSAGE (cold config)
  trained on the warm ratings through the protocol's :func:`~graphrec.training.protocol.select` (early
  stopping on the warm validation item), and the cold floors fitted on the same warm ratings. Intervals: 95 %
  percentile bootstrap over users; warm LOO pairs the same users across seeds
  (:func:`graphrec.metrics.bootstrap_seeds_users`); the cold sets differ per seed, so their (seed, user)
  rows are pooled; "a - b" is the paired difference. Timing: seconds per training epoch, one thread.
* ``--tune TRIALS``: Optuna over the catalogue entry ``hetero-sage``'s space, each trial scored by the mean
  full HR@10 of the cold protocols over the validation cold splits (one model per split, seeded by it), with
  :data:`graphrec.catalogue.HETERO_SAGE_COLD_EARLIER` as an extra candidate; writes ``OUT/hetero-sage.json``.
* ``--tune-term``: the new-user term (``demo_prior``, ``demo_decay``, ``demo_floor``, ``demo_smoothing``) is
  added at inference only, so one model per validation split is scored once per cold-user protocol and every
  point of :data:`graphrec.catalogue.NEW_USER_TERM_GRID` is that score plus the term; the point with the
  highest mean full HR@10 over the cold-user protocols is written into a copy of the cold config,
  ``OUT/hetero-sage.json``.
* ``--liked-order``: each cold user's ``m`` most recent visible ratings repeated ``r`` times in the graph
  (:data:`graphrec.catalogue.LIKED_ORDER_SCHEMES`), at k = 3 and 5, on the validation splits.

``--epochs`` caps every model's epochs; ``--quick``: one seed, 1 epoch, the catalogue's ``--quick`` widths.
Writes ``coldstart.md`` and ``coldstart.json``.
"""
from __future__ import annotations

import itertools
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

from ...catalogue import (COLD_VALIDATION_SEED, HETERO_SAGE_COLD_EARLIER, LIKED_ORDER_SCHEMES, NEW_USER_TERM_GRID,
                          NEW_USER_TERM_WEIGHTS, QUICK_HPARAMS, config_from_tuned, entry, load_tuned, read_tuned,
                          save_tuned)
from ...coldstart import COLD_KS, evaluate_cold, evaluate_cold_users
from ...config import DataConfig, TrainConfig
from ...data import load_movielens
from ...data.features import FeatureTable
from ...errors import GraphrecError
from ...evaluation import evaluate
from ...metrics import bootstrap_ci, bootstrap_seeds_users
from ...models import ItemKNN, MostPop
from ...models.cold_baselines import ColdMostPop, ContentKNN, DemographicPop, ItemKNNFromK
from ...models.sage_inference import demographic_group, group_popularity
from ...pipeline import Prepared, build_cold_split, build_model, build_split
from ...training import Trainer
from ...training.protocol import select
from . import save

METRICS = ("full_HR@10", "full_NDCG@10", "HR@10", "NDCG@10")


def fmt(t: tuple[float, float, float], signed: bool = False) -> str:
    m, lo, hi = t
    return f"{m:+.3f} [{lo:+.3f}, {hi:+.3f}]" if signed else f"{m:.3f} [{lo:.3f}, {hi:.3f}]"


def setting(args, dataset: str, name: str, path: str | None, model: str = "hetero-sage") -> TrainConfig:
    """The tuned config ``path`` (else the shipped ``name``.json) of ``model`` as a TrainConfig; ``--epochs`` caps
    its epochs, ``--quick`` gives it the catalogue's quick widths and one epoch."""
    tuned = load_tuned(name, dataset, path=path, model=model)
    if tuned is None:
        raise GraphrecError(f"no tuned config {path or name} for {dataset}: run graphrec tune or --suite coldstart --tune")
    return quicken(args, config_from_tuned(tuned, TrainConfig(model=tuned["model"], full_eval_every=0)))


def quicken(args, cfg: TrainConfig) -> TrainConfig:
    if args.quick:
        cfg = replace(cfg, epochs=1, hparams={**cfg.hparams, **QUICK_HPARAMS.get(cfg.model, {})})
    return replace(cfg, epochs=args.epochs) if args.epochs else cfg


def train_model(ml, split, cfg: TrainConfig, seed: int) -> tuple[torch.nn.Module, float, int]:
    """The protocol's selection run of ``cfg`` with ``seed``: (model, median seconds per epoch, best epoch)."""
    trainer = select(replace(cfg, seed=seed), Prepared(ml, split), progress=False, tensorboard=False)
    secs = [r["seconds"] for r in trainer.history]
    return trainer.model, float(np.median(secs)), trainer.best_epoch


def epoch_seconds(ml, split, cfg: TrainConfig, epochs: int = 3) -> tuple[float, float]:
    """(CPU, wall) seconds of the fastest of ``epochs`` training epochs of a fresh model.

    CPU time is what one core spends, whatever else the machine is running; wall time is on this
    machine as it is (a shared one inflates it)."""
    trainer = Trainer(build_model(cfg, Prepared(ml, split)), split, cfg, progress=False, tensorboard=False)
    cpu, wall = [], []
    for epoch in range(1, epochs + 1):
        c, w = time.process_time(), time.perf_counter()
        trainer.train_epoch(epoch)
        cpu.append(time.process_time() - c)
        wall.append(time.perf_counter() - w)
    return min(cpu), min(wall)


def table(title: str, rows: dict[str, list[dict]], reference: str, others: list[str], pooled: bool,
          lines: list[str], record: dict) -> None:
    """``rows[name]`` = per-seed results: means with intervals and paired differences to ``reference``, appended
    to ``lines`` (markdown) and ``record[title]`` (JSON)."""
    lines += [f"\n### {title}\n", "| scorer | " + " | ".join(METRICS) + " |", "|" + "---|" * (len(METRICS) + 1)]

    def stat(values: list[np.ndarray]) -> tuple[float, float, float]:
        return bootstrap_ci(np.concatenate(values)) if pooled else bootstrap_seeds_users(np.stack(values))

    rec = record[title] = {}
    for name, res in rows.items():
        rec[name] = {m: stat([r["per_user"][m] for r in res]) for m in METRICS}
        lines.append(f"| {name} | " + " | ".join(fmt(rec[name][m]) for m in METRICS) + " |")
    for other in others:
        ref, oth = rows[reference], rows[other]
        diff = rec[f"{reference} - {other}"] = {m: stat([a["per_user"][m] - b["per_user"][m] for a, b in zip(ref, oth)])
                                                for m in METRICS}
        lines.append(f"| {reference} - {other} | " + " | ".join(fmt(diff[m], signed=True) for m in METRICS) + " |")


def validation_seeds(args) -> list[int]:
    return [COLD_VALIDATION_SEED + i for i in range(seed_count(args))]


def seed_count(args) -> int:
    return args.seeds if "seeds" in args.given else (1 if args.quick else 3)


def run(args, out: Path) -> list[Path]:
    modes = [m for m in ("tune", "tune_term", "liked_order") if getattr(args, m)]
    if len(modes) > 1:
        raise GraphrecError("--tune, --tune-term and --liked-order are separate runs: give one")
    ml = load_movielens(args.dataset, args.data_dir, download_ok=False)
    lines: list[str] = []
    record: dict = {"seeds": list(range(seed_count(args))), "validation_seeds": validation_seeds(args)}
    paths: list[Path] = []
    if args.tune:
        paths += tune_cold(args, ml, lines, record, out)
    elif args.tune_term:
        paths += tune_term(args, ml, lines, record, out)
    elif args.liked_order:
        liked_order(args, ml, lines, record)
    else:
        report(args, ml, lines, record)
    text = "\n".join(lines) + "\n"
    print(text)
    return [*paths, save(out / "coldstart.md", text), save(out / "coldstart.json", record)]


def report(args, ml, lines: list[str], record: dict) -> None:
    """The reported seeds: warm leave-one-out and the cold-start protocols, against floors."""
    seeds = record["seeds"]
    features = FeatureTable.from_movielens(ml)
    warm_cfg = setting(args, ml.name, "hetero-sage-ids", args.warm_config)
    cold_cfg = setting(args, ml.name, "hetero-sage", args.cold_config)
    for what, cfg in (("warm", warm_cfg), ("cold", cold_cfg)):
        lines.append(f"hetero-sage {what}: {cfg.hparams}, lr {cfg.lr:.3g}, l2 {cfg.l2:.3g}, batch {cfg.batch_size}, "
                     f"{cfg.num_ng} negatives, at most {cfg.epochs} epochs (patience {cfg.patience}); seeds {seeds}  ")
    loo = build_split(DataConfig(ml.name, args.data_dir), ml).split  # the reference split, seed 0
    cpu, wall = epoch_seconds(ml, loo, cold_cfg, 1 if args.quick else 3)
    record["epoch_seconds"] = {"cpu": cpu, "wall": wall}
    lines.append(f"one training epoch on {ml.name} (LOO split, cold config), {torch.get_num_threads()} thread(s): "
                 f"{cpu:.2f} s CPU, {wall:.2f} s wall")
    if not args.skip_warm:
        models = {"hetero-sage": warm_cfg,
                  "hetero-sage (no ids)": replace(warm_cfg, hparams={**warm_cfg.hparams, "use_ids": False}),
                  "LightGCN (tuned)": setting(args, ml.name, "lightgcn", None, "lightgcn")}
        warm: dict[str, list[dict]] = {name: [] for name in (*models, "ItemKNN (k=50)", "MostPop")}
        split = loo  # the reference split: the same users and items for every seed
        knn = evaluate(ItemKNN(k=50).fit(split), split, 10, "test", per_user=True)
        pop = evaluate(MostPop().fit(split), split, 10, "test", per_user=True)
        for seed in seeds:
            for name, cfg in models.items():
                model, epoch_s, best = train_model(ml, split, cfg, seed)
                warm[name].append(evaluate(model, split, 10, "test", per_user=True))
                print(f"warm seed {seed} {name}: best epoch {best}, {epoch_s:.2f} s/epoch, "
                      f"full HR@10 {warm[name][-1]['full_HR@10']:.4f}", flush=True)
            warm["ItemKNN (k=50)"].append(knn)
            warm["MostPop"].append(pop)
        table(f"Warm leave-one-out ({ml.name}, test item)", warm, "hetero-sage",
              ["LightGCN (tuned)", "ItemKNN (k=50)", "MostPop", "hetero-sage (no ids)"], False, lines, record)
    if args.skip_cold:
        return
    names = ["hetero-sage", "ContentKNN", "MostPop", "DemographicPop", "ItemKNN-from-k"]
    if cold_cfg.hparams.get("demo_prior", 0.0) > 0:  # the same trained model without its new-user term
        names.insert(1, "hetero-sage (no term)")
    cold_rows: dict[str, dict[str, list[dict]]] = {}
    for seed in seeds:
        cold = build_cold_split(DataConfig(split_seed=seed), ml)
        model, epoch_s, best = train_model(ml, cold.warm_split(), cold_cfg, seed)
        print(f"cold seed {seed}: {cold.summary()}; best epoch {best}, {epoch_s:.2f} s/epoch", flush=True)
        bare = model.with_nodes()
        bare.demo_prior = 0.0
        scorers = {"hetero-sage": model, "hetero-sage (no term)": bare, "ContentKNN": ContentKNN(features),
                   "MostPop": ColdMostPop(features), "DemographicPop": DemographicPop(features),
                   "ItemKNN-from-k": ItemKNNFromK(features, cold.train_user, cold.train_item)}
        for name in names:
            for protocol, res in evaluate_cold(scorers[name], cold).items():
                cold_rows.setdefault(protocol, {}).setdefault(name, []).append(res)
    movie_rows = [n for n in names if n != "ItemKNN-from-k"]
    table("Cold movies (10 % of movies unseen; ranked among cold movies)",
          {n: cold_rows["movies"][n] for n in movie_rows}, "hetero-sage", movie_rows[1:], True, lines, record)
    for k in COLD_KS:
        rows = {n: cold_rows[f"users@{k}"][n] for n in names if not (k == 0 and n in ("ContentKNN", "ItemKNN-from-k"))}
        table(f"Cold users, k = {k} known ratings (ranked among warm movies)", rows, "hetero-sage",
              [n for n in rows if n != "hetero-sage"], True, lines, record)


def tune_cold(args, ml, lines: list[str], record: dict, out: Path) -> list[Path]:
    """``--tune`` trials of the catalogue entry ``hetero-sage``'s space on the validation cold splits."""
    import optuna

    seeds = validation_seeds(args)
    colds = [build_cold_split(DataConfig(split_seed=s), ml) for s in seeds]
    warms = [c.warm_split() for c in colds]

    def score(point: dict) -> tuple[float, dict, list[int]]:
        cfg = quicken(args, config_from_tuned({"model": "hetero-sage", **point},
                                              TrainConfig(model="hetero-sage", full_eval_every=0)))
        per, epochs = {}, []
        for seed, cold, warm in zip(seeds, colds, warms):
            model, _, best = train_model(ml, warm, cfg, seed)
            epochs.append(best)
            for protocol, res in evaluate_cold(model, cold).items():
                per.setdefault(protocol, []).append(res["full_HR@10"])
        per = {p: round(float(np.mean(v)), 4) for p, v in per.items()}
        return float(np.mean(list(per.values()))), per, epochs

    def objective(trial) -> float:
        value, per, epochs = score(entry("hetero-sage").space(trial))
        trial.set_user_attr("best_epochs", epochs)
        trial.set_user_attr("protocols", per)
        print(f"trial {trial.number}: {value:.4f} {per} epochs {epochs} {trial.params}", flush=True)
        return value

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.TPESampler(seed=0))
    study.optimize(objective, n_trials=args.tune)
    best = study.best_trial
    earlier, earlier_per, earlier_epochs = score(HETERO_SAGE_COLD_EARLIER)
    common = {"trials": args.tune, "seed": 0, "metric": "mean full_HR@10 over the cold protocols",
              "split": f"cold splits seeds {seeds} (warm validation item for the epoch)",
              "candidates": {"best trial": best.value, "earlier default": earlier}}
    if best.value >= earlier:
        point = entry("hetero-sage").space(optuna.trial.FixedTrial(best.params))
        tuning = {**common, "best_value": best.value, "best_epochs": best.user_attrs["best_epochs"],
                  "protocols": best.user_attrs["protocols"], "params": best.params}
    else:
        point = HETERO_SAGE_COLD_EARLIER
        tuning = {**common, "best_value": earlier, "best_epochs": earlier_epochs, "protocols": earlier_per,
                  "params": "earlier default"}
    record["tune"] = tuning
    lines += [f"### hetero-sage cold config: {args.tune} trials on the validation cold splits {seeds}\n",
              f"earlier default: {earlier:.4f} {earlier_per}; best trial {best.value:.4f} {best.params}",
              f"chosen: {tuning['best_value']:.4f} ({tuning['params']})"]
    return [save_tuned({"model": "hetero-sage", **point, "tuning": tuning}, out / "hetero-sage.json")]


class FullRanks:
    """Full HR@10 / NDCG@10 of one cold-user protocol for any score matrix, as
    :func:`graphrec.coldstart.evaluate_cold_users` counts them (ties against the target), but sorting each
    user's candidates once instead of comparing every target with every movie: fast enough for a grid (checked
    equal to it on every model it scores)."""

    def __init__(self, cold) -> None:
        users = cold.cold_users
        row_of = torch.full((cold.num_users,), -1, dtype=torch.long)
        row_of[users] = torch.arange(len(users))
        cand = torch.ones(len(users), cold.num_items, dtype=torch.bool)
        cand[:, cold.cold_items] = False
        cand[row_of[cold.user_known_user], cold.user_known_item] = False
        cand[row_of[cold.user_test_user], cold.user_test_item] = False
        self.cand, self.rows, self.targets = cand, row_of[cold.user_test_user], cold.user_test_item
        self.per_row = [torch.nonzero(self.rows == r).flatten() for r in range(len(users))]

    def __call__(self, scores: torch.Tensor, at: int = 10) -> tuple[float, float]:
        masked = torch.where(self.cand, scores, torch.tensor(-float("inf"))).sort(1).values
        t = scores[self.rows, self.targets]
        rank = torch.empty(len(t), dtype=torch.long)
        for r, idx in enumerate(self.per_row):
            # candidates scoring >= the target: all minus those strictly below (the -inf non-candidates among them)
            rank[idx] = scores.shape[1] - torch.searchsorted(masked[r], t[idx], side="left")
        hit = (rank < at).double()
        gain = torch.where(rank < at, 1.0 / torch.log2(rank.double() + 2.0), torch.zeros_like(hit))
        count = torch.bincount(self.rows, minlength=len(self.per_row)).double()
        hr = torch.zeros(len(count), dtype=torch.float64).index_add_(0, self.rows, hit) / count
        nd = torch.zeros(len(count), dtype=torch.float64).index_add_(0, self.rows, gain) / count
        return float(hr.mean()), float(nd.mean())


def validation_models(args, ml):
    """``(seed, cold split, model)`` per validation cold split: the cold config trained on its warm ratings."""
    cfg = setting(args, ml.name, "hetero-sage", args.cold_config)
    for seed in validation_seeds(args):
        cold = build_cold_split(DataConfig(split_seed=seed), ml)
        model, _, best = train_model(ml, cold.warm_split(), cfg, seed)
        model.eval()
        print(f"validation split {seed}: best epoch {best}", flush=True)
        yield seed, cold, model


def tune_term(args, ml, lines: list[str], record: dict, out: Path) -> list[Path]:
    """``--tune-term``: the new-user term's four numbers from the catalogue's grid, on the validation splits."""
    features = FeatureTable.from_movielens(ml)
    group = demographic_group(features.user_gender, features.user_age, len(features.age_names))
    num_groups = len(features.gender_names) * len(features.age_names)
    smoothing = NEW_USER_TERM_GRID["demo_smoothing"]
    results: dict = {}  # (s, k) -> per split: (full-rank evaluator, base scores, pop term) to blend
    floors: dict = {}
    for seed, cold, model in validation_models(args, ml):
        model = model.without_new_user_term()  # the grid adds the term to the model's own scores
        users = cold.cold_users
        scorers = {"MostPop": ColdMostPop(features), "DemographicPop": DemographicPop(features),
                   "ItemKNN-from-k": ItemKNNFromK(features, cold.train_user, cold.train_item)}
        ranks = FullRanks(cold)
        for k in COLD_KS:
            vu, vi = cold.visible(k)
            model.set_graph(vu, vi)
            with torch.no_grad():
                base = model.score_all(users).float()
            check = evaluate_cold_users(model, cold, k)
            if not np.allclose(ranks(base), (check["full_HR@10"], check["full_NDCG@10"])):
                raise AssertionError("the fast full-rank count differs from evaluate_cold_users")
            for s in smoothing:
                pop = group_popularity(vu, vi, group, num_groups, features.num_items, s)[:, group[users]].T
                results.setdefault((s, k), []).append((ranks, base, pop))
            for name, scorer in scorers.items():
                scorer.set_graph(vu, vi)
                floors.setdefault((name, k), []).append(ranks(scorer.score_all(users).float()))
    cache: dict = {}

    def score(s: float, k: int, lam: float) -> tuple[float, float]:
        if (s, k, lam) not in cache:
            both = [ranks(base + lam * pop) for ranks, base, pop in results[(s, k)]]
            cache[(s, k, lam)] = (float(np.mean([a for a, _ in both])), float(np.mean([b for _, b in both])))
        return cache[(s, k, lam)]

    lines.append("### Validation floors (mean over the splits), full HR@10 / full NDCG@10\n")
    for (name, k), v in sorted(floors.items(), key=lambda x: (x[0][1], x[0][0])):
        lines.append(f"* k={k} {name}: {np.mean([a for a, _ in v]):.4f} / {np.mean([b for _, b in v]):.4f}")
    lines.append("\n### Per k, the best constant weight at each smoothing (full HR@10 / NDCG@10; weight 0 = the model)\n")
    for k in COLD_KS:
        for s in smoothing:
            best = max(NEW_USER_TERM_WEIGHTS, key=lambda lam: score(s, k, lam))
            lines.append(f"* k={k} s={s}: model {score(s, k, 0.0)[0]:.4f}; lambda={best} {score(s, k, best)[0]:.4f} / "
                         f"{score(s, k, best)[1]:.4f}")
    grid = []
    g = NEW_USER_TERM_GRID
    for lam0, decay, floor, s in itertools.product(g["demo_prior"], g["demo_decay"], g["demo_floor"], smoothing):
        per = {k: score(s, k, floor + (lam0 - floor) * decay ** k) for k in COLD_KS}
        grid.append((float(np.mean([v[0] for v in per.values()])), lam0, decay, floor, s, per))
    grid.sort(key=lambda x: -x[0])
    none = float(np.mean([score(0.0, k, 0.0)[0] for k in COLD_KS]))
    lines.append(f"\n### The grid: without the term, mean full HR@10 over k {none:.4f}; top 10 points\n")
    for value, lam0, decay, floor, s, per in grid[:10]:
        lines.append(f"* {value:.4f} lambda_0={lam0} decay={decay} floor={floor} s={s}: " +
                     ", ".join(f"k={k} {hr:.4f}/{nd:.4f}" for k, (hr, nd) in per.items()))
    value, lam0, decay, floor, s, per = grid[0]
    tuned = read_tuned(args.cold_config) if args.cold_config else load_tuned("hetero-sage", ml.name)
    tuned["hparams"].update({"demo_prior": lam0, "demo_decay": decay, "demo_floor": floor, "demo_smoothing": s})
    term = {"command": "graphrec benchmark --suite coldstart --tune-term",
            "split": f"cold splits seeds {validation_seeds(args)}",
            "metric": "mean full_HR@10 over the cold-user protocols", "grid": {k: list(v) for k, v in g.items()},
            "without": round(none, 4), "best_value": round(value, 4),
            "protocols": {f"users@{k}": round(v[0], 4) for k, v in per.items()}}
    tuned.setdefault("tuning", {})["new_user_term"] = record["new_user_term"] = term
    return [save_tuned(tuned, out / "hetero-sage.json")]


def liked_order(args, ml, lines: list[str], record: dict) -> None:
    """``--liked-order``: does the order of a new user's liked titles help? Validation splits, k = 3 and 5."""
    found: dict = {}
    for seed, cold, model in validation_models(args, ml):
        ranks = FullRanks(cold)
        for k in (3, 5):
            vu, vi = cold.visible(k)
            known = slice(len(cold.train_user), None)  # the cold users' visible ratings follow the warm ones
            for m, r in LIKED_ORDER_SCHEMES:
                ku, ki = vu[known], vi[known]
                recent = torch.zeros(len(ku), dtype=torch.bool)
                if m:  # the visible ratings that k - m known ratings would not show: the m most recent
                    pu, pi = cold.visible(k - m)
                    recent = ~torch.isin(ku * cold.num_items + ki, pu[known] * cold.num_items + pi[known])
                model.set_graph(torch.cat([vu, ku[recent].repeat(r - 1)]), torch.cat([vi, ki[recent].repeat(r - 1)]))
                with torch.no_grad():
                    scores = model.score_all(cold.cold_users).float()
                found.setdefault((k, m, r), []).append(ranks(scores))
    lines += ["### The liked titles' order (validation splits; full HR@10, NDCG@10 in brackets)\n",
              "| k | " + " | ".join("plain set" if m == 0 else f"last {m} x{r}" for m, r in LIKED_ORDER_SCHEMES) + " |",
              "|---|" + "---|" * len(LIKED_ORDER_SCHEMES)]
    for k in (3, 5):
        cells = [found[(k, m, r)] for m, r in LIKED_ORDER_SCHEMES]
        lines.append(f"| {k} | " + " | ".join(f"{np.mean([a for a, _ in v]):.4f} ({np.mean([b for _, b in v]):.4f})"
                                             for v in cells) + " |")
    record["liked_order"] = {f"k={k} last {m} x{r}": v for (k, m, r), v in found.items()}
