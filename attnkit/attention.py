"""Softmax and scaled dot-product attention, for numpy arrays and torch tensors.

Shape legend: B batch, H heads, L query length, S key/value length, d_k query/key width,
d_v value width; ``...`` is any number of leading batch dims (B, or B and H).

    scores  = query @ key^T * scale            # (..., L, d_k) @ (..., d_k, S) -> (..., L, S)
    scores  = where(mask, scores, -inf)        # True = may attend
    weights = softmax(scores, axis=-1)         # each row sums to 1 (or is all 0, see below)
    output  = weights @ value                  # (..., L, S) @ (..., S, d_v) -> (..., L, d_v)
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from attnkit import _backend as bk
from attnkit.errors import AttentionShapeError, check_mask, check_same_kind, check_shape, shape_of

__all__ = [
    "softmax", "dot_product_scores", "additive_scores", "attend", "scaled_dot_product_attention", "attention_output",
]

Array = Any  # a numpy.ndarray or a torch.Tensor; every function returns the kind it was given


def softmax(x: Array, axis: int = -1) -> Array:
    """Numerically stable softmax: ``exp(x - max) / sum(exp(x - max))`` along ``axis``.

    Subtracting the row maximum changes nothing mathematically (softmax is shift-invariant) but
    keeps ``exp`` from overflowing: scores of 1e4 give weights, not NaN. Entries of ``-inf``
    get weight exactly 0; a row that is entirely ``-inf`` (a query allowed to see no key) gets
    all-zero weights rather than NaN.

    Example:
        >>> softmax(np.array([0.2, 0.9, 0.1])).round(3)
        array([0.255, 0.514, 0.231])
        >>> softmax(np.array([1e4, 0.0]))
        array([1., 0.])
    """
    x = bk.as_float(x)
    m = bk.amax(x, axis)  # (..., 1, ...): the row maxima
    if bk.is_torch(x):
        empty = m == -math.inf  # rows with no finite entry: a query that may see no key
        if not bool(empty.any()):
            return torch.softmax(x, dim=axis)  # torch's fused kernel subtracts the max itself
        x = torch.where(empty, 0.0, x)  # avoid exp(-inf - -inf) = NaN ...
        return torch.softmax(x, dim=axis) * ~empty  # ... and give those rows all-zero weights
    m = np.where(np.isfinite(m), m, 0.0)  # an all -inf row: shift by 0, its exps are all 0
    e = x - m  # (..., S); the only full-size temporary
    np.exp(e, out=e)
    s = e.sum(axis=axis, keepdims=True)
    e /= np.where(s > 0, s, 1.0)
    return e


def _check_qk(query: Array, key: Array) -> dict[str, int]:
    sizes = check_shape("query", query, ("L", "d_k"), batch_dims=True,
                        hint="query holds one row per query position")
    return check_shape("key", key, ("S", "d_k"), sizes, batch_dims=True,
                       hint="d_k must match query's last dim")


def _check_qkv(query: Array, key: Array, value: Array) -> dict[str, int]:
    """The checks shared by the attention entry points; returns the sizes L, S, d_k, d_v."""
    check_same_kind(query=query, key=key, value=value)
    sizes = _check_qk(query, key)
    sizes = check_shape("value", value, ("S", "d_v"), sizes, batch_dims=True,
                        hint="key and value must have the same length S: one value per key")
    try:
        np.broadcast_shapes(shape_of(query)[:-2], shape_of(key)[:-2], shape_of(value)[:-2])
    except ValueError:
        raise AttentionShapeError(
            f"the batch dims of query {shape_of(query)}, key {shape_of(key)} and value "
            f"{shape_of(value)} do not broadcast: expected (..., L, d_k), (..., S, d_k), (..., S, d_v) "
            f"with the same leading dims (B, or B and H)"
        ) from None
    return sizes


def dot_product_scores(query: Array, key: Array, scale: float | None = None) -> Array:
    """Scaled dot-product scores ``query @ key^T * scale``, scale defaulting to ``1/sqrt(d_k)``.

    Args:
        query: (..., L, d_k).
        key: (..., S, d_k).
        scale: multiplies the scores; ``None`` means ``1 / sqrt(d_k)``.

    Returns:
        scores: (..., L, S); row i holds query i's score against every key.
    """
    check_same_kind(query=query, key=key)
    return _scores(query, key, scale, _check_qk(query, key)["d_k"])


def _scores(query: Array, key: Array, scale: float | None, d_k: int) -> Array:
    """``query @ key^T * scale`` on inputs already checked."""
    scale = 1.0 / math.sqrt(d_k) if scale is None else scale
    query, key = bk.as_float(query), bk.as_float(key)
    return bk.matmul(query * scale, key.swapaxes(-1, -2))  # (..., L, d_k) @ (..., d_k, S) -> (..., L, S)


def additive_scores(query: Array, key: Array, W_q: Array, W_k: Array, v: Array) -> Array:
    """Additive (Bahdanau) scores ``v . tanh(q W_q + k W_k)`` for every query-key pair.

    Args:
        query: (..., L, d_q), e.g. the decoder state.
        key: (..., S, d_k), e.g. the encoder states.
        W_q: (d_q, A); W_k: (d_k, A); v: (A,). A is the attention width.

    Returns:
        scores: (..., L, S).
    """
    check_same_kind(query=query, key=key, W_q=W_q, W_k=W_k, v=v)
    sizes = check_shape("query", query, ("L", "d_q"), batch_dims=True)
    sizes = check_shape("key", key, ("S", "d_k"), sizes, batch_dims=True)
    sizes = check_shape("W_q", W_q, ("d_q", "A"), sizes, hint="W_q maps query's width to the attention width A")
    sizes = check_shape("W_k", W_k, ("d_k", "A"), sizes, hint="W_k maps key's width to A, the width W_q maps to")
    check_shape("v", v, ("A",), sizes, hint="v turns each A-wide tanh feature into one score")
    q = (query @ W_q)[..., :, None, :]  # (..., L, A) -> (..., L, 1, A)
    k = (key @ W_k)[..., None, :, :]  # (..., S, A) -> (..., 1, S, A)
    return bk.tanh(q + k) @ v  # (..., L, S, A) @ (A,) -> (..., L, S)


def attend(weights: Array, value: Array) -> Array:
    """The weighted sum of values: ``weights @ value``.

    Args:
        weights: (..., L, S), rows summing to 1.
        value: (..., S, d_v).

    Returns:
        output: (..., L, d_v); row i mixes the values by query i's weights.
    """
    check_same_kind(weights=weights, value=value)
    sizes = check_shape("weights", weights, ("L", "S"), batch_dims=True)
    check_shape("value", value, ("S", "d_v"), sizes, batch_dims=True,
                hint="value needs one row per key, S rows")
    return weights @ bk.like(value, weights)  # (..., L, S) @ (..., S, d_v) -> (..., L, d_v)


def scaled_dot_product_attention(
    query: Array, key: Array, value: Array, mask: Array | None = None, scale: float | None = None
) -> tuple[Array, Array]:
    """Attention: ``softmax(query @ key^T / sqrt(d_k), masked) @ value``.

    A plain reference implementation, the same as this function computes::

        scores = query @ key.swapaxes(-1, -2) / math.sqrt(d_k)   # (..., L, S)
        scores = where(mask, scores, -inf)                         # True = may attend
        weights = softmax(scores, axis=-1)                         # rows sum to 1
        output = weights @ value                                   # (..., L, d_v)

    Args:
        query: (..., L, d_k).
        key: (..., S, d_k).
        value: (..., S, d_v).
        mask: boolean, broadcastable to (..., L, S); True = this query may attend to this key.
            A numpy mask works with torch inputs too (``causal_mask`` returns numpy).
        scale: multiplies the scores; ``None`` means ``1 / sqrt(d_k)``.

    Returns:
        ``(output, weights)``: output (..., L, d_v) and weights (..., L, S), both of the kind
        (numpy or torch) that was passed in. A query row whose keys are all masked out attends to
        nothing: its weights are all 0 and its output is the zero vector (torch's own fused
        kernel returns NaN there).

    Raises:
        AttentionShapeError: wrong rank, d_k or S mismatch, or a mask of the wrong shape or dtype.

    Example:
        >>> q = np.array([[1.0, 0.0]]); k = np.array([[1.0, 0.0], [0.0, 1.0]]); v = np.array([[1.0], [2.0]])
        >>> out, w = scaled_dot_product_attention(q, k, v)
        >>> w.round(3), out.round(3)
        (array([[0.67, 0.33]]), array([[1.33]]))
    """
    sizes = _check_qkv(query, key, value)  # the one validation of the inputs
    scores = _scores(query, key, scale, sizes["d_k"])  # (..., L, S)
    if mask is not None:
        check_mask(mask, shape_of(scores))
        scores = bk.where(bk.like(mask, scores), scores, -math.inf)  # the one place masks are filled
    weights = softmax(scores, axis=-1)  # (..., L, S)
    output = bk.matmul(weights, bk.as_float(value))  # (..., L, S) @ (..., S, d_v) -> (..., L, d_v)
    return output, weights


def attention_output(
    query: Array, key: Array, value: Array, mask: Array | None = None, scale: float | None = None
) -> Array:
    """The output of :func:`scaled_dot_product_attention` alone, by the fastest route.

    When the weights are not needed, torch inputs go to torch's fused kernel
    (``torch.nn.functional.scaled_dot_product_attention``), which never stores the (L, S) weight
    matrix; numpy inputs take the reference path. Same arguments, same masking convention and the
    same answer for a fully masked query row (a zero output).

    Returns:
        output: (..., L, d_v).
    """
    if not bk.is_torch(query):
        return scaled_dot_product_attention(query, key, value, mask, scale)[0]
    sizes = _check_qkv(query, key, value)
    if mask is None:
        return F.scaled_dot_product_attention(query, key, value, scale=scale)
    check_mask(mask, (*shape_of(query)[:-1], sizes["S"]))
    mask = bk.like(mask, query)
    sees_a_key = mask.any(-1, keepdim=True)  # (..., L, 1)
    out = F.scaled_dot_product_attention(query, key, value, attn_mask=mask | ~sees_a_key, scale=scale)
    return out * sees_a_key  # a query that may see no key gets the zero vector, not NaN
