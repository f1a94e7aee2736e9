"""HeteroSAGE for nodes it never saw: appended users and movies, and feature-group explanations."""
import pytest
import torch

from graphrec.explain import make_explainer
from graphrec.models import HeteroSAGE


@pytest.fixture(params=[{}, {"prior": "none"}, {"demo_prior": 1.5, "demo_decay": 0.5, "demo_smoothing": 0.3, "demo_floor": 0.2}],
                ids=["popularity", "none", "new-user-term"])
def model(synth, synth_split, request):
    torch.manual_seed(0)
    return HeteroSAGE.build(synth, synth_split, hidden=8, **request.param).eval()


def test_appended_nodes_score_as_if_they_had_been_there(model, synth, synth_split):
    """A copy with one more user and one more movie equals a model built with them from the start."""
    u, m = 3, 7  # clone user 3 and movie 7 as new nodes, with user 3's edges
    edges_u = model.edge_index[1][model.edge_index[0] == u]
    big = model.with_nodes(users=(model.user_gender[[u]], model.user_age[[u]], model.user_occupation[[u]]),
                           movies=(model.item_genres[[m]], model.item_year[[m]]),
                           edges=(torch.full_like(edges_u, model.num_users), edges_u))
    assert (big.num_users, big.num_items) == (model.num_users + 1, model.num_items + 1)
    with torch.no_grad():
        s = big.score_all(torch.tensor([model.num_users]))[0]
        assert torch.isfinite(s).all() and s.shape == (model.num_items + 1,)
        # a movie without edges is a function of its features alone, whatever else the graph holds
        cold_twin = model.with_nodes(movies=(model.item_genres[[m]], model.item_year[[m]]))
        # (but for the new-user term's columns, relative to each group's favourite in the graph)
        own = slice(None, -model.num_demo_groups if model.demo_prior else None)
        torch.testing.assert_close(cold_twin.propagate()[1][-1, own], big.propagate()[1][-1, own])
        assert not torch.allclose(big.propagate()[1][-1], big.propagate()[1][m])  # movie 7 has edges
    # the original is untouched
    assert model.num_users == synth_split.num_users and model.edge_index.shape[1] == len(synth_split.train_user)


def test_new_user_with_the_same_edges_and_features_matches_a_rebuilt_graph(model):
    """Append a user with user 3's features and edges, then drop user 3's edges: it must score as user 3 did."""
    u = 3
    keep = model.edge_index[0] != u
    edges_u = model.edge_index[1][~keep]
    with torch.no_grad():
        before = model.score_all(torch.tensor([u]))[0]
    moved = model.with_nodes(users=(model.user_gender[[u]], model.user_age[[u]], model.user_occupation[[u]]))
    moved.set_graph(torch.cat([model.edge_index[0][keep], torch.full_like(edges_u, model.num_users)]),
                    torch.cat([model.edge_index[1][keep], edges_u]))
    with torch.no_grad():
        torch.testing.assert_close(moved.score_all(torch.tensor([model.num_users]))[0], before)


def test_group_logits_equal_the_model_and_layers_equal_the_hetero_encoder(model):
    users, items = torch.arange(10), torch.arange(10, 20)
    with torch.no_grad():
        torch.testing.assert_close(model.forward_groups(*model.group_inputs(users, items)), model(users, items))


def test_for_a_node_without_edges_groups_are_exact_counterfactuals(model):
    """Change a new user's gender through the groups and through the graph: the same logit."""
    new = model.with_nodes(users=(torch.tensor([1]), torch.tensor([2]), torch.tensor([1])))
    other = model.with_nodes(users=(torch.tensor([2]), torch.tensor([2]), torch.tensor([1])))
    user, items = torch.full((6,), model.num_users), torch.arange(6)
    with torch.no_grad():
        inputs = list(new.group_inputs(user, items))
        inputs[new.groups.index("gender")] = torch.full((6,), 2)
        if new.demo_prior:  # popularity among the user's group is its own group: it moves with the gender too
            j = new.groups.index("popularity")
            inputs[j] = other.group_inputs(user, items)[j]
        torch.testing.assert_close(new.forward_groups(*inputs), other(user, items))


def test_integrated_gradients_explain_a_new_user(model, synth_split):
    new = model.with_nodes(users=(torch.tensor([2]), torch.tensor([3]), torch.tensor([1])))
    att = make_explainer("ig", new, synth_split, n_steps=32).attribute(torch.full((4,), model.num_users),
                                                                      torch.arange(4))
    assert att.groups[5:7] == ("user_ratings", "movie_ratings")
    assert att.groups[7:] == (("popularity",) if model.demo_prior else ())
    # completeness: the groups sum to logit - baseline, nothing left unexplained
    torch.testing.assert_close(att.values.sum(1), att.logits - att.baseline, atol=1e-3, rtol=1e-3)
    assert att.values[:, att.groups.index("gender")].abs().sum() > 0


def test_gat_and_the_group_prior_have_no_groups(synth, synth_split):
    for hparams in ({"conv": "gat"}, {"prior": "group"}):
        model = HeteroSAGE.build(synth, synth_split, hidden=8, **hparams)
        assert not hasattr(model, "groups") and not model.capabilities.explainable
