"""HeteroSAGE's popularity prior: its known answer, its twin, and runs saved before it existed."""
import torch

from graphrec.models import HeteroSAGE


def test_prior_alone_scores_log_popularity_in_the_graph(synth, synth_split):
    model = HeteroSAGE.build(synth, synth_split, hidden=8)
    with torch.no_grad():
        for p in model.parameters():
            p.zero_()
        model.prior.bias.fill_(2.0)  # beta(u) = 2 for every user, nothing else
    model.eval()
    degree = torch.bincount(model.edge_index[1], minlength=model.num_items).float()
    expected = 2.0 * torch.log2(1.0 + degree) / 16
    torch.testing.assert_close(model.score_all(torch.arange(3)), expected.expand(3, -1))
    # a new user's single edge adds one to that movie's popularity, for the twin as for the model
    new_user = (torch.tensor([1]), torch.tensor([2]), torch.tensor([1]))
    edge = (torch.tensor([model.num_users]), torch.tensor([4]))
    bumped = expected.clone()
    bumped[4] = 2.0 * torch.log2(2.0 + degree[4]) / 16
    for scorer in (model, model.export()):
        torch.testing.assert_close(scorer.score_with_nodes(torch.tensor([model.num_users]), new_user, new_edges=edge)[0],
                                   bumped)


def test_group_prior_reads_popularity_among_the_users_group(synth, synth_split):
    model = HeteroSAGE.build(synth, synth_split, hidden=8, prior="group")
    with torch.no_grad():
        for p in model.parameters():
            p.zero_()
        model.prior.bias.copy_(torch.tensor([0.0, 1.0]))  # only the group term
    model.eval()
    u, m = model.edge_index
    group = model.user_gender * len(model.table.age_names) + model.user_age
    user = 0
    same = group[u] == group[user]
    expected = torch.log2(1.0 + torch.bincount(m[same], minlength=model.num_items).float()) / 16
    torch.testing.assert_close(model.score_all(torch.tensor([user]))[0], expected)
    torch.testing.assert_close(model.export().score_with_nodes(torch.tensor([user]))[0], expected)


def test_weights_saved_before_the_prior_load_as_they_were(synth, synth_split):
    torch.manual_seed(0)
    old = HeteroSAGE.build(synth, synth_split, hidden=8, prior="none").eval()
    model = HeteroSAGE.build(synth, synth_split, hidden=8)  # today's default has the prior
    model.load_state_dict(old.state_dict())
    model.eval()
    assert model.prior is None
    torch.testing.assert_close(model.score_all(torch.arange(4)), old.score_all(torch.arange(4)))


def _only_the_new_user_term(synth, synth_split, **hparams) -> HeteroSAGE:
    model = HeteroSAGE.build(synth, synth_split, hidden=8, **hparams)
    with torch.no_grad():
        for p in model.parameters():
            p.zero_()
    return model.eval()


def test_new_user_term_alone_is_popularity_among_the_group_fading_with_ratings(synth, synth_split):
    model = _only_the_new_user_term(synth, synth_split, demo_prior=2.0, demo_decay=0.5, demo_smoothing=0.0,
                                    demo_floor=0.25)
    u, m = model.edge_index
    group = model.user_gender * len(model.table.age_names) + model.user_age
    degree = torch.bincount(u, minlength=model.num_users).float()
    for user in (0, 5):
        same = group[u] == group[user]
        pop = torch.log1p(torch.bincount(m[same], minlength=model.num_items).float())
        expected = (0.25 + 1.75 * 0.5 ** degree[user]) * (pop - pop.max())  # 0 for the group's favourite
        torch.testing.assert_close(model.score_all(torch.tensor([user]))[0], expected)
        torch.testing.assert_close(model.export().score_with_nodes(torch.tensor([user]))[0], expected)
    # smoothing: + s * (the movie's count) * (the group's share of all ratings)
    model = _only_the_new_user_term(synth, synth_split, demo_prior=1.0, demo_decay=0.0, demo_smoothing=3.0)
    new_user = (model.user_gender[[0]], model.user_age[[0]], torch.tensor([1]))  # user 0's group, no ratings
    same = group[u] == group[0]
    c_g = torch.bincount(m[same], minlength=model.num_items).float()
    c = torch.bincount(m, minlength=model.num_items).float()
    expected = torch.log1p(c_g + 3.0 * c * same.sum() / len(u))
    expected = expected - expected.max()
    for scorer in (model, model.export()):
        torch.testing.assert_close(scorer.score_with_nodes(torch.tensor([model.num_users]), new_user)[0], expected)
    # not in training: the term is added at inference only
    model.train()
    with torch.no_grad():
        assert torch.equal(model(torch.tensor([0, 1]), torch.tensor([2, 3])), torch.zeros(2))


