"""attnkit's attention against torch's own scaled_dot_product_attention, the oracle."""
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from attnkit import additive_scores, attend, dot_product_scores, scaled_dot_product_attention, softmax
from attnkit.masks import causal_mask, padding_mask

SHAPES = [  # (batch dims, L, S, d_k, d_v)
    ((), 1, 1, 1, 1),
    ((3,), 5, 7, 8, 4),
    ((2, 4), 6, 6, 16, 16),
    ((2, 3), 9, 4, 5, 7),
]


def _inputs(batch, L, S, d_k, d_v, dtype, seed):
    g = torch.Generator().manual_seed(seed)
    q = torch.randn(*batch, L, d_k, generator=g, dtype=dtype)
    k = torch.randn(*batch, S, d_k, generator=g, dtype=dtype)
    v = torch.randn(*batch, S, d_v, generator=g, dtype=dtype)
    return q, k, v


def _run(q, k, v, backend, **kw):
    if backend == "numpy":
        kw = {n: (m.numpy() if isinstance(m, torch.Tensor) else m) for n, m in kw.items()}
        out, w = scaled_dot_product_attention(q.numpy(), k.numpy(), v.numpy(), **kw)
        assert isinstance(out, np.ndarray) and isinstance(w, np.ndarray), "numpy in, numpy out"
        return torch.from_numpy(out), torch.from_numpy(w)
    out, w = scaled_dot_product_attention(q, k, v, **kw)
    assert isinstance(out, torch.Tensor) and isinstance(w, torch.Tensor), "torch in, torch out"
    return out, w


@pytest.mark.parametrize("backend", ["numpy", "torch"])
@pytest.mark.parametrize("dtype,tol", [(torch.float64, 1e-6), (torch.float32, 1e-5)])
@pytest.mark.parametrize("shape", SHAPES)
def test_matches_torch_sdpa_without_mask(backend, dtype, tol, shape):
    q, k, v = _inputs(*shape, dtype, seed=0)
    out, w = _run(q, k, v, backend)
    ref = F.scaled_dot_product_attention(q, k, v)
    assert out.dtype == dtype, f"{backend} kept {dtype}? got {out.dtype}"
    torch.testing.assert_close(out, ref, atol=tol, rtol=tol)
    torch.testing.assert_close(w.sum(-1), torch.ones_like(w.sum(-1)), atol=tol, rtol=0)


@pytest.mark.parametrize("backend", ["numpy", "torch"])
@pytest.mark.parametrize("shape", SHAPES[1:])
@pytest.mark.parametrize("seed", range(3))
def test_matches_torch_sdpa_with_random_mask(backend, shape, seed):
    q, k, v = _inputs(*shape, torch.float64, seed)
    batch, L, S = shape[0], shape[1], shape[2]
    g = torch.Generator().manual_seed(100 + seed)
    mask = torch.rand(*batch, L, S, generator=g) > 0.4
    mask[..., 0] = True  # every query sees at least one key: torch's kernel gives NaN otherwise
    out, w = _run(q, k, v, backend, mask=mask)
    ref = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
    torch.testing.assert_close(out, ref, atol=1e-6, rtol=1e-6)
    assert (w[~mask.expand_as(w)] == 0).all(), "masked keys must get exactly zero weight"


@pytest.mark.parametrize("backend", ["numpy", "torch"])
def test_causal_matches_is_causal(backend):
    q, k, v = _inputs((2, 3), 6, 6, 8, 8, torch.float64, seed=1)
    out, w = _run(q, k, v, backend, mask=torch.from_numpy(causal_mask(6)))
    ref = F.scaled_dot_product_attention(q, k, v, is_causal=True)
    torch.testing.assert_close(out, ref, atol=1e-6, rtol=1e-6)
    assert torch.equal(w[0, 0].triu(1), torch.zeros(6, 6, dtype=w.dtype)), "no weight above the diagonal"


def test_numpy_causal_mask_works_with_torch_inputs_and_broadcasts_over_batch_and_heads():
    q, k, v = _inputs((2, 3), 5, 5, 4, 4, torch.float64, seed=2)
    out, _ = scaled_dot_product_attention(q, k, v, mask=causal_mask(5))
    torch.testing.assert_close(out, F.scaled_dot_product_attention(q, k, v, is_causal=True))


def test_padding_mask_matches_torch_key_padding():
    q, k, v = _inputs((2,), 4, 6, 8, 8, torch.float64, seed=3)
    mask = padding_mask(torch.tensor([3, 6]), 6)  # (B, 1, S)
    out, w = scaled_dot_product_attention(q, k, v, mask=mask)
    torch.testing.assert_close(out, F.scaled_dot_product_attention(q, k, v, attn_mask=mask))
    assert torch.all(w[0, :, 3:] == 0), "padding keys get no weight"


