"""Pictures of attributions: a waterfall for one pair, bars and a beeswarm for many."""
from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np

from ..io import figure, save_figure
from .base import Attribution


def plot_local(attr: Attribution, path: str | Path, table=None, n: int = 0, title: str | None = None) -> None:
    """SHAP-style waterfall of pair ``n``: from the baseline logit, group by group, to the prediction."""
    import matplotlib.pyplot as plt  # SHAP draws on pyplot's current figure
    import shap

    one = attr[n] if len(attr) > 1 else attr
    shap.plots.waterfall(one.to_shap(table)[0], max_display=len(attr.groups), show=False)
    fig = plt.gcf()
    fig.suptitle(title or f"{attr.method}: contributions to the logit (score {float(attr.scores[n]):.3f})")
    save_figure(fig, path, dpi=110)


def plot_importance(attr: Attribution, path: str | Path, title: str | None = None) -> None:
    """Bar chart of the mean |contribution| of each group over the pairs."""
    imp = attr.mean_abs()
    names = sorted(imp, key=imp.get)
    fig, ax = figure(figsize=(6, 0.4 * len(names) + 1.2))
    ax.barh(names, [imp[g] for g in names], color="#1f77b4")
    ax.set_xlabel("mean |contribution to the logit|")
    ax.set_title(title or f"{attr.method}: global importance over {len(attr)} pairs")
    save_figure(fig, path, dpi=110)


def plot_beeswarm(attr: Attribution, path: str | Path, colour: np.ndarray | None = None,
                  title: str | None = None) -> None:
    """SHAP summary (beeswarm) plot: one dot per pair and group, coloured by ``colour [N, G]`` if given."""
    import matplotlib.pyplot as plt  # SHAP draws on pyplot's current figure
    import shap

    ex = attr.to_shap()
    if colour is not None:
        ex.data = np.asarray(colour, dtype=float)
    with warnings.catch_warnings():  # id groups have no colour value (NaN): SHAP draws them grey
        warnings.filterwarnings("ignore", "All-NaN slice encountered", RuntimeWarning)
        shap.plots.beeswarm(ex, max_display=len(attr.groups), show=False)
    fig = plt.gcf()
    fig.suptitle(title or f"{attr.method}: contributions over {len(attr)} pairs")
    save_figure(fig, path, dpi=110)