def test_new_user_term_contains_both_popularity_floors(synth, synth_split):
    """Dominant, it ranks a user without ratings as demographic popularity (s = 0) or MostPop (s large)."""
    from graphrec.models.cold_baselines import ColdMostPop, DemographicPop

    torch.manual_seed(0)
    users = torch.arange(6)
    for s in (0.0, 1e6):
        model = HeteroSAGE.build(synth, synth_split, hidden=8, demo_prior=1e4, demo_decay=0.0, demo_smoothing=s).eval()
        floor = DemographicPop(model.table) if s == 0 else ColdMostPop(model.table)
        floor.set_graph(*model.edge_index)
        # the floor's own counts (demographic popularity's tie-break aside)
        counts = (torch.from_numpy(floor.group_counts[floor.group[users.numpy()]]) if s == 0
                  else floor.counts.expand(len(users), -1))
        new = model.with_nodes(users=(model.user_gender[users], model.user_age[users], model.user_occupation[users]))
        new.eval()
        with torch.no_grad():
            mine = new.score_all(torch.arange(model.num_users, model.num_users + 6))
        for a, b in zip(mine, counts):
            order = torch.argsort(a, descending=True)  # the model's ranking never puts a less-counted movie first
            assert bool((b[order][:-1] >= b[order][1:]).all())


def test_new_user_term_is_validated(synth, synth_split):
    import pytest

    for bad in ({"demo_prior": -1.0}, {"demo_prior": 1.0, "demo_decay": 1.5}, {"demo_prior": 1.0, "decoder": "mlp"},
                {"demo_smoothing": -0.1}, {"demo_floor": -1.0}):
        with pytest.raises(ValueError, match="demo_prior"):
            HeteroSAGE.build(synth, synth_split, hidden=8, **bad)


def test_new_movies_get_one_constant_from_the_term_and_are_scored_without_it(synth, synth_split):
    torch.manual_seed(0)
    model = HeteroSAGE.build(synth, synth_split, hidden=8, demo_prior=2.0, demo_floor=1.0).eval()
    genres = torch.zeros(3, len(model.table.genre_names))
    genres[0, 1] = genres[1, 4] = genres[2, 7] = 1.0
    new_movies = (genres, torch.tensor([0.95, 0.5, 0.0]))
    users, m = torch.arange(4), model.num_items
    full = model.score_with_nodes(users, new_movies=new_movies)[:, m:]
    plain = model.without_new_user_term().score_with_nodes(users, new_movies=new_movies)[:, m:]
    shift = full - plain
    torch.testing.assert_close(shift, shift[:, :1].expand_as(shift))  # the same for every new movie: no order change
    assert bool((shift < 0).all())  # below the group's favourite
    torch.testing.assert_close(model.export().without_new_user_term().score_with_nodes(users, new_movies=new_movies)[:, m:],
                               plain, rtol=1e-5, atol=1e-5)
    assert model.demo_prior == 2.0  # the copy's change stays in the copy