@pytest.mark.parametrize("backend", ["numpy", "torch"])
def test_fully_masked_row_gives_zero_weights_and_zero_output(backend):
    q, k, v = _inputs((1,), 3, 4, 4, 2, torch.float64, seed=4)
    mask = torch.ones(1, 3, 4, dtype=torch.bool)
    mask[0, 1] = False  # query 1 may see no key
    out, w = _run(q, k, v, backend, mask=mask)
    assert torch.isfinite(out).all() and torch.isfinite(w).all(), "no NaN for a fully masked row"
    assert torch.all(w[0, 1] == 0) and torch.all(out[0, 1] == 0)
    ref = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
    torch.testing.assert_close(out[0, [0, 2]], ref[0, [0, 2]])  # the other rows are unaffected


def test_scale_argument_matches_torch():
    q, k, v = _inputs((2,), 3, 5, 8, 4, torch.float64, seed=5)
    out, _ = scaled_dot_product_attention(q, k, v, scale=0.7)
    torch.testing.assert_close(out, F.scaled_dot_product_attention(q, k, v, scale=0.7))


def test_gradients_flow_like_torch():
    q, k, v = (t.requires_grad_() for t in _inputs((2,), 4, 5, 8, 3, torch.float64, seed=6))
    mask = torch.from_numpy(causal_mask(4, 5))
    scaled_dot_product_attention(q, k, v, mask=mask)[0].square().sum().backward()
    mine = [t.grad.clone() for t in (q, k, v)]
    for t in (q, k, v):
        t.grad = None
    F.scaled_dot_product_attention(q, k, v, attn_mask=mask).square().sum().backward()
    for a, b in zip(mine, (q.grad, k.grad, v.grad)):
        torch.testing.assert_close(a, b)


def test_softmax_is_stable_and_handles_minus_inf():
    x = np.array([[1e4, 0.0, -1e4], [-np.inf, 0.0, 0.0], [-np.inf, -np.inf, -np.inf]])
    p = softmax(x)
    np.testing.assert_allclose(p, [[1, 0, 0], [0, 0.5, 0.5], [0, 0, 0]], atol=1e-12)
    t = softmax(torch.tensor(x, dtype=torch.float32))
    assert not torch.isnan(t).any(), "torch path must not produce NaN either"
    scores = [0.2, 0.9, 0.1]
    expected = torch.softmax(torch.tensor(scores, dtype=torch.float64), 0).numpy()
    np.testing.assert_allclose(softmax(np.array(scores)), expected)


def test_softmax_axis_and_integer_input():
    x = np.arange(6).reshape(2, 3)
    np.testing.assert_allclose(softmax(x, axis=0).sum(0), np.ones(3))
    np.testing.assert_allclose(softmax(x), torch.softmax(torch.tensor(x, dtype=torch.float64), -1).numpy())


def test_dot_product_scores_default_scale_is_one_over_sqrt_dk():
    q, k, _ = _inputs((), 2, 3, 16, 1, torch.float64, seed=7)
    torch.testing.assert_close(dot_product_scores(q, k), q @ k.T / 4.0)
    torch.testing.assert_close(dot_product_scores(q, k, scale=1.0), q @ k.T)


def test_additive_scores_match_formula_and_train():
    g = torch.Generator().manual_seed(8)
    q, k = torch.randn(2, 3, 5, generator=g), torch.randn(2, 4, 6, generator=g)
    W_q, W_k = torch.randn(5, 7, generator=g, requires_grad=True), torch.randn(6, 7, generator=g)
    v = torch.randn(7, generator=g)
    s = additive_scores(q, k, W_q, W_k, v)
    assert s.shape == (2, 3, 4)
    ref = torch.stack([torch.stack([torch.tanh(q[b, i] @ W_q + k[b, j] @ W_k) @ v for j in range(4)])
                       for b in range(2) for i in range(3)]).reshape(2, 3, 4)
    torch.testing.assert_close(s, ref)
    s.sum().backward()
    assert W_q.grad is not None and W_q.grad.abs().sum() > 0, "additive scores must be trainable"
    ours = additive_scores(*(t.detach().numpy() for t in (q, k, W_q, W_k, v)))
    np.testing.assert_allclose(ours, ref.detach().numpy(), rtol=1e-5)


def test_attend_is_weighted_sum_of_values():
    w = np.array([[0.1, 0.75, 0.15]])
    v = np.eye(3)
    np.testing.assert_allclose(attend(w, v), w)
    assert math.isclose(float(attend(w, np.ones((3, 1)))[0, 0]), 1.0)


@pytest.mark.parametrize("backend", ["numpy", "torch"])
def test_attention_output_equals_the_output_of_the_reference_path(backend):
    from attnkit import attention_output

    q, k, v = _inputs((2, 3), 5, 6, 8, 4, torch.float64, seed=9)
    mask = torch.rand(2, 3, 5, 6, generator=torch.Generator().manual_seed(9)) > 0.5
    mask[0, 0, 2] = False  # one query that may see no key
    if backend == "numpy":
        q, k, v, mask = (t.numpy() for t in (q, k, v, mask))
    fast = attention_output(q, k, v, mask=mask)
    ref, _ = scaled_dot_product_attention(q, k, v, mask=mask)
    assert type(fast) is type(ref)
    np.testing.assert_allclose(np.asarray(fast), np.asarray(ref), atol=1e-12)
    assert np.all(np.asarray(fast)[0, 0, 2] == 0), "a fully masked query gets the zero vector, not NaN"
