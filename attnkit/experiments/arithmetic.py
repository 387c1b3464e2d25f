"""Count the arithmetic of a GRU and of self-attention over L positions of width D.

Used by lesson 6. Counts are multiply-adds of the matrix products (what
``torch.utils.flop_counter`` reports, halved); biases, gates' elementwise work and the softmax are
left out, being smaller by a factor of D. For one sequence:

    GRU:             3 gates x (input D x D + hidden D x D) per position    = 6 L D^2
    self-attention:  P projections of (L, D) by (D, D)                      = P L D^2
                     scores Q K^T, (L, D) @ (D, L)                          = L^2 D
                     weights @ V, (L, L) @ (L, D)                           = L^2 D

so attention does more arithmetic than the GRU exactly when P L D^2 + 2 L^2 D > 6 L D^2, that is
when L > (6 - P) D / 2: L > D for a full layer (P = 4: query, key, value, output), L > 1.5 D for
the three projections that :mod:`attnkit.experiments.timing` times.

Example:
    >>> crossover_length(128, projections=3)
    192.0
    >>> attention_multiply_adds(192, 128, projections=3) == gru_multiply_adds(192, 128)
    True
"""
from __future__ import annotations

__all__ = ["gru_multiply_adds", "attention_multiply_adds", "crossover_length"]


def gru_multiply_adds(L: int, D: int) -> int:
    """Multiply-adds of a GRU of width D reading L positions of width D: ``6 L D^2``."""
    return 6 * L * D * D


def attention_multiply_adds(L: int, D: int, projections: int = 4) -> int:
    """Multiply-adds of self-attention over L positions of width D: ``P L D^2 + 2 L^2 D``.

    Args:
        L: positions (queries = keys = L); D: model width (the heads split it; the count does not change).
        projections: how many (D, D) projections are counted: 4 for a full layer (W_q, W_k, W_v, W_o),
            3 for query, key and value only.
    """
    return projections * L * D * D + 2 * L * L * D


def crossover_length(D: int, projections: int = 4) -> float:
    """The length L above which self-attention does more arithmetic than a GRU: ``(6 - P) D / 2``."""
    return (6 - projections) * D / 2
