"""split/merge heads and multi-head attention against torch.nn.MultiheadAttention, the oracle."""
import numpy as np
import pytest
import torch

from attnkit import MultiHeadAttention, causal_mask, merge_heads, multi_head_attention, split_heads
from attnkit.errors import AttentionShapeError


@pytest.mark.parametrize("backend", ["numpy", "torch"])
def test_split_then_merge_is_identity_and_head_h_gets_its_columns(backend):
    x = np.arange(2 * 3 * 12, dtype=float).reshape(2, 3, 12)
    x = torch.from_numpy(x) if backend == "torch" else x
    heads = split_heads(x, 4)
    assert tuple(heads.shape) == (2, 4, 3, 3)
    assert (heads[:, 1] == x[:, :, 3:6]).all(), "head 1 must hold columns 3:6"
    assert (merge_heads(heads) == x).all()


def test_merge_heads_in_the_wrong_order_is_not_the_inverse():
    x = np.random.default_rng(0).normal(size=(1, 5, 8))
    heads = split_heads(x, 2)  # (B, H, L, d_k)
    wrong = heads.reshape(1, 5, 8)  # the classic slip: reshape without moving H next to d_k
    assert not np.allclose(wrong, x)
    np.testing.assert_array_equal(merge_heads(heads), x)


def _torch_pair(D=16, H=4, bias=True, seed=0):
    torch.manual_seed(seed)
    ref = torch.nn.MultiheadAttention(D, H, bias=bias, batch_first=True).double()
    return ref, MultiHeadAttention.from_torch(ref)


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("D,H,L,S", [(16, 4, 5, 5), (12, 3, 4, 7), (8, 1, 3, 2)])
def test_from_torch_reproduces_nn_multihead_attention(bias, D, H, L, S):
    ref, mine = _torch_pair(D, H, bias)
    g = torch.Generator().manual_seed(1)
    q = torch.randn(2, L, D, generator=g, dtype=torch.float64)
    kv = torch.randn(2, S, D, generator=g, dtype=torch.float64)
    out_ref, w_ref = ref(q, kv, kv, average_attn_weights=False)
    out, w = mine(q, kv, kv)
    torch.testing.assert_close(out, out_ref)
    torch.testing.assert_close(w, w_ref)


def test_key_padding_mask_polarity_is_flipped_relative_to_torch():
    ref, mine = _torch_pair()
    x = torch.randn(2, 6, 16, dtype=torch.float64)
    ignore = torch.tensor([[False] * 4 + [True] * 2, [False] * 6])  # torch: True = ignore
    out_ref, w_ref = ref(x, x, x, key_padding_mask=ignore, average_attn_weights=False)
    out, w = mine(x, mask=~ignore[:, None, :])  # attnkit: True = may attend
    torch.testing.assert_close(out, out_ref)
    torch.testing.assert_close(w, w_ref)
    flipped, _ = mine(x, mask=ignore[:, None, :])
    assert not torch.allclose(flipped[0], out_ref[0]), "passing torch's mask unflipped must differ"


def test_causal_mask_matches_torch_attn_mask():
    ref, mine = _torch_pair()
    x = torch.randn(2, 5, 16, dtype=torch.float64)
    out_ref, _ = ref(x, x, x, attn_mask=~torch.from_numpy(causal_mask(5)))
    out, w = mine(x, mask=causal_mask(5))
    torch.testing.assert_close(out, out_ref)
    assert torch.all(w.triu(1) == 0)


def test_functional_numpy_equals_module():
    ref, mine = _torch_pair()
    x = torch.randn(2, 5, 16, dtype=torch.float64)
    lin = (mine.q_proj, mine.k_proj, mine.v_proj, mine.out_proj)
    Ws = [m.weight.detach().T.numpy() for m in lin]
    bs = [m.bias.detach().numpy() for m in lin]
    out, w = multi_head_attention(x.numpy(), x.numpy(), x.numpy(), 4, *Ws, *bs)
    assert isinstance(out, np.ndarray)
    out_ref, w_ref = mine(x)
    np.testing.assert_allclose(out, out_ref.detach().numpy(), atol=1e-12)
    np.testing.assert_allclose(w, w_ref.detach().numpy(), atol=1e-12)


def test_attention_hook_is_used_and_a_wrong_one_changes_the_output():
    _, mine = _torch_pair()
    x = torch.randn(1, 4, 16, dtype=torch.float64)
    calls = []

    def unscaled(query, key, value, mask=None):  # a learner's bug: no 1/sqrt(d_k)
        calls.append(tuple(query.shape))
        w = torch.softmax(query @ key.transpose(-1, -2), -1)
        return w @ value, w

    good, _ = mine(x)
    bad, _ = mine(x, attention=unscaled)
    assert calls == [(1, 4, 4, 4)], "the hook receives (B, H, L, d_k)"
    assert not torch.allclose(good, bad)


def test_from_torch_rejects_what_it_cannot_copy():
    with pytest.raises(AttentionShapeError, match="add_bias_kv"):
        MultiHeadAttention.from_torch(torch.nn.MultiheadAttention(8, 2, add_bias_kv=True))


@pytest.mark.parametrize("d_model, num_heads", [(8, 0), (8, -2), (8, 3), (8, 2.0)])
def test_multi_head_attention_module_rejects_bad_num_heads(d_model, num_heads):
    message = rf"num_heads={num_heads!r} must be a positive int dividing d_model = 8"
    with pytest.raises(AttentionShapeError, match=message):
        MultiHeadAttention(d_model, num_heads)
