"""Explaining a list of recommendations: top groups, and "because you liked ..."."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .base import GroupExplainer


def item_vectors(model) -> Tensor | None:
    """The model's ``[num_items, d]`` item embedding: ``model.item_embedding()`` if it has one, else its
    first ``nn.Embedding`` with one row per item; ``None`` if there is none."""
    if hasattr(model, "item_embedding"):
        return model.item_embedding().detach()
    for m in model.modules():
        if isinstance(m, nn.Embedding) and m.num_embeddings == model.num_items:
            return m.weight.detach()
    return None


def liked_items(split, user: int, min_rating: float = 4.0) -> Tensor:
    """The user's training items rated at least ``min_rating`` (all training items if none are)."""
    mine = split.train_user == user
    items, ratings = split.train_item[mine], split.train_rating[mine]
    return items[ratings >= min_rating] if bool((ratings >= min_rating).any()) else items


def because_you_liked(model, split, user: int, items: Tensor, min_rating: float = 4.0) -> list[tuple[int, float] | None]:
    """For each item, the user's most similar liked training item (cosine of item embeddings) and the cosine."""
    vec = item_vectors(model)
    liked = liked_items(split, user, min_rating)
    if vec is None or len(liked) == 0:
        return [None] * len(items)
    sim = F.normalize(vec[items], dim=1) @ F.normalize(vec[liked], dim=1).T  # [K, L]
    best = sim.argmax(1)
    return [(int(liked[b]), float(sim[r, b])) for r, b in enumerate(best)]


def explain_recommendations(model, split, user: int, items: Tensor, explainer: GroupExplainer | None = None,
                            table=None, top: int = 3, min_rating: float = 4.0) -> list[dict]:
    """One dict per recommended item (dense indices): its ``top`` positively contributing groups
    (when the model has feature groups and an ``explainer`` is given) and the user's most similar
    highly-rated training movie, ``because_you_liked`` (dense index) with its ``similarity``."""
    items = torch.as_tensor(items).long().reshape(-1)
    attr = explainer.attribute(torch.full_like(items, user), items) if explainer is not None else None
    liked = because_you_liked(model, split, user, items, min_rating)
    out = []
    for n, item in enumerate(items.tolist()):
        row: dict = {"item": item}
        if attr is not None:
            rows = [r for r in attr.rows(table, n) if r["contribution"] > 0][:top]
            row["top_groups"] = [{"group": r["group"], "value": r["value"], "contribution": r["contribution"]}
                                 for r in rows]
        if liked[n] is not None:
            row["because_you_liked"], row["similarity"] = liked[n]
        out.append(row)
    return out
