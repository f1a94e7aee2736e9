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
