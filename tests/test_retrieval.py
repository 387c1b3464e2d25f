"""Hard and soft retrieval against torch oracles, with the slips a learner makes."""
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from attnkit import AttentionShapeError
from attnkit.library.retrieval import (
    cosine_similarity,
    hard_lookup,
    soft_lookup,
    temperature_sweep,
    top_k,
    weight_entropy,
)


def _data(seed, S=6, D=5, d_v=3, L=None):
    g = torch.Generator().manual_seed(seed)
    query = torch.randn(*(() if L is None else (L,)), D, generator=g, dtype=torch.float64)
    keys = torch.randn(S, D, generator=g, dtype=torch.float64)
    values = torch.randn(S, d_v, generator=g, dtype=torch.float64)
    return query, keys, values


def _as(backend, *arrays):
    return tuple(a.numpy() if backend == "numpy" else a for a in arrays)


def _torch(x):
    return x if isinstance(x, torch.Tensor) else torch.from_numpy(np.asarray(x))


@pytest.mark.parametrize("backend", ["numpy", "torch"])
@pytest.mark.parametrize("L", [None, 4])
def test_cosine_matches_torch(backend, L):
    query, keys, _ = _data(0, L=L)
    got = cosine_similarity(*_as(backend, query, keys))
    ref = F.cosine_similarity(query[..., None, :], keys, dim=-1)  # (..., 1, D) vs (S, D) -> (..., S)
    assert type(got) is type(_as(backend, query)[0]), "numpy in, numpy out; torch in, torch out"
    torch.testing.assert_close(_torch(got), ref)


def test_cosine_of_two_vectors_ignores_length_and_zero_is_zero():
    a, b = np.array([3.0, 4.0]), np.array([6.0, 8.0])
    assert cosine_similarity(a, b) == pytest.approx(1.0)
    assert cosine_similarity(a, np.zeros(2)) == 0.0, "a zero vector is unrelated, not NaN"


def test_cosine_checks_width_and_rank():
    with pytest.raises(AttentionShapeError, match=r"b has shape \(4, 5\) but expected \(S, D\) = \(4, 3\)"):
        cosine_similarity(np.ones((2, 3)), np.ones((4, 5)))
    with pytest.raises(AttentionShapeError, match="b has shape .* it needs 2 dims, got 3"):
        cosine_similarity(np.ones((2, 3)), np.ones((1, 4, 3)))


@pytest.mark.parametrize("backend", ["numpy", "torch"])
@pytest.mark.parametrize("seed", range(3))
def test_top_k_is_brute_force_sort_best_first(backend, seed):
    query, keys, _ = _data(seed, S=9, L=3)
    indices, scores = top_k(*_as(backend, query, keys), k=4)
    ref = F.cosine_similarity(query[:, None, :], keys, dim=-1)  # (L, S)
    ref_scores, ref_indices = ref.sort(dim=-1, descending=True)
    assert _torch(indices).tolist() == ref_indices[:, :4].tolist()
    torch.testing.assert_close(_torch(scores), ref_scores[:, :4])


def test_top_k_uses_cosine_not_raw_dot_product():
    query = np.array([1.0, 0.0])
    keys = np.array([[1.0, 0.1], [10.0, 9.0]])  # key 1 is long: it wins a raw dot product
    assert int(np.argmax(keys @ query)) == 1, "the slip: dot products favour long keys"
    indices, _ = top_k(query, keys, k=1)
    assert indices.tolist() == [0], "vector search ranks by direction (cosine), not by length"


def test_top_k_ties_go_to_the_lower_index_and_k_is_checked():
    keys = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0]])
    indices, _ = top_k(np.array([1.0, 0.0]), keys, k=2)
    assert indices.tolist() == [0, 2]
    with pytest.raises(ValueError, match="k is 4 but must be between 1 and S = 3"):
        top_k(np.array([1.0, 0.0]), keys, k=4)


@pytest.mark.parametrize("backend", ["numpy", "torch"])
def test_hard_lookup_reads_the_best_value(backend):
    query, keys, values = _data(1, L=5)
    output, weights = hard_lookup(*_as(backend, query, keys, values))
    best = F.cosine_similarity(query[:, None, :], keys, dim=-1).argmax(dim=-1)  # (L,)
    torch.testing.assert_close(_torch(output), values[best])
    torch.testing.assert_close(_torch(weights), F.one_hot(best, keys.shape[0]).to(torch.float64))


