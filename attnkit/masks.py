"""Boolean attention masks: True = this query may attend to this key.

Rows are queries (L), columns are keys (S), as in every weight matrix of the course.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import torch

from attnkit import _backend as bk
from attnkit.errors import AttentionShapeError, check_shape

__all__ = ["causal_mask", "padding_mask"]


def causal_mask(L: int, S: int | None = None) -> np.ndarray:
    """Query i may attend to keys 0..i: no peeking at later positions.

    Aligned at the top-left like ``torch.nn.functional.scaled_dot_product_attention(is_causal=True)``:
    entry (i, j) is ``j <= i``.

    Args:
        L: number of queries.
        S: number of keys; defaults to ``L`` (self-attention).

    Returns:
        mask: numpy bool (L, S); works with numpy and torch inputs of attention.

    Example:
        >>> causal_mask(3).astype(int)
        array([[1, 0, 0],
               [1, 1, 0],
               [1, 1, 1]])
    """
    S = L if S is None else S
    for name, n in (("L", L), ("S", S)):
        if not isinstance(n, (int, np.integer)) or n < 1:
            raise AttentionShapeError(
                f"causal_mask's {name} must be a positive int (a sequence length), but got {n!r}: "
                f"pass x.shape[-2], not the tensor itself"
            )
    return np.tril(np.ones((L, S), dtype=bool))  # (L, S)


def padding_mask(lengths: Any, S: int) -> Any:
    """Keys at positions ``>= length`` are padding: no query may attend to them.

    Args:
        lengths: (B,) true length of each sequence in the batch (numpy, list or torch).
        S: padded key length.

    Returns:
        mask: bool (B, 1, S), broadcastable to (B, L, S); use ``mask[:, None]`` for (B, H, L, S).
        A torch tensor if ``lengths`` is one, else numpy.

    Example:
        >>> padding_mask([2, 3], 4).astype(int)
        array([[[1, 1, 0, 0]],
        <BLANKLINE>
               [[1, 1, 1, 0]]])
    """
    if not bk.is_torch(lengths):
        lengths = np.asarray(lengths)
    check_shape("lengths", lengths, ("B",), hint="one length per sequence in the batch")
    if bk.is_torch(lengths):
        positions = torch.arange(S, device=lengths.device)
    else:
        positions = np.arange(S)
    if (lengths > S).any() or (lengths < 0).any():
        raise AttentionShapeError(
            f"lengths must lie in 0..S = 0..{S}, but got {lengths.tolist()}: "
            f"S is the padded length, the largest length in the batch or more"
        )
    return positions[None, None, :] < lengths[:, None, None]  # (1, 1, S) < (B, 1, 1) -> (B, 1, S)
