"""One trainer for every learned model: negatives resampled each epoch, early stopping on the
validation item's ``config.select`` score (full-ranking NDCG@10 by default), TensorBoard logging,
atomic checkpoints and resume."""
from __future__ import annotations

import copy
import math
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

from ..config import TrainConfig
from ..data.sampling import pairwise_epoch, pointwise_epoch
from ..device import num_threads
from ..errors import GraphrecError
from ..evaluation import evaluate
from ..io import figure, load_tensors, save_figure, save_tensors, write_csv, write_json
from .runs import CHECKPOINT, CONFIG, HISTORY, METRICS, WEIGHTS, finished_epochs


class TrainingDiverged(GraphrecError):
    """The loss or the weights became NaN or infinite."""


class Optimizers:
    """Several optimizers stepped as one: ``SparseAdam`` for sparse-gradient embeddings,
    ``Adam`` for the rest. L2 on sparse rows is applied to the rows a batch touched."""

    def __init__(self, sparse: torch.optim.Optimizer | None, dense: torch.optim.Optimizer | None,
                 l2: float = 0.0) -> None:
        self.sparse, self.dense, self.l2 = sparse, dense, l2
        self.optimizers = [o for o in (sparse, dense) if o is not None]

    @property
    def param_groups(self) -> list[dict]:
        return [g for o in self.optimizers for g in o.param_groups]

    def zero_grad(self, set_to_none: bool = True) -> None:
        for o in self.optimizers:
            o.zero_grad(set_to_none=set_to_none)

    @torch.no_grad()
    def step(self) -> None:
        if self.sparse is not None and self.l2:
            for p in self.sparse.param_groups[0]["params"]:
                if p.grad is not None:
                    g = p.grad.coalesce()
                    idx = g.indices()[0]
                    p.grad = torch.sparse_coo_tensor(g.indices(), g.values() + self.l2 * p[idx], g.shape,
                                                     is_coalesced=True, check_invariants=False)
        for o in self.optimizers:
            o.step()

    def state_dict(self) -> dict:
        return {"sparse": self.sparse.state_dict() if self.sparse else None,
                "dense": self.dense.state_dict() if self.dense else None}

    def load_state_dict(self, state: dict) -> None:
        for name in ("sparse", "dense"):
            opt = getattr(self, name)
            if (opt is None) != (state.get(name) is None):
                raise ValueError(f"checkpoint optimizer state does not fit this model ({name} parameters)")
            if opt is not None:
                opt.load_state_dict(state[name])


def loss_of(model, config: TrainConfig) -> str:
    """``"bce"`` or ``"bpr"``: the config's choice, else the model's default."""
    return config.loss or model.loss


def l2_on_batch(model, config: TrainConfig) -> bool:
    """Whether ``config.l2`` penalises the batch's embeddings in the loss (else: Adam weight decay)."""
    if config.l2_scope == "auto":
        return bool(getattr(model, "l2_in_loss", False))
    return config.l2_scope == "batch"


def make_optimizer(model: torch.nn.Module, config: TrainConfig) -> Optimizers:
    """Adam for any model: ``SparseAdam`` on embeddings built with ``sparse=True``, and
    fused (single-kernel) Adam on every other parameter, with ``config.l2`` as weight decay
    (none when the L2 term is on the batch's embeddings, in the loss)."""
    l2 = 0.0 if l2_on_batch(model, config) else config.l2
    sparse_ids = {id(m.weight) for m in model.modules()
                  if isinstance(m, torch.nn.Embedding) and m.sparse and m.weight.requires_grad}
    params = [p for p in model.parameters() if p.requires_grad]
    sparse = [p for p in params if id(p) in sparse_ids]
    dense = [p for p in params if id(p) not in sparse_ids]
    fused = all(p.is_floating_point() and p.device.type in ("cpu", "cuda") for p in dense)
    return Optimizers(torch.optim.SparseAdam(sparse, lr=config.lr) if sparse else None,
                      torch.optim.Adam(dense, lr=config.lr, weight_decay=l2, fused=fused or None)
                      if dense else None, l2=l2)