@pytest.mark.parametrize("backend", ["numpy", "torch"])
@pytest.mark.parametrize("temperature", [0.05, 0.5, 1.0, 7.0])
def test_soft_lookup_matches_torch_sdpa(backend, temperature):
    query, keys, values = _data(2, L=3)
    output, weights = soft_lookup(*_as(backend, query, keys, values), temperature=temperature)
    q, k = F.normalize(query, dim=-1), F.normalize(keys, dim=-1)
    ref = F.scaled_dot_product_attention(q, k, values, scale=1.0 / temperature)
    torch.testing.assert_close(_torch(output), ref)
    ref_weights = torch.softmax(F.cosine_similarity(query[:, None, :], keys, dim=-1) / temperature, dim=-1)
    torch.testing.assert_close(_torch(weights), ref_weights)


def test_soft_lookup_limits_are_hard_lookup_and_uniform():
    query, keys, values = _data(3)
    query, keys, values = query.numpy(), keys.numpy(), values.numpy()
    cold, cold_w = soft_lookup(query, keys, values, temperature=1e-4)
    hard, hard_w = hard_lookup(query, keys, values)
    np.testing.assert_allclose(cold_w, hard_w, atol=1e-9)
    np.testing.assert_allclose(cold, hard, atol=1e-9)
    hot, hot_w = soft_lookup(query, keys, values, temperature=math.inf)
    np.testing.assert_allclose(hot_w, np.full(6, 1 / 6))
    np.testing.assert_allclose(hot, values.mean(axis=0), err_msg="uniform weights read the average value")


def test_soft_lookup_keys_and_values_are_different_things():
    query, keys, values = _data(4)
    _, weights = soft_lookup(query, keys, values)
    _, weights_by_values = soft_lookup(query, keys, values * 100)
    torch.testing.assert_close(weights, weights_by_values, msg="weights come from keys alone")


def test_soft_lookup_is_differentiable():
    query, keys, values = _data(5)
    query.requires_grad_(True)
    output, _ = soft_lookup(query, keys, values)
    output.sum().backward()
    assert query.grad is not None and torch.isfinite(query.grad).all() and query.grad.abs().sum() > 0


def test_soft_lookup_errors():
    query, keys, values = (x.numpy() for x in _data(6))
    with pytest.raises(ValueError, match="temperature is 0 but must be > 0"):
        soft_lookup(query, keys, values, temperature=0)
    with pytest.raises(AttentionShapeError, match="values has shape .*one row per key"):
        soft_lookup(query, keys, values[:-1])
    with pytest.raises(AttentionShapeError, match="keys has shape"):
        soft_lookup(query, keys.T, values)
    with pytest.raises(AttentionShapeError, match="must all be numpy arrays or all torch tensors, but query is torch"):
        soft_lookup(torch.from_numpy(query), keys, values)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.floats(-1, 1), min_size=2, max_size=8), st.floats(0.01, 10))
def test_soft_weights_keep_the_order_of_the_scores(cosines, temperature):
    # keys at the given cosines to the query (1, 0): (c, sqrt(1 - c^2))
    c = np.array(cosines)
    keys = np.stack([c, np.sqrt(1 - c**2)], axis=1)
    _, weights = soft_lookup(np.array([1.0, 0.0]), keys, np.eye(len(c)), temperature)
    assert weights.sum() == pytest.approx(1.0)
    order = np.argsort(c, kind="stable")
    assert np.all(np.diff(weights[order]) >= -1e-12), "a higher score never gets a lower weight"


@pytest.mark.parametrize("backend", ["numpy", "torch"])
def test_temperature_sweep_goes_from_argmax_to_uniform(backend):
    query, keys, _ = _as(backend, *_data(7, S=5))
    temperatures = np.geomspace(1e-3, 1e3, 13)
    weights = temperature_sweep(query, keys, temperatures)  # (len(temperatures), S)
    assert tuple(weights.shape) == (13, 5)
    entropy = _torch(weight_entropy(weights))
    assert entropy[0] < 1e-6 and entropy[-1] == pytest.approx(math.log(5), abs=1e-3)
    assert torch.all(torch.diff(entropy) > 0), "hotter temperatures spread the weights more"
    with pytest.raises(ValueError, match="temperatures contain 0"):
        temperature_sweep(query, keys, [1.0, 0])
    for row, t in zip(weights, temperatures):
        identity = _as(backend, torch.eye(5, dtype=torch.float64))[0]
        torch.testing.assert_close(_torch(row), _torch(soft_lookup(query, keys, identity, t)[1]))


@pytest.mark.parametrize("backend", ["numpy", "torch"])
def test_weight_entropy_matches_torch_categorical(backend):
    g = torch.Generator().manual_seed(8)
    weights = torch.softmax(torch.randn(4, 6, generator=g, dtype=torch.float64), dim=-1)
    weights[0] = F.one_hot(torch.tensor(2), 6)  # 0 log 0 must count as 0, not NaN
    got = weight_entropy(*_as(backend, weights))
    torch.testing.assert_close(_torch(got), torch.distributions.Categorical(probs=weights).entropy())
