"""Measurements behind Lesson 4: solving for a temperature, and why scores are divided by sqrt(d_k).

Shape legend: S number of keys, d_k query/key width, N random trials.

* :func:`temperature_for_weight` answers "which temperature T makes ``softmax(scores / T)`` put a
  given weight on the best key?" by bisection (the weight falls steadily as T grows).
* :func:`scaling_experiment` draws random queries and keys with unit-variance entries and measures,
  for each d_k, the variance of ``q . k``, how peaked the softmax is, and how much gradient flows
  back through it, with and without the ``1/sqrt(d_k)`` scale.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from attnkit.attention import softmax
from attnkit.errors import check_shape

__all__ = ["temperature_for_weight", "ScalingExperiment", "scaling_experiment"]


def temperature_for_weight(scores: Any, index: int, target: float, rtol: float = 1e-12) -> float:
    """The temperature T at which ``softmax(scores / T)[index] == target``, found by bisection.

    The key must hold the single highest score: then its weight falls steadily from 1 (T -> 0,
    argmax) to 1/S (T -> inf, uniform), so exactly one T gives any target between. The scale a
    dot product would need for the same weights is ``1 / T``.

    Args:
        scores: (S,) numbers, e.g. ``[0.2, 0.9, 0.1]``.
        index: the key that should receive ``target``; it must have the highest score.
        target: the wanted weight, 1/S < target < 1.
        rtol: relative precision of the returned T.

    Returns:
        T > 0 as a float.

    Raises:
        ValueError: if ``index`` is not the single argmax or ``target`` is out of reach, with why.

    Example:
        >>> round(temperature_for_weight([0.2, 0.9, 0.1], index=1, target=0.75), 4)
        0.4169
    """
    scores = np.asarray(scores.detach().cpu() if isinstance(scores, torch.Tensor) else scores,
                        dtype=np.float64)
    check_shape("scores", scores, ("S",), hint="one score per key")
    S = scores.shape[0]
    if not 0 <= index < S:
        raise ValueError(f"index is {index} but scores has S = {S} keys: use 0..{S - 1}")
    others = np.delete(scores, index)
    if S > 1 and not scores[index] > others.max():
        raise ValueError(
            f"key {index} has score {scores[index]:g} but the highest is {scores.max():g}: softmax "
            f"keeps the order of the scores, so only the single highest-scoring key can be given "
            f"more than 1/S of the weight by a temperature"
        )
    if not 1.0 / S < target < 1.0:
        raise ValueError(
            f"target is {target} but must lie strictly between 1/S = {1.0 / S:.4g} (uniform, T -> inf) "
            f"and 1 (argmax, T -> 0)"
        )

    def weight(t: float) -> float:
        return float(softmax(scores / t)[index])

    low, high = 1.0, 1.0  # find low with weight > target and high with weight < target
    while weight(low) <= target:
        low /= 2.0
    while weight(high) >= target:
        high *= 2.0
    for _ in range(200):  # each step halves log(high / low); 200 steps reach float precision
        if high / low - 1.0 <= rtol:
            break
        middle = math.sqrt(low * high)  # bisect in log T: T spans many orders of magnitude
        if weight(middle) > target:
            low = middle
        else:
            high = middle
    return math.sqrt(low * high)


@dataclass(frozen=True)
class ScalingExperiment:
    """Results of :func:`scaling_experiment`, one entry per d_k (all arrays have shape (len(d_k),)).

    ``*_unscaled`` use scores ``q . k``; ``*_scaled`` use ``q . k / sqrt(d_k)``.
    ``max_weight`` is the mean largest softmax weight (1/S = spread evenly, 1 = one-hot);
    ``grad_norm`` is the mean length of the gradient that reaches the scores through the softmax.
    """

    d_k: np.ndarray
    num_keys: int
    score_variance_unscaled: np.ndarray
    score_variance_scaled: np.ndarray
    max_weight_unscaled: np.ndarray
    max_weight_scaled: np.ndarray
    grad_norm_unscaled: np.ndarray
    grad_norm_scaled: np.ndarray


def _softmax_stats(scores: torch.Tensor, upstream: torch.Tensor) -> tuple[float, float, float]:
    """Variance of the scores, mean max weight, mean gradient norm at the scores. scores: (N, S)."""
    scores = scores.detach().requires_grad_(True)
    weights = softmax(scores, axis=-1)  # (N, S)
    (grad,) = torch.autograd.grad((weights * upstream).sum(), scores)  # d<upstream, weights>/d scores
    return (float(scores.detach().var()), float(weights.detach().amax(dim=-1).mean()),
            float(grad.norm(dim=-1).mean()))


def scaling_experiment(
    d_k_values: Sequence[int], num_keys: int = 16, num_trials: int = 1000, seed: int = 0
) -> ScalingExperiment:
    """Measure why attention divides scores by ``sqrt(d_k)``, on random queries and keys.

    For each d_k: draw ``num_trials`` queries q (d_k,) and, for each, ``num_keys`` keys
    k (S, d_k), all entries independent N(0, 1). Then ``q . k`` is a sum of d_k products of
    variance 1, so ``Var(q . k) = d_k``; dividing by ``sqrt(d_k)`` brings it back to 1. The
    experiment measures that variance, how close ``softmax(scores)`` comes to one-hot, and the
    length of the gradient ``d <g, softmax(scores)> / d scores`` for a random upstream gradient
    g ~ N(0, I) (the gradient the softmax passes back to the scores during training).

    Args:
        d_k_values: the widths to try, e.g. ``[4, 16, 64, 256, 1024]``.
        num_keys: S, keys per query.
        num_trials: N, random queries per width.
        seed: seeds the torch generator; the same seed gives the same numbers.

    Returns:
        A :class:`ScalingExperiment` of arrays with one entry per d_k.
    """
    if num_keys < 2 or num_trials < 2:
        raise ValueError(f"num_keys ({num_keys}) and num_trials ({num_trials}) must both be >= 2")
    generator = torch.Generator().manual_seed(seed)
    rows = []
    for d_k in d_k_values:
        query = torch.randn(num_trials, 1, d_k, generator=generator, dtype=torch.float64)
        key = torch.randn(num_trials, num_keys, d_k, generator=generator, dtype=torch.float64)
        upstream = torch.randn(num_trials, num_keys, generator=generator, dtype=torch.float64)
        scores = (query @ key.transpose(-1, -2))[:, 0, :]  # (N, 1, d_k) @ (N, d_k, S) -> (N, S)
        rows.append(_softmax_stats(scores, upstream) + _softmax_stats(scores / math.sqrt(d_k), upstream))
    table = np.array(rows).reshape(len(rows), 6)
    return ScalingExperiment(
        d_k=np.asarray(d_k_values), num_keys=num_keys,
        score_variance_unscaled=table[:, 0], score_variance_scaled=table[:, 3],
        max_weight_unscaled=table[:, 1], max_weight_scaled=table[:, 4],
        grad_norm_unscaled=table[:, 2], grad_norm_scaled=table[:, 5],
    )