def batch_loss(model, config: TrainConfig, batch) -> torch.Tensor:
    """BPR on (user, positive, negative) triples or BCE on (user, item, label) rows, plus
    ``config.l2 * model.regularization(user, *items)`` when L2 is on the batch's embeddings."""
    if hasattr(model, "batch_loss"):  # models that own their step (e.g. a graph without the batch's edges)
        return model.batch_loss(batch, config)
    if loss_of(model, config) == "bpr":
        u, p, n = batch
        pos, neg = model.pair_logits(u, p, n)
        loss, items = -F.logsigmoid(pos - neg).mean(), (p, n)
    else:
        u, i, y = batch
        loss, items = F.binary_cross_entropy_with_logits(model(u, i), y), (i,)
    if config.l2 and l2_on_batch(model, config):
        loss = loss + config.l2 * model.regularization(u, *items)
    return loss


def epoch_tensors(users, items, sampler, model, config: TrainConfig, generator: torch.Generator) -> tuple:
    """``config.num_ng`` fresh negatives per positive: BPR triples or BCE rows, shuffled."""
    if loss_of(model, config) == "bpr":
        return pairwise_epoch(users, items, sampler, config.num_ng, generator)
    return pointwise_epoch(users, items, sampler, config.num_ng, generator)


def epoch_seed(seed: int, epoch: int, rank: int | None = None) -> int:
    """The seed of one epoch's shuffling, negatives and dropout (and, in DDP, of one rank's share)."""
    base = seed * 100_003 + epoch
    return base if rank is None else base * 1_009 + rank


def epoch_batches(model, split, config: TrainConfig, epoch: int):
    """The epoch's shuffled training tensors, from a generator seeded by (seed, epoch)."""
    gen = torch.Generator().manual_seed(epoch_seed(config.seed, epoch))
    if hasattr(model, "epoch_batches"):  # models that sample their own epoch (see batch_loss)
        return model.epoch_batches(split, config, gen)
    return epoch_tensors(split.train_user, split.train_item, split.train_sampler, model, config, gen)


