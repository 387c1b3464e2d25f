"""attnkit.masks: causal and padding masks against torch's own conventions, and their properties."""
import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from attnkit import causal_mask, padding_mask, scaled_dot_product_attention
from attnkit.errors import AttentionShapeError

lengths = st.integers(1, 12)


@settings(max_examples=50, deadline=None)
@given(lengths, lengths)
def test_causal_mask_is_torch_is_causal_mask(L, S):
    """torch's is_causal is tril(ones(L, S)): query i sees keys j <= i, aligned top-left."""
    q, k, v = torch.randn(1, L, 4), torch.randn(1, S, 4), torch.randn(1, S, 3)
    mask = causal_mask(L, S)
    assert mask.dtype == np.bool_ and mask.shape == (L, S)
    np.testing.assert_array_equal(mask, torch.ones(L, S, dtype=torch.bool).tril().numpy())
    if L <= S:  # every query sees key 0, so torch's fused path and ours agree (no all-masked row)
        ours, _ = scaled_dot_product_attention(q, k, v, mask=torch.from_numpy(mask))
        theirs = torch.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=True)
        torch.testing.assert_close(ours, theirs, atol=1e-5, rtol=1e-5)


@settings(max_examples=50, deadline=None)
@given(lengths)
def test_causal_mask_sees_itself_and_the_past_never_the_future(L):
    mask = causal_mask(L)
    assert mask.diagonal().all(), "a token may attend to itself"
    assert not np.triu(mask, k=1).any(), "no token sees a later one"
    assert mask.sum() == L * (L + 1) // 2


@pytest.mark.parametrize("bad", [0, -1, 2.0, np.zeros(3)])
def test_causal_mask_rejects_what_is_not_a_length(bad):
    with pytest.raises(AttentionShapeError, match="causal_mask's L must be a positive int"):
        causal_mask(bad)


@settings(max_examples=50, deadline=None)
@given(st.lists(st.integers(0, 9), min_size=1, max_size=5), st.integers(0, 3), st.booleans())
def test_padding_mask_marks_exactly_the_real_keys(row_lengths, extra, as_torch):
    S = max(row_lengths) + extra
    given_lengths = torch.tensor(row_lengths) if as_torch else row_lengths
    mask = padding_mask(given_lengths, S)
    assert isinstance(mask, torch.Tensor) == as_torch, "the same kind as lengths"
    mask = np.asarray(mask)
    assert mask.shape == (len(row_lengths), 1, S) and mask.dtype == np.bool_
    np.testing.assert_array_equal(mask.sum(-1)[:, 0], row_lengths)
    for row, n in zip(mask[:, 0], row_lengths):
        assert row[:n].all() and not row[n:].any(), "real keys first, then padding"


def test_padding_mask_is_torch_key_padding_mask_negated():
    lengths = torch.tensor([3, 5])
    torch_style = torch.arange(5)[None, :] >= lengths[:, None]  # (B, S), True = ignore
    assert torch.equal(padding_mask(lengths, 5)[:, 0], ~torch_style)


@pytest.mark.parametrize("lengths, message", [([6], "lengths must lie in 0..S = 0..5"),
                                              ([[1, 2]], "lengths")])
def test_padding_mask_rejects_impossible_lengths(lengths, message):
    with pytest.raises(AttentionShapeError, match=message):
        padding_mask(lengths, 5)
