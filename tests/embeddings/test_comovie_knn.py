"""The co-movie graph's nearest-neighbour modes and hub weighting against a brute-force oracle; the
target+context vectors; the per-epoch hook."""
import itertools

import numpy as np
import pytest
import torch

from graphrec.data import Split
from graphrec.embeddings import EmbeddingConfig, comovie_graph, fit_embeddings
from graphrec.errors import GraphrecError

NONE = torch.zeros(0, dtype=torch.long)


def ratings_split(seed: int = 0, users: int = 40, movies: int = 12) -> tuple[Split, list[set]]:
    """Random ratings with a popular movie 0 (rated by most users, a hub); also each movie's raters."""
    rng = np.random.default_rng(seed)
    pairs = set()
    for u in range(users):
        p = np.r_[0.8, rng.uniform(0.1, 0.5, movies - 1)]
        pairs |= {(u, int(i)) for i in np.nonzero(rng.random(movies) < p)[0]}
    u, i = torch.tensor(sorted(pairs)).T
    s = Split(users, movies, u, i, torch.ones(len(u)), torch.zeros(len(u)), NONE, NONE, NONE.view(0, 99), NONE,
              NONE, NONE.view(0, 99))
    return s, [{uu for uu, ii in pairs if ii == m} for m in range(movies)]


def oracle(raters: list[set], k: int, knn: str, hub: float) -> dict:
    """Edges {(i, j): weight} from the definition: Jaccard, each movie's k heaviest, then knn and hub."""
    m = len(raters)
    jac = {(i, j): len(raters[i] & raters[j]) / len(raters[i] | raters[j])
           for i, j in itertools.permutations(range(m), 2) if raters[i] & raters[j]}
    named = {(i, j) for i in range(m)
             for j in sorted((j for (a, j) in jac if a == i), key=lambda j: (-jac[i, j], j))[:k]}
    keep = {"union": named | {(j, i) for i, j in named}, "mutual": {e for e in named if e[::-1] in named},
            "directed": named}[knn]
    w = {e: jac[e] for e in keep}
    s = np.zeros(m)
    for (i, _), x in w.items():
        s[i] += x
    return {(i, j): x / (s[i] * s[j]) ** hub for (i, j), x in w.items()}


@pytest.mark.parametrize("knn,hub", [("union", 0.0), ("mutual", 0.0), ("directed", 0.0), ("union", 0.5),
                                     ("mutual", 1.0)])
def test_knn_modes_and_hub_weights_match_the_definition(knn, hub):
    s, raters = ratings_split()
    want = oracle(raters, 3, knn, hub)
    g = comovie_graph(s, min_weight=1, weight="jaccard", neighbours=3, knn=knn, hub=hub)
    got = {(a, b): w for a, b, w in zip(*g.unique_edge_index.tolist(), g.edge_weight.tolist())}
    assert got.keys() == want.keys()
    assert np.allclose([got[e] for e in want], list(want.values()), rtol=1e-5)
    if knn == "union" and hub == 0:  # the hub: movie 0 is named by more movies than it names
        assert sum(a == 0 for a, _ in got) > 3
    if knn == "mutual":
        assert all((b, a) in got for a, b in got) and max(np.bincount([a for a, _ in got])) <= 3


def test_bad_knn_and_hub():
    s, _ = ratings_split()
    with pytest.raises(GraphrecError, match="unknown --knn"):
        comovie_graph(s, min_weight=1, neighbours=3, knn="both")
    for bad in (dict(knn="x"), dict(hub=-0.5), dict(hub=float("nan")), dict(vectors="context")):
        with pytest.raises(GraphrecError):
            EmbeddingConfig(**bad).check()


def test_concat_vectors_are_target_then_context_and_the_hook_sees_every_epoch():
    s, _ = ratings_split(users=60)
    base = dict(graph="comovie", content=0.0, min_weight=1, dim=8, walk_length=10, walks_per_node=4, window=2,
                negatives=2, epochs=2, seed=0)
    target = fit_embeddings(s, EmbeddingConfig(vectors="target", **base), progress=False).movie
    seen = []
    both = fit_embeddings(s, EmbeddingConfig(vectors="concat", **base), progress=False,
                          on_epoch=lambda e, movie: seen.append((e, movie.clone()))).movie
    assert both.shape == (12, 16)
    torch.testing.assert_close(both[:, :8], target)  # the same training: the first half is the target vectors
    assert not torch.allclose(both[:, 8:], target) and both[:, 8:].abs().sum() > 0
    assert [e for e, _ in seen] == [1, 2] and torch.equal(seen[-1][1], both)
    assert not torch.equal(seen[0][1], both)  # the first epoch's vectors, before the second
    bip = fit_embeddings(s, EmbeddingConfig(**{**base, "graph": "bipartite"}), progress=False)
    assert bip.user.shape[1] == bip.movie.shape[1] == 16  # users get [target, context] too: dot products work
