"""Attention maps across feature fields for one prediction of an attention model, as a heat-map PNG."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from ..errors import GraphrecError
from ..io import figure, save_figure


def attention_map(model, user: int, item: int) -> dict:
    """``{"groups", "fields" [layers, heads, F, F], "towers" [2] or None}`` for one (user, movie) pair."""
    from ..models import capabilities

    if not capabilities(model).attention_map:
        name = getattr(model, "registry_name", type(model).__name__)
        raise GraphrecError(f"--attention-map needs a field-attention model run (att-neumf, att-neumf-all), "
                            f"not {name!r}")
    att = model.attention(torch.tensor([user]), torch.tensor([item]))
    return {"groups": list(model.groups), "fields": att["fields"][0], "towers": att["towers"][0]}


def plot_attention_map(maps: dict, path: str | Path, labels: list[str] | None = None, title: str = "") -> Path:
    """One heat map per layer and head: row = query field, column = attended field, cell = weight."""
    fields = maps["fields"]
    n_layers, n_heads = fields.shape[:2]
    if n_layers == 0:
        raise GraphrecError("this model has no field-attention layers (att_layers=0)")
    labels = labels or maps["groups"]
    vmax = float(fields.max())
    fig, axes = figure(n_layers, n_heads, figsize=(3.2 * n_heads + 1, 3.0 * n_layers + 0.6), squeeze=False)
    for l in range(n_layers):
        for h in range(n_heads):
            ax = axes[l][h]
            w = fields[l, h].numpy()
            im = ax.imshow(w, vmin=0.0, vmax=vmax, cmap="viridis")
            for (r, c), v in np.ndenumerate(w):
                ax.text(c, r, f"{v:.2f}", ha="center", va="center", fontsize=7, color="white" if v < 0.6 * vmax else "black")
            ax.set_xticks(range(len(labels)), labels, rotation=45, ha="right", fontsize=7)
            ax.set_yticks(range(len(labels)), labels if h == 0 else [], fontsize=7)
            ax.set_title(f"layer {l + 1}, head {h + 1}", fontsize=9)
    fig.colorbar(im, ax=axes, shrink=0.8, label="attention weight")
    towers = maps.get("towers")
    extra = f"  |  tower weights GMF {float(towers[0]):.2f} / MLP {float(towers[1]):.2f}" if towers is not None else ""
    fig.suptitle((title + extra).strip(" |"), fontsize=10)
    save_figure(fig, path, dpi=110)
    return Path(path)