class Trainer:
    """Trains ``model`` on ``split`` as ``config`` says, writing into ``run_dir`` (if given).

    ``progress``: True for progress bars, False for silence, ``None`` for bars on
    a terminal and otherwise one line per epoch on stderr (for logs).
    """

    def __init__(self, model, split, config: TrainConfig, run_dir: str | Path | None = None,
                 progress: bool | None = True, tensorboard: bool = True, device: torch.device | None = None,
                 on_evaluation=None) -> None:
        from ..device import resolve_device

        self.device = device if device is not None else resolve_device(config.device)
        self.model, self.split, self.config = model.to(self.device), split, config
        self.run_dir = Path(run_dir) if run_dir is not None else None
        self.progress = sys.stderr.isatty() if progress is None else progress
        self.log_epochs = progress is None and not self.progress
        self.tensorboard = tensorboard
        self.optimizer = make_optimizer(model, config)
        self.history: list[dict] = []
        self.best_score, self.best_epoch, self.bad_epochs, self.start_epoch = -math.inf, 0, 0, 1
        self.best_state = copy.deepcopy(model.state_dict())
        #: Called as ``on_evaluation(epoch, score)`` after each validation (tuning prunes trials from it).
        self.on_evaluation = on_evaluation

    # -- checkpoints -------------------------------------------------------------------------
    def _checkpoint(self, epoch: int) -> dict:
        return {"epoch": epoch, "model": self.model.state_dict(), "optimizer": self.optimizer.state_dict(),
                "best_state": self.best_state, "best_score": self.best_score, "best_epoch": self.best_epoch,
                "bad_epochs": self.bad_epochs, "history": self.history}

    def resume(self) -> None:
        """Continue from ``run_dir/checkpoint.pt`` (written after every epoch).

        A run killed before its first epoch ended has no checkpoint: it starts again from epoch 1.
        """
        if not finished_epochs(self.run_dir):
            return
        ck = load_tensors(self.run_dir / CHECKPOINT)
        self.model.load_state_dict(ck["model"])
        self.optimizer.load_state_dict(ck["optimizer"])
        self.best_state, self.best_score = ck["best_state"], ck["best_score"]
        self.best_epoch, self.bad_epochs = ck["best_epoch"], ck["bad_epochs"]
        self.history = list(ck["history"])
        self.start_epoch = ck["epoch"] + 1

    # -- training ----------------------------------------------------------------------------
    def train_epoch(self, epoch: int) -> tuple[float, float]:
        cfg, model = self.config, self.model
        torch.manual_seed(epoch_seed(cfg.seed, epoch))  # dropout etc.
        model.train()
        start = time.perf_counter()  # the epoch's time includes sampling its negatives
        tensors = [t.to(self.device, non_blocking=True) for t in epoch_batches(model, self.split, cfg, epoch)]
        n, bs = len(tensors[0]), cfg.batch_size
        batches = list(zip(*(t.split(bs) for t in tensors)))  # views, no copies
        losses = []
        for batch in tqdm(batches, desc=f"epoch {epoch}/{cfg.epochs}", unit="batch", leave=False,
                          disable=not self.progress, mininterval=0.5):
            self.optimizer.zero_grad(set_to_none=True)
            loss = batch_loss(model, cfg, batch)
            loss.backward()
            self.optimizer.step()
            losses.append(loss.detach())
        sizes = torch.tensor([len(b[0]) for b in batches], dtype=torch.float32)
        total = float(torch.stack(losses) @ sizes) if losses else 0.0
        return total / max(n, 1), time.perf_counter() - start

    def _check_finite(self, epoch: int, loss: float) -> None:
        """Stop with :class:`TrainingDiverged` when the loss or a weight is NaN or infinite.

        Nothing of the diverged epoch is saved: ``checkpoint.pt`` and ``model.pt`` keep the last good epoch.
        """
        bad = [n for n, p in self.model.named_parameters() if not bool(torch.isfinite(p).all())]
        if math.isfinite(loss) and not bad:
            return
        what = f"the loss is {loss}" if not math.isfinite(loss) else f"the weights {', '.join(bad[:3])} are not finite"
        kept = (f"the last good checkpoint (epoch {epoch - 1}) is kept in {self.run_dir}"
                if self.run_dir is not None and epoch > 1 else "no epoch completed, so no weights were saved")
        raise TrainingDiverged(f"training diverged in epoch {epoch} ({what}; lr {self.config.lr:g}); {kept}. "
                               "Train again with a smaller --lr")

    def scorer(self):
        """What evaluation scores: the model, wrapped when it lives off the CPU (evaluation runs there)."""
        from ..device import on_device

        return on_device(self.model, self.device)

    def evaluate_epoch(self, epoch: int) -> dict:
        """Validation metrics (full ranking when they select the epoch), and the test item's for the log."""
        cfg = self.config
        full = cfg.full_eval_every > 0 and epoch % cfg.full_eval_every == 0
        row: dict = {}
        if self.split.has_validation:
            res = evaluate(self.scorer(), self.split, cfg.k, "valid", full=full or cfg.select.startswith("full_"))
            row.update({f"valid_{k}": v for k, v in res.items()})
        row.update({f"test_{k}": v for k, v in evaluate(self.scorer(), self.split, cfg.k, "test", full=full).items()})
        return row

    def fit(self) -> dict:
        """Train until ``epochs`` or early stopping; restore the best weights; return test metrics."""
        with num_threads(self.config.threads):
            return self._fit()

    def _fit(self) -> dict:
        cfg = self.config
        writer = self._writer()
        sel = cfg.select_key if self.split.has_validation else None
        epochs = tqdm(range(self.start_epoch, cfg.epochs + 1), desc=f"train {cfg.model}", unit="epoch",
                      disable=not self.progress, initial=self.start_epoch - 1, total=cfg.epochs)
        for epoch in epochs:
            if cfg.patience and self.bad_epochs >= cfg.patience:  # early-stopped (also when resumed)
                break
            loss, seconds = self.train_epoch(epoch)
            self._check_finite(epoch, loss)
            row = {"epoch": epoch, "loss": loss, "seconds": seconds}
            if epoch % cfg.eval_every == 0 or epoch == cfg.epochs:
                row.update(self.evaluate_epoch(epoch))
            self.history.append(row)
            if sel is None or sel in row:
                # with validation: the best score so far; without (a refit): the latest epoch
                score = row[sel] if sel else epoch
                if score > self.best_score:
                    self.best_score, self.best_epoch, self.bad_epochs = score, epoch, 0
                    self.best_state = copy.deepcopy(self.model.state_dict())
                    if self.run_dir is not None:  # a killed run keeps its best weights so far
                        save_tensors(self.best_state, self.run_dir / WEIGHTS)
                else:
                    self.bad_epochs += 1  # patience counts evaluations
                if sel and self.on_evaluation is not None:
                    self.on_evaluation(epoch, score)
            if writer is not None:
                for key, v in row.items():
                    if key != "epoch" and isinstance(v, float) and not math.isnan(v):
                        writer.add_scalar(key.replace("_", "/", 1) if key.startswith(("valid_", "test_")) else key,
                                          v, epoch)
                writer.flush()
            epochs.set_postfix(loss=f"{loss:.4f}", **({"valid": f"{row[sel]:.3f}"} if sel in row else {}))
            if self.log_epochs:
                print(f"{cfg.model} epoch {epoch}/{cfg.epochs}: loss {loss:.4f}"
                      + (f", validation {cfg.select}@{cfg.k} {row[sel]:.4f}" if sel in row else "") + f" ({seconds:.1f} s)",
                      file=sys.stderr, flush=True)
            if self.run_dir is not None:
                save_tensors(self._checkpoint(epoch), self.run_dir / CHECKPOINT)
                self._write_history()
        self.model.load_state_dict(self.best_state)
        self.model.eval()
        result = self.result = self._final_metrics()
        self.model.cpu()  # hand back a CPU model, like every other part of graphrec
        if writer is not None:
            writer.add_hparams(_flat_hparams(cfg), {f"hparam/{k}": v for k, v in result.items()
                                                    if isinstance(v, float)}, run_name=".")
            writer.close()
        if self.run_dir is not None:
            self.save()
            write_json(self.run_dir / METRICS, result)
            self.plot()
        return result

    def _final_metrics(self) -> dict:
        from ..evaluation import with_intervals

        res = evaluate(self.scorer(), self.split, self.config.k, "test", full=True, per_user=True)
        self.test_result = res  # per-user values, for paired comparisons (graphrec.benchmark)
        ci = with_intervals(res, seed=self.config.seed)
        out = {k: v for k, v in res.items() if isinstance(v, float)}
        out.update({f"{k}_ci95": [lo, hi] for k, (_, lo, hi) in ci.items()})
        out["best_epoch"] = self.best_epoch
        out["epochs_run"] = len(self.history)
        out["train_seconds"] = sum(r["seconds"] for r in self.history)
        out["parameters"] = sum(p.numel() for p in self.model.parameters())
        return out

    # -- output ------------------------------------------------------------------------------
    def _writer(self):
        if self.run_dir is None or not self.tensorboard:
            return None
        from torch.utils.tensorboard import SummaryWriter

        # on resume, drop events logged after the checkpoint (an epoch that was cut short)
        return SummaryWriter(str(self.run_dir), purge_step=self.start_epoch if self.start_epoch > 1 else None)

    def save(self) -> None:
        self.run_dir.mkdir(parents=True, exist_ok=True)
        write_json(self.run_dir / CONFIG, self.config.to_dict())
        save_tensors(self.model.state_dict(), self.run_dir / WEIGHTS)

    def _write_history(self) -> None:
        write_csv(self.run_dir / HISTORY, self.history)

    def plot(self) -> None:
        """``curves.png``: HR@k and NDCG@k per epoch (validation and test), best epoch marked."""
        k = self.config.k
        ep = [r["epoch"] for r in self.history]
        fig, axes = figure(1, 3, figsize=(13, 3.6))
        axes[0].plot(ep, [r["loss"] for r in self.history])
        axes[0].set_title("training loss")
        for ax, metric in zip(axes[1:], (f"HR@{k}", f"NDCG@{k}")):
            for prefix in ("valid_", "test_", "valid_full_", "test_full_"):
                key = prefix + metric
                pts = [(r["epoch"], r[key]) for r in self.history if key in r]
                if pts:
                    ax.plot(*zip(*pts), marker=".", label=key.replace("_", " "))
            ax.axvline(self.best_epoch, color="grey", ls=":", label="best (validation)")
            ax.set_title(metric)
            ax.legend(fontsize=7)
        for ax in axes:
            ax.set_xlabel("epoch")
        fig.suptitle(f"{self.config.model}")
        save_figure(fig, self.run_dir / "curves.png", dpi=100)


def _flat_hparams(cfg: TrainConfig) -> dict:
    out = {"model": cfg.model, "epochs": cfg.epochs, "batch_size": cfg.batch_size, "lr": cfg.lr,
           "num_ng": cfg.num_ng, "l2": cfg.l2, "seed": cfg.seed}
    for k, v in cfg.hparams.items():
        out[k] = v if isinstance(v, (int, float, str, bool)) else str(v)
    return out

