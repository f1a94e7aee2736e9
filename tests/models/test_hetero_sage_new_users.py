"""A user without ratings, where the right answer is demographic popularity: hetero-sage's top k equals it."""
import torch

from graphrec.coldstart import cold_split_movielens
from graphrec.data import load_movielens
from graphrec.models import HeteroSAGE
from graphrec.models.cold_baselines import DemographicPop
from graphrec.training import TrainConfig
from graphrec.training.trainer import Trainer
from graphrec.tuning import load_tuned
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
    cold = cold_split_movielens(ml, seed=0)
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
    theirs = floor.score_all(users)[:, warm]
    k = 10
    same = [set(torch.topk(a, k).indices.tolist()) == set(torch.topk(b, k).indices.tolist())
            for a, b in zip(mine, theirs)]
    assert all(same), f"{sum(same)} of {len(same)} users"
    # the model without the term does not get there by itself on this data
    model.demo_prior = 0.0
    model.set_graph(vu, vi)
    with torch.no_grad():
        alone = model.score_all(users)[:, warm]
    assert not all(set(torch.topk(a, k).indices.tolist()) == set(torch.topk(b, k).indices.tolist())
                   for a, b in zip(alone, theirs))
