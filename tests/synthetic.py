"""Small synthetic MovieLens-shaped data sets that tests generate themselves."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from graphrec.data.movielens import ML100K_GENRES

#: A planted rule: men rate only movies with a genre in ACTION, women only movies without one.
ACTION = {"Action", "Adventure", "Sci-Fi", "Thriller", "War", "Western", "Crime", "Horror"}


def planted_weight(user, genres) -> float:
    """``weight_fn`` of the planted gender x genre rule (see :data:`ACTION`)."""
    return float((user["gender"] == "M") == bool(ACTION & set(genres)))


OCCUPATIONS = ["administrator", "artist", "doctor", "educator", "engineer", "student", "other"]


def write_ml100k(folder: Path, num_users: int = 60, num_items: int = 150, per_user: int = 15, seed: int = 0,
                 label_fn=None, weight_fn=None) -> Path:
    """Write ``u.data``, ``u.item``, ``u.user``, ``u.genre``, ``u.occupation`` in ML-100K's format.

    Every user rates ``per_user`` distinct movies at distinct timestamps.
    ``label_fn(user_row, movie_genres) -> rating`` can plant a rule; by
    default ratings are random in 1..5. ``weight_fn(user_row, movie_genres) -> float``
    plants a rule in *which* movies a user rates: it multiplies the popularity
    of each movie in that user's draw (0 = never).
    """
    rng = np.random.default_rng(seed)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    genders = rng.choice(["M", "F"], size=num_users)
    ages = rng.integers(15, 70, size=num_users)
    occs = rng.choice(OCCUPATIONS, size=num_users)
    with open(folder / "u.user", "w", encoding="latin-1") as f:
        for u in range(num_users):
            f.write(f"{u + 1}|{ages[u]}|{genders[u]}|{occs[u]}|0000{u}\n")
    genre_flags = np.zeros((num_items, len(ML100K_GENRES)), dtype=int)
    for i in range(num_items):
        genre_flags[i, rng.choice(np.arange(1, len(ML100K_GENRES)), size=rng.integers(1, 3), replace=False)] = 1
    with open(folder / "u.item", "w", encoding="latin-1") as f:
        for i in range(num_items):
            year = 1950 + i % 50
            flags = "|".join(map(str, genre_flags[i]))
            f.write(f"{i + 1}|Movie {i + 1} ({year})|01-Jan-{year}||http://example.org/{i + 1}|{flags}\n")
    (folder / "u.genre").write_text("".join(f"{g}|{j}\n" for j, g in enumerate(ML100K_GENRES)), encoding="latin-1")
    (folder / "u.occupation").write_text("".join(o + "\n" for o in OCCUPATIONS), encoding="latin-1")
    # popularity skew so that MostPop is meaningful
    pop = 1.0 / np.arange(1, num_items + 1) ** 0.8
    pop /= pop.sum()
    lines = []
    t0 = 880_000_000
    movie_genres = [[ML100K_GENRES[j] for j in np.flatnonzero(genre_flags[i])] for i in range(num_items)]
    for u in range(num_users):
        p = pop
        if weight_fn is not None:
            row = {"gender": genders[u], "age": ages[u], "occupation": occs[u]}
            p = pop * np.array([weight_fn(row, movie_genres[i]) for i in range(num_items)], dtype=float)
            p /= p.sum()
        items = rng.choice(num_items, size=per_user, replace=False, p=p)
        times = t0 + np.sort(rng.choice(10_000_000, size=per_user, replace=False))
        for it, t in zip(items, times):
            rating = (label_fn({"gender": genders[u], "age": ages[u], "occupation": occs[u]}, movie_genres[it])
                      if label_fn else int(rng.integers(1, 6)))
            lines.append(f"{u + 1}\t{it + 1}\t{rating}\t{t}\n")
    rng.shuffle(lines)
    (folder / "u.data").write_text("".join(lines), encoding="latin-1")
    return folder
