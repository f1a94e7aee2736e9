"""The hand-written multi-head attention against ``torch.nn.MultiheadAttention``."""
import pytest
import torch

from graphrec.models.attention import MultiHeadSelfAttention


def _pair(d: int, heads: int, bias: bool = True, seed: int = 0):
    torch.manual_seed(seed)
    ours = MultiHeadSelfAttention(d, heads, bias=bias)
    for p in ours.parameters():  # non-trivial biases too
        torch.nn.init.normal_(p, std=0.3)
    ref = torch.nn.MultiheadAttention(d, heads, bias=bias, batch_first=True)
    with torch.no_grad():
        ref.in_proj_weight.copy_(torch.cat([ours.q_proj.weight, ours.k_proj.weight, ours.v_proj.weight]))
        ref.out_proj.weight.copy_(ours.out_proj.weight)
        if bias:
            ref.in_proj_bias.copy_(torch.cat([ours.q_proj.bias, ours.k_proj.bias, ours.v_proj.bias]))
            ref.out_proj.bias.copy_(ours.out_proj.bias)
    return ours.eval(), ref.eval()


@pytest.mark.parametrize("d,heads,bias", [(8, 1, True), (12, 3, True), (16, 4, False)])
def test_matches_torch_multihead_attention(d, heads, bias):
    ours, ref = _pair(d, heads, bias)
    x = torch.randn(5, 6, d)
    out, w = ours(x, need_weights=True, average_weights=False)
    ref_out, ref_w = ref(x, x, x, need_weights=True, average_attn_weights=False)
    torch.testing.assert_close(out, ref_out, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(w, ref_w, rtol=1e-5, atol=1e-6)
    _, w_mean = ours(x, need_weights=True)
    torch.testing.assert_close(w_mean, ref_w.mean(dim=1), rtol=1e-5, atol=1e-6)
    assert w.shape == (5, heads, 6, 6)
    torch.testing.assert_close(w.sum(-1), torch.ones(5, heads, 6))


def test_masks_match_torch():
    ours, ref = _pair(8, 2)
    x = torch.randn(4, 5, 8)
    causal = torch.triu(torch.ones(5, 5, dtype=torch.bool), diagonal=1)
    pad = torch.zeros(4, 5, dtype=torch.bool)
    pad[1, 3:] = True
    out, w = ours(x, mask=causal, key_padding_mask=pad, need_weights=True, average_weights=False)
    ref_out, ref_w = ref(x, x, x, attn_mask=causal, key_padding_mask=pad, need_weights=True,
                         average_attn_weights=False)
    torch.testing.assert_close(out, ref_out, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(w, ref_w, rtol=1e-5, atol=1e-6)
    assert float(w.detach()[:, :, 0, 1:].abs().max()) == 0.0  # causal: token 0 sees only itself
    assert float(w.detach()[1, :, :, 3:].abs().max()) == 0.0  # padded keys get no weight


def test_cross_attention_matches_torch():
    ours, ref = _pair(8, 2)
    q, kv = torch.randn(3, 1, 8), torch.randn(3, 4, 8)
    out, w = ours(q, kv, need_weights=True)
    ref_out, ref_w = ref(q, kv, kv, need_weights=True)
    torch.testing.assert_close(out, ref_out, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(w, ref_w, rtol=1e-5, atol=1e-6)


def test_gradients_match_torch():
    ours, ref = _pair(8, 2)
    x = torch.randn(3, 4, 8, requires_grad=True)
    ours(x)[0].square().sum().backward()
    g_ours = x.grad.clone()
    x.grad = None
    ref(x, x, x)[0].square().sum().backward()
    torch.testing.assert_close(g_ours, x.grad, rtol=1e-4, atol=1e-5)


def test_dropout_only_in_training():
    torch.manual_seed(0)
    att = MultiHeadSelfAttention(8, 2, dropout=0.5)
    x = torch.randn(2, 4, 8)
    att.eval()
    torch.testing.assert_close(att(x)[0], att(x)[0])
    att.train()
    assert not torch.allclose(att(x)[0], att(x)[0])


def test_length_one_weights_are_exactly_one():
    att = MultiHeadSelfAttention(8, 2)
    _, w = att(torch.randn(7, 1, 8) * 100, need_weights=True, average_weights=False)
    assert torch.equal(w, torch.ones(7, 2, 1, 1))


def test_rejects_indivisible_heads():
    with pytest.raises(ValueError, match="divisible"):
        MultiHeadSelfAttention(10, 3)
