"""Two ways a decoder scores the encoder states: multiplicative (Luong) and additive (Bahdanau).

Used by lesson 2, next to the attention step of the translator (whose score is the multiplicative
one, divided by sqrt(D)). Both give one score per source word; a softmax turns either into weights.

Shapes: ``state`` is one decoder state (D,), ``states`` the S encoder states (S, D); ``d_a`` is the
width of the additive score's hidden layer.

>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> state, states = rng.normal(size=4), rng.normal(size=(3, 4))
>>> multiplicative_scores(state, states, np.eye(4)).shape
(3,)
>>> additive_parameters(D=128, d_a=64)
16448
"""
from __future__ import annotations

import math

import numpy as np

__all__ = ["multiplicative_scores", "additive_scores", "multiplicative_parameters", "additive_parameters"]


def _check(state: np.ndarray, states: np.ndarray) -> None:
    if state.ndim != 1 or states.ndim != 2 or states.shape[1] != state.shape[0]:
        raise ValueError(f"state has shape {state.shape} and states {states.shape} but expected (D,) and (S, D) "
                         f"with the same D: one decoder state and the S encoder states")


def multiplicative_scores(state: np.ndarray, states: np.ndarray, W_a: np.ndarray,
                          scale: float | None = None) -> np.ndarray:
    """Luong's "general" score ``(state @ W_a) . h_s * scale`` for every encoder state h_s.

    Args:
        state: (D,), the decoder's state s_t.
        states: (S, D), the encoder states h_1 .. h_S.
        W_a: (D, D).
        scale: multiplies the scores; ``None`` means ``1 / sqrt(D)`` (what lesson 1's translator uses;
            Luong et al. use 1).

    Returns:
        scores: (S,).
    """
    _check(state, states)
    scale = 1 / math.sqrt(state.shape[0]) if scale is None else scale
    return states @ (state @ W_a) * scale  # (S, D) @ (D,) -> (S,)


def additive_scores(state: np.ndarray, states: np.ndarray, W_1: np.ndarray, W_2: np.ndarray,
                    v: np.ndarray) -> np.ndarray:
    """Bahdanau's additive score ``v . tanh(state @ W_1 + h_s @ W_2)`` for every encoder state h_s.

    A one-hidden-layer network of width d_a; since tanh lies in (-1, 1), every score lies within
    ``sum(|v|)`` of 0, however large the states.

    Args:
        state: (D,), the decoder's state s_t.
        states: (S, D), the encoder states.
        W_1: (D, d_a); W_2: (D, d_a); v: (d_a,).

    Returns:
        scores: (S,).
    """
    _check(state, states)
    hidden = np.tanh(state @ W_1 + states @ W_2)  # (d_a,) + (S, d_a) -> (S, d_a)
    return hidden @ v  # (S, d_a) @ (d_a,) -> (S,)


def multiplicative_parameters(D: int) -> int:
    """Parameters of the multiplicative score: W_a, D x D."""
    return D * D


def additive_parameters(D: int, d_a: int) -> int:
    """Parameters of the additive score: W_1 and W_2 (D x d_a each) and v (d_a)."""
    return 2 * D * d_a + d_a
