"""The plain-torch twin of HeteroSAGE (``export``) scores new users and movies exactly as the PyG model does."""
import pytest
import torch

from graphrec.data.processed import CacheError
from graphrec.models import HeteroSAGE
from graphrec.models.sage_inference import SAGEInference
from tests.helpers import trained_hetero_sage


def _trained(synth, synth_split, **hparams) -> HeteroSAGE:
    return trained_hetero_sage(synth, synth_split, hidden=16, **hparams)


def _newcomers(model: HeteroSAGE):
    """Two new users (one with three edges, one with none), three new movies, one of them with an edge."""
    t = model.table
    new_users = (torch.tensor([1, 2]), torch.tensor([3, 1]), torch.tensor([len(t.occupation_names) - 1, 1]))
    genres = torch.zeros(3, len(t.genre_names))
    genres[0, [1, 4]] = 1.0
    genres[2, 7] = 1.0
    new_movies = (genres, torch.tensor([0.95, 0.0, 0.55]))
    U, M = model.num_users, model.num_items  # noqa: N806
    edges = (torch.tensor([U, U, U, 3]), torch.tensor([0, 5, 9, M + 2]))
    return new_users, new_movies, edges


@pytest.mark.parametrize("hparams", [{}, {"use_ids": True, "degree_linear": True, "num_layers": 3},
                                     {"decoder": "mlp", "degree": False}, {"prior": "group"},
                                     {"prior": "none", "degree": False, "bias": False},
                                     {"demo_prior": 1.5, "demo_decay": 0.5, "demo_smoothing": 0.3, "demo_floor": 0.4},
                                     {"demo_prior": 0.7, "prior": "group", "bias": False}])
def test_export_scores_equal_the_pyg_model(synth, synth_split, hparams):
    model = _trained(synth, synth_split, **hparams)
    twin = model.export()
    users = torch.tensor([0, 7, model.num_users, model.num_users + 1])
    new_users, new_movies, edges = _newcomers(model)
    pyg = model.score_with_nodes(users, new_users, new_movies, edges)
    plain = twin.score_with_nodes(users, new_users, new_movies, edges)
    assert plain.shape == (4, model.num_items + 3)
    torch.testing.assert_close(plain, pyg, rtol=1e-5, atol=1e-5)
    # no new nodes: the run's own scores through PyG's to_hetero forward
    torch.testing.assert_close(twin.score_with_nodes(torch.arange(5)), model.score_all(torch.arange(5)),
                               rtol=1e-5, atol=1e-5)
    # a new user's edges change the scores (message passing ran): not the edgeless user's
    alone = twin.score_with_nodes(users[2:3], new_users)
    assert not torch.allclose(alone, plain[2:3, :model.num_items])


def test_saved_export_reads_back_identically_and_refuses_other_files(synth, synth_split, tmp_path):
    model = _trained(synth, synth_split)
    twin = model.export()
    twin.save(tmp_path / "x.npz", source=(12, 34))
    back, source = SAGEInference.load(tmp_path / "x.npz")
    assert source == (12, 34) and back.table == twin.table and back.num_layers == twin.num_layers
    users = torch.tensor([model.num_users])
    new_users, _, _ = _newcomers(model)
    one = tuple(t[:1] for t in new_users)
    assert torch.equal(back.score_with_nodes(users, one), twin.score_with_nodes(users, one))
    (tmp_path / "bad.npz").write_bytes(b"not a zip")
    with pytest.raises(CacheError):
        SAGEInference.load(tmp_path / "bad.npz")


def test_gat_does_not_export(synth, synth_split):
    from graphrec.errors import GraphrecError

    with pytest.raises(GraphrecError, match="only the SAGE encoder"):
        HeteroSAGE.build(synth, synth_split, hidden=8, conv="gat").export()
