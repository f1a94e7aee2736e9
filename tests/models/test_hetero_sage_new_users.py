"""A user without ratings, where the right answer is demographic popularity: hetero-sage's top k equals it."""
import torch

from graphrec.config import DataConfig
from graphrec.pipeline import build_cold_split
from graphrec.data import load_movielens
from graphrec.models import HeteroSAGE
from graphrec.models.cold_baselines import DemographicPop
from graphrec.config import TrainConfig
from graphrec.training.trainer import Trainer
from graphrec.catalogue import load_tuned
from synthetic import write_ml100k

#: Each gender x age half rates mostly its own genres (and every movie by the same popularity skew otherwise):
#: all a user without ratings reveals is their group, so the best list for them is what their group rates most.
TASTE = {("F", True): {"Romance", "Comedy"}, ("F", False): {"Drama", "Musical"},
         ("M", True): {"Action", "Sci-Fi"}, ("M", False): {"War", "Western", "Crime"}}


def group_weight(row, genres) -> float:
    return 1.0 if TASTE[(row["gender"], row["age"] < 35)] & set(genres) else 0.05


def test_top_k_of_a_user_without_ratings_is_their_groups_popularity(tmp_path):
    folder = write_ml100k(tmp_path / "ml-100k", num_users=400, num_items=200, per_user=25, seed=3,
                          weight_fn=group_weight)
    ml = load_movielens("ml-100k", folder)
    cold = build_cold_split(DataConfig(split_seed=0), ml)
    split = cold.warm_split()
    hp = load_tuned("hetero-sage", "ml-100k")["hparams"]  # the shipped cold config's new-user term
    torch.manual_seed(0)
    model = HeteroSAGE.build(ml, split, hidden=32, **{k: v for k, v in hp.items() if k.startswith("demo_")})
    Trainer(model, split, TrainConfig(model="hetero-sage", epochs=10, batch_size=1024, lr=0.01, patience=0),
            progress=False, tensorboard=False).fit()
    model.eval()
    vu, vi = cold.visible(0)  # cold users have no rating at all
    model.set_graph(vu, vi)
    floor = DemographicPop(model.table)
    floor.set_graph(vu, vi)
    users = cold.cold_users
    warm = torch.ones(ml.num_items, dtype=torch.bool)
    warm[cold.cold_items] = False
    with torch.no_grad():
        mine = model.score_all(users)[:, warm]
    counts = torch.from_numpy(floor.group_counts[floor.group[users.numpy()]])[:, warm]  # ratings from the group
    k = 10

    def is_top_k(scores: torch.Tensor) -> list[bool]:
        """Per user: the k best-scored movies are k most-rated by the group (any of them, where counts tie)."""
        return [bool((c[torch.topk(s, k).indices] >= torch.topk(c, k).values[-1]).all()) for s, c in zip(scores, counts)]

    assert all(is_top_k(mine)), f"{sum(is_top_k(mine))} of {len(users)} users"
    # where the group's counts do not tie, the very same list as demographic popularity's
    theirs = floor.score_all(users)[:, warm]
    for s, t, c in zip(mine, theirs, counts):
        if torch.topk(c, k + 1).values[-2] > torch.topk(c, k + 1).values[-1]:
            assert set(torch.topk(s, k).indices.tolist()) == set(torch.topk(t, k).indices.tolist())
    # the model without the term does not get there by itself on this data: the test can fail
    model.demo_prior = 0.0
    model.set_graph(vu, vi)
    with torch.no_grad():
        alone = model.score_all(users)[:, warm]
    assert not all(is_top_k(alone))
