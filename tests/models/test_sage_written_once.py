"""HeteroSAGE written once: the plain-torch encoder and decoder (``sage_encode``, ``decode``) against their PyG twin
(``to_hetero(SAGEConv)`` message passing over edge lists, the model's ``nn.Sequential`` MLP), and the export as a
checked contract (``SAGEWeights``): a missing, unexpected or mis-shaped tensor is refused with one message."""
import numpy as np
import pytest
import torch

from graphrec.data.graph import RATED_BY, RATES
from graphrec.data.processed import CacheError, load_arrays, save_arrays
from graphrec.models import HeteroSAGE
from graphrec.models.sage_inference import (ExportMismatch, SAGEInference, SAGEWeights, decode, decode_all,
                                            graph_means, sage_encode)
from tests.helpers import trained_hetero_sage


def _trained(synth, synth_split, **hparams) -> HeteroSAGE:
    return trained_hetero_sage(synth, synth_split, hidden=8, **hparams)


@pytest.mark.parametrize("hparams", [{"num_layers": 1}, {"num_layers": 3, "use_ids": True}])
def test_sage_encode_equals_pyg_sageconv_message_passing(synth, synth_split, hparams):
    """The library twin: PyG's own SAGEConv (mean aggregation by scatter over the edge list, to_hetero's per-relation
    copies, ReLU between layers) gives the representations that sage_encode gives with CSR means."""
    model = _trained(synth, synth_split, **hparams)
    with torch.no_grad():
        du, dm = model.degree_inputs(model.graphs())
        xu, xm = model.user_inputs() + du, model.movie_inputs() + dm
        edges = model.edge_index
        pyg = model.encoder({"user": xu, "movie": xm}, {RATES: edges, RATED_BY: edges.flip(0)})
        plain = sage_encode(model.sage_layers(), xu, xm, graph_means(model.graphs()))
    assert plain[0].shape == (model.num_users, 8) and plain[1].shape == (model.num_items, 8)
    torch.testing.assert_close(plain[0], pyg["user"], rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(plain[1], pyg["movie"], rtol=1e-5, atol=1e-6)
    # the graph matters: a different edge set gives different representations
    half = graph_means(model.graphs(torch.arange(edges.shape[1]) % 2 == 0))
    assert not torch.allclose(sage_encode(model.sage_layers(), xu, xm, half)[0], plain[0])


def test_decode_equals_the_models_own_modules(synth, synth_split):
    """decode is the nn.Sequential MLP and the nn.Linear movie bias that the model holds (its PyG-style modules)."""
    mlp = _trained(synth, synth_split, decoder="mlp")
    hu, hm = torch.randn(4, 8), torch.randn(6, 8)
    a, b = torch.broadcast_tensors(hu[:, None], hm[None])
    expected = mlp.mlp(torch.cat([a, b, a * b], -1)).squeeze(-1)
    torch.testing.assert_close(decode(hu[:, None], hm[None], mlp.decoder_weights()), expected)
    torch.testing.assert_close(decode_all(hu, hm, mlp.decoder_weights(), chunk=50), expected)  # in blocks
    dot = _trained(synth, synth_split, prior="none")
    expected = hu @ hm.T + dot.movie_bias(hm).squeeze(-1)[None]
    torch.testing.assert_close(decode_all(hu, hm, dot.decoder_weights()), expected)


def test_pyg_model_and_export_score_the_same_through_one_definition(synth, synth_split):
    """Both paths are one definition: the PyG model's scores and its export's are bitwise equal."""
    model = _trained(synth, synth_split)
    users = torch.arange(model.num_users)
    assert torch.equal(model.export().score_with_nodes(users), model.score_all(users))


def test_weights_round_trip_through_their_stored_names(synth, synth_split):
    model = _trained(synth, synth_split, degree_linear=True, prior="group", demo_prior=0.5)
    w = model.sage_weights()
    arrays = w.to_arrays()
    assert "layers.1.to_user.w_l" in arrays and "demo" in arrays and not any(k.startswith("mlp.") for k in arrays)
    back = SAGEWeights.from_arrays(arrays, model.num_layers)
    assert back.to_arrays().keys() == arrays.keys()
    assert all(torch.equal(back.to_arrays()[k], v) for k, v in arrays.items())
    mlp = _trained(synth, synth_split, decoder="mlp").sage_weights().to_arrays()
    assert {"mlp.w_1", "mlp.b_1", "mlp.w_2", "mlp.b_2"} <= mlp.keys()  # named by role, not nn.Sequential's index


def _saved(synth, synth_split, tmp_path):
    model = _trained(synth, synth_split)
    path = tmp_path / "x.npz"
    model.export().save(path)
    return model, path


def test_a_missing_tensor_is_refused_with_one_message(synth, synth_split, tmp_path):
    _, path = _saved(synth, synth_split, tmp_path)
    arrays = load_arrays(path)
    del arrays["w.layers.1.to_user.w_r"]
    save_arrays(path, arrays)
    with pytest.raises(CacheError, match=r"missing layers\.1\.to_user\.w_r") as e:
        SAGEInference.load(path)
    assert "\n" not in str(e.value) and str(path) in str(e.value)


def test_a_misshaped_tensor_is_refused_with_one_message(synth, synth_split, tmp_path):
    _, path = _saved(synth, synth_split, tmp_path)
    arrays = load_arrays(path)
    arrays["w.layers.0.to_movie.w_l"] = arrays["w.layers.0.to_movie.w_l"][:, :5].copy()
    arrays["w.gender"] = np.zeros((9, 8), np.float32)  # a vocabulary of another size
    save_arrays(path, arrays)
    with pytest.raises(CacheError, match=r"layers\.0\.to_movie\.w_l torch.float32 \[8, 5\], expected floating "
                                         r"\[8, 8\].*") as e:
        SAGEInference.load(path)
    assert "gender" in str(e.value) and "\n" not in str(e.value)


def test_an_unexpected_tensor_or_layer_count_is_refused(synth, synth_split, tmp_path):
    model, path = _saved(synth, synth_split, tmp_path)
    arrays = load_arrays(path)
    arrays["w.mlp.0.weight"] = np.zeros((8, 24), np.float32)  # the old nn.Sequential name
    save_arrays(path, arrays)
    with pytest.raises(CacheError, match=r"unexpected mlp\.0\.weight"):
        SAGEInference.load(path)
    w = model.sage_weights()
    with pytest.raises(ExportMismatch, match="1 layers, expected 2"):
        twin = model.export()
        SAGEInference(twin.table, twin.user_gender, twin.user_age, twin.user_x, twin.movie_x, twin.edge_user,
                      twin.edge_item, SAGEWeights.from_arrays(
                          {k: v for k, v in w.to_arrays().items() if not k.startswith("layers.1.")}, 1), 2)


def test_an_old_export_is_refused_with_one_message(synth, synth_split, tmp_path):
    """A format-1 file (the dict of strings, e.g. ``w.genre.weight``) is refused, so newcomer_model exports again."""
    _, path = _saved(synth, synth_split, tmp_path)
    arrays = load_arrays(path)
    arrays["meta"] = np.array([1, 2, 0], np.int64)
    save_arrays(path, arrays)
    with pytest.raises(CacheError, match="format 1, expected 2"):
        SAGEInference.load(path)


def test_inference_tensors_must_fit_the_weights(synth, synth_split):
    twin = _trained(synth, synth_split).export()
    with pytest.raises(ExportMismatch, match=r"user_x \[\d+, 7\], expected \[\d+, 8\]"):
        SAGEInference(twin.table, twin.user_gender, twin.user_age, twin.user_x[:, :7], twin.movie_x,
                      twin.edge_user, twin.edge_item, twin.weights, twin.num_layers)
    with pytest.raises(ExportMismatch, match="must be SAGEWeights"):
        SAGEInference(twin.table, twin.user_gender, twin.user_age, twin.user_x, twin.movie_x,
                      twin.edge_user, twin.edge_item, twin.weights.to_arrays(), twin.num_layers)
