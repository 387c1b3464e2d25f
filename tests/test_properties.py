"""Hypothesis property tests: what must hold for every input, not just the ones we thought of."""
import numpy as np
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from attnkit import merge_heads, scaled_dot_product_attention, softmax, split_heads

dims = st.integers(1, 6)
finite = st.floats(-10, 10, allow_nan=False, width=64)


@st.composite
def qkv(draw, self_attention=False):
    L, S, d_k, d_v = draw(dims), draw(dims), draw(dims), draw(dims)
    S = L if self_attention else S
    q = draw(arrays(np.float64, (L, d_k), elements=finite))
    k = draw(arrays(np.float64, (S, d_k), elements=finite))
    v = draw(arrays(np.float64, (S, d_v), elements=finite))
    mask = draw(arrays(np.bool_, (L, S)))
    return q, k, v, mask


@settings(max_examples=60, deadline=None)
@given(qkv())
def test_weights_sum_to_one_and_masked_keys_get_exactly_zero(args):
    q, k, v, mask = args
    out, w = scaled_dot_product_attention(q, k, v, mask=mask)
    assert np.all(w[~mask] == 0), "a masked key must get exactly zero weight"
    rows_with_a_key = mask.any(-1)
    np.testing.assert_allclose(w[rows_with_a_key].sum(-1), 1.0, atol=1e-9)
    assert np.all(w[~rows_with_a_key] == 0) and np.all(out[~rows_with_a_key] == 0)


@settings(max_examples=60, deadline=None)
@given(arrays(np.float64, st.tuples(dims, dims), elements=finite), finite)
def test_adding_a_constant_to_all_scores_changes_nothing(scores, c):
    np.testing.assert_allclose(softmax(scores + c), softmax(scores), atol=1e-12)


@settings(max_examples=40, deadline=None)
@given(arrays(np.float64, st.tuples(dims, dims), elements=st.floats(-1e6, 1e6, allow_nan=False)))
def test_softmax_never_overflows(scores):
    p = softmax(scores)
    assert np.isfinite(p).all()
    np.testing.assert_allclose(p.sum(-1), 1.0, atol=1e-9)


@settings(max_examples=40, deadline=None)
@given(qkv(self_attention=True), st.randoms(use_true_random=False))
def test_self_attention_is_permutation_equivariant(args, rnd):
    x, _, _, _ = args
    perm = list(range(len(x)))
    rnd.shuffle(perm)
    out, _ = scaled_dot_product_attention(x, x, x)
    out_perm, _ = scaled_dot_product_attention(x[perm], x[perm], x[perm])
    np.testing.assert_allclose(out_perm, out[perm], atol=1e-9)


@settings(max_examples=30, deadline=None)
@given(qkv())
def test_numpy_and_torch_agree(args):
    q, k, v, mask = args
    out, w = scaled_dot_product_attention(q, k, v, mask=mask)
    out_t, w_t = scaled_dot_product_attention(*map(torch.from_numpy, (q, k, v)), mask=torch.from_numpy(mask))
    np.testing.assert_allclose(out_t.numpy(), out, atol=1e-12)
    np.testing.assert_allclose(w_t.numpy(), w, atol=1e-12)


@st.composite
def heads_input(draw):
    B, L, H, d_k = draw(st.integers(1, 3)), draw(dims), draw(st.integers(1, 4)), draw(dims)
    return draw(arrays(np.float64, (B, L, H * d_k), elements=finite)), H


@settings(max_examples=60, deadline=None)
@given(heads_input(), st.booleans())
def test_merge_heads_undoes_split_heads_and_head_h_holds_block_h(args, as_torch):
    x, H = args
    x = torch.from_numpy(x) if as_torch else x
    heads = split_heads(x, H)
    B, L, D = x.shape
    assert tuple(heads.shape) == (B, H, L, D // H)
    for h in range(H):  # head h is block h of every token's width, untouched
        np.testing.assert_array_equal(np.asarray(heads[:, h]), np.asarray(x[..., h * (D // H):(h + 1) * (D // H)]))
    merged = merge_heads(heads)
    assert type(merged) is type(x)
    np.testing.assert_array_equal(np.asarray(merged), np.asarray(x))


@settings(max_examples=40, deadline=None)
@given(heads_input())
def test_split_heads_agrees_with_torch_view_transpose(args):
    """The oracle: nn.MultiheadAttention's own reshape, (B, L, H*d_k) -> (B, L, H, d_k) -> (B, H, L, d_k)."""
    x, H = args
    t = torch.from_numpy(x)
    B, L, D = t.shape
    torch.testing.assert_close(split_heads(t, H), t.view(B, L, H, D // H).transpose(1, 2))
