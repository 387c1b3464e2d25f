"""The library analogy as code: hard retrieval (vector search) and soft retrieval (attention).

Shape legend: S number of keys (books), D embedding width, d_v value width; ``...`` any leading
dims of the query (one query is ``(D,)``, L queries are ``(L, D)``).

    scores  = cosine(query, keys)                  # (..., D), (S, D) -> (..., S)
    hard:   weights = one_hot(argmax(scores))      # vector search: read only the best book
    soft:   weights = softmax(scores / temperature)  # attention: read every book a little
    output  = weights @ values                     # (..., S) @ (S, d_v) -> (..., d_v)

As ``temperature`` falls to 0 the soft weights approach the hard one-hot; as it grows they approach
the uniform ``1/S``. Every function accepts numpy arrays or torch tensors and returns that kind.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from attnkit import _backend as bk
from attnkit.attention import attend, scaled_dot_product_attention, softmax
from attnkit.errors import check_same_kind, check_shape

__all__ = [
    "cosine_similarity",
    "top_k",
    "hard_lookup",
    "soft_lookup",
    "temperature_sweep",
    "weight_entropy",
]

Array = Any  # a numpy.ndarray or a torch.Tensor


def _unit(x: Array, eps: float = 1e-12) -> Array:
    """Each row divided by its length; a zero row stays zero (cosine 0 with everything)."""
    x = bk.as_float(x)
    if bk.is_torch(x):
        return x / x.norm(dim=-1, keepdim=True).clamp_min(eps)
    return x / np.maximum(np.linalg.norm(x, axis=-1, keepdims=True), eps)


def _check_lookup(query: Array, keys: Array, values: Array | None = None) -> dict[str, int]:
    arrays = {"query": query, "keys": keys} | ({} if values is None else {"values": values})
    check_same_kind(**arrays)
    sizes = check_shape("query", query, ("D",), batch_dims=True,
                        hint="one query is a (D,) vector; L queries are an (L, D) matrix")
    sizes = check_shape("keys", keys, ("S", "D"), sizes,
                        hint="keys need one row per book and the query's width D")
    if values is not None:
        sizes = check_shape("values", values, ("S", "d_v"), sizes,
                            hint="values need one row per key: the same S as keys")
    return sizes


def cosine_similarity(a: Array, b: Array) -> Array:
    """Cosine similarity of every row of ``a`` with every row of ``b``: ``a.b / (|a| |b|)``.

    It multiplies like ``a @ b.T`` on unit-length rows, so for unit vectors (as
    :func:`attnkit.transformer.embeddings.embed` returns) it is exactly the dot product.

    Args:
        a: (..., L, D) or a single vector (D,).
        b: (S, D) or a single vector (D,).

    Returns:
        (..., L, S); a vector argument drops its dim, so (D,) with (S, D) gives (S,) and two
        vectors give a scalar array. 1 means same direction, 0 unrelated, -1 opposite.

    Example:
        >>> cosine_similarity(np.array([1.0, 0.0]), np.array([[2.0, 0.0], [1.0, 1.0]])).round(3)
        array([1.   , 0.707])
    """
    check_same_kind(a=a, b=b)
    sizes = check_shape("a", a, ("D",), batch_dims=True)
    letters = ("S", "D") if getattr(b, "ndim", 2) >= 2 else ("D",)
    check_shape("b", b, letters, sizes, hint="b holds S rows as wide as a's last dim D, or one (D,) vector")
    a, b = _unit(a), _unit(b)
    return a @ (b.swapaxes(-1, -2) if b.ndim == 2 else b)  # (..., D) @ (D, S) -> (..., S)


def top_k(query: Array, keys: Array, k: int = 1) -> tuple[Array, Array]:
    """Hard retrieval (vector search): the ``k`` keys most similar to the query, best first.

    ``scores = cosine_similarity(query, keys)``; the answer is the indices of the ``k`` largest
    scores in descending order (ties go to the lower index) and those scores.

    Args:
        query: (..., D), e.g. one embedded question (D,).
        keys: (S, D), e.g. the embedded spine labels.
        k: how many books to take, 1 <= k <= S.

    Returns:
        ``(indices, scores)``, both (..., k): integer indices into ``keys`` and their cosines.

    Raises:
        AttentionShapeError: wrong shapes; ValueError: ``k`` outside 1..S.
    """
    sizes = _check_lookup(query, keys)
    if not 1 <= k <= sizes["S"]:
        raise ValueError(f"k is {k} but must be between 1 and S = {sizes['S']} (the number of keys)")
    scores = cosine_similarity(query, keys)  # (..., S)
    if bk.is_torch(scores):
        order = torch.sort(scores, dim=-1, descending=True, stable=True).indices[..., :k]
        return order, torch.gather(scores, -1, order)
    order = np.argsort(-scores, axis=-1, kind="stable")[..., :k]
    return order, np.take_along_axis(scores, order, axis=-1)


def hard_lookup(query: Array, keys: Array, values: Array) -> tuple[Array, Array]:
    """Read only the best-matching book: a one-hot weight on the top-1 key, then ``weights @ values``.

    Args:
        query: (..., D).
        keys: (S, D).
        values: (S, d_v).

    Returns:
        ``(output, weights)``: output (..., d_v) is the value of the best key; weights (..., S) is
        one-hot. The same return form as :func:`soft_lookup`, so the two compare side by side.
    """
    _check_lookup(query, keys, values)
    index, _ = top_k(query, keys, k=1)  # (..., 1)
    if bk.is_torch(index):
        weights = torch.zeros(*index.shape[:-1], keys.shape[0], dtype=bk.as_float(keys).dtype,
                              device=keys.device)
        weights = weights.scatter(-1, index, 1.0)  # (..., S), one-hot
    else:
        weights = (np.arange(keys.shape[0]) == index).astype(bk.as_float(keys).dtype)  # (..., S)
    output = attend(weights[..., None, :], bk.as_float(values))  # (..., 1, S) @ (S, d_v) -> (..., 1, d_v)
    return output[..., 0, :], weights


def soft_lookup(query: Array, keys: Array, values: Array, temperature: float = 1.0) -> tuple[Array, Array]:
    """Soft retrieval (attention): read every book, weighted by ``softmax(cosine / temperature)``.

        weights = softmax(cosine_similarity(query, keys) / temperature)   # (..., S)
        output  = weights @ values                                        # (..., d_v)

    This is :func:`attnkit.scaled_dot_product_attention` on unit-length queries and keys with
    ``scale = 1 / temperature``.

    Args:
        query: (..., D).
        keys: (S, D); compared with the query.
        values: (S, d_v); what is read out. Keys and values may be different things (the spine
            label and the contents), but there must be one value per key.
        temperature: > 0. Small: nearly all weight on the best key (hard retrieval). Large:
            nearly uniform weights 1/S. ``float('inf')`` gives exactly uniform weights.

    Returns:
        ``(output, weights)``: output (..., d_v), weights (..., S) summing to 1.

    Raises:
        AttentionShapeError: wrong shapes; ValueError: temperature not > 0.
    """
    _check_lookup(query, keys, values)
    if not temperature > 0:
        raise ValueError(
            f"temperature is {temperature} but must be > 0: softmax(scores / 0) is undefined; "
            f"use hard_lookup for the temperature -> 0 limit"
        )
    q = _unit(query)[..., None, :]  # (..., D) -> (..., 1, D)
    output, weights = scaled_dot_product_attention(q, _unit(keys), bk.as_float(values),
                                                   scale=1.0 / temperature)
    return output[..., 0, :], weights[..., 0, :]  # (..., 1, d_v) -> (..., d_v); (..., 1, S) -> (..., S)


def temperature_sweep(query: Array, keys: Array, temperatures: Sequence[float]) -> Array:
    """The soft-lookup weights over the keys at each temperature, for a plot from argmax to uniform.

    Args:
        query: (..., D).
        keys: (S, D).
        temperatures: one or more temperatures, each > 0.

    Returns:
        weights: (len(temperatures), ..., S); row t is ``softmax(cosine(query, keys) / temperatures[t])``.
    """
    _check_lookup(query, keys)
    bad = [t for t in temperatures if not t > 0]
    if bad:
        raise ValueError(f"temperatures contain {bad[0]} but each must be > 0 (use math.inf for uniform)")
    scores = cosine_similarity(query, keys)  # (..., S)
    rows = [softmax(scores / t) for t in temperatures]  # one (..., S) row per temperature, as soft_lookup weighs them
    return torch.stack(rows) if bk.is_torch(keys) else np.stack(rows)


def weight_entropy(weights: Array) -> Array:
    """Entropy ``-sum_s w_s log w_s`` of each weight row, in nats (0 log 0 counts as 0).

    It is 0 for a one-hot row (hard retrieval) and ``log S`` for uniform weights, so it measures
    how spread out the attention is.

    Args:
        weights: (..., S), rows summing to 1.

    Returns:
        entropy: (...,).
    """
    check_shape("weights", weights, ("S",), batch_dims=True)
    w = bk.as_float(weights)
    if bk.is_torch(w):
        return -torch.sum(torch.special.xlogy(w, w), dim=-1)
    logs = np.log(np.where(w > 0, w, 1.0))  # log 1 = 0 where w = 0
    return -np.sum(w * logs, axis=-1)
