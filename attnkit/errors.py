"""Learner-friendly shape errors: one helper owns the wording.

Every public entry point of attnkit checks its inputs with :func:`check_shape`, so a learner who
passes the wrong thing reads the same kind of message everywhere::

    key has shape (2, 7, 16) but expected (B, S, d_k) = (2, 7, 8): d_k must match query's last dim
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["AttentionShapeError", "check_shape", "check_mask", "check_same_kind", "shape_of"]


class AttentionShapeError(ValueError):
    """An argument has the wrong rank, size or dtype for the shape legend of the lesson.

    It is a ``ValueError``, so ``except ValueError`` catches it too.
    """


def shape_of(x: Any) -> tuple[int, ...]:
    """The shape of a numpy array or torch tensor as a plain tuple of ints."""
    return tuple(int(n) for n in x.shape)


def _fmt(shape: Sequence[int]) -> str:
    return "(" + ", ".join(str(n) for n in shape) + ("," if len(shape) == 1 else "") + ")"


def check_shape(
    name: str,
    x: Any,
    letters: Sequence[str],
    sizes: Mapping[str, int] | None = None,
    hint: str = "",
    batch_dims: bool = False,
) -> dict[str, int]:
    """Check that ``x`` has the shape named by ``letters`` and return the sizes it binds.

    Args:
        name: the argument's name as the caller wrote it, e.g. ``"key"``.
        x: a numpy array or torch tensor.
        letters: legend letters for the trailing dims, e.g. ``("S", "d_k")``.
        sizes: sizes already bound by earlier arguments, e.g. ``{"d_k": 8}``; a mismatch is an error.
        hint: what usually causes a mismatch, appended after a colon.
        batch_dims: allow any number of leading batch dims, written ``...``.

    Returns:
        ``sizes`` extended with the letters bound by ``x``.

    Raises:
        AttentionShapeError: naming the argument, the expected shape in legend letters, what was
            given, and the hint.

    Example:
        >>> import numpy as np
        >>> check_shape("query", np.zeros((2, 5, 8)), ("B", "L", "d_k"))
        {'B': 2, 'L': 5, 'd_k': 8}
    """
    if not hasattr(x, "shape") or not hasattr(x, "ndim"):
        raise AttentionShapeError(
            f"{name} must be a numpy array or a torch tensor, but got {type(x).__name__}: "
            f"wrap lists with np.asarray(...) or torch.tensor(...)"
        )
    bound = dict(sizes or {})
    given = shape_of(x)
    want = ("...",) * batch_dims + tuple(letters)
    legend = "(" + ", ".join(want) + ")"
    if x.ndim < len(letters) or (not batch_dims and x.ndim != len(letters)):
        rank = f"at least {len(letters)}" if batch_dims else str(len(letters))
        raise AttentionShapeError(
            f"{name} has shape {_fmt(given)} but expected {legend}: it needs {rank} dims, "
            f"got {x.ndim}" + (f"; {hint}" if hint else "")
        )
    trailing = given[-len(letters):] if letters else ()
    mismatched = []
    for letter, n in zip(letters, trailing):
        if letter in bound and bound[letter] != n:
            mismatched.append(letter)
        bound.setdefault(letter, n)
    if mismatched:
        expected = tuple(bound[k] for k in letters)
        full = ("...",) * batch_dims + tuple(str(n) for n in expected)
        raise AttentionShapeError(
            f"{name} has shape {_fmt(given)} but expected {legend} = ({', '.join(full)})"
            + (f": {hint}" if hint else f": {', '.join(mismatched)} does not match")
        )
    return bound


def check_mask(mask: Any, target: Sequence[int], name: str = "mask") -> None:
    """Check that ``mask`` is boolean and broadcastable to ``target`` = (..., L, S).

    Raises:
        AttentionShapeError: for a non-boolean mask (a 0/1 float mask is a classic slip) or one
            that does not broadcast.
    """
    dtype = str(mask.dtype)
    if dtype not in ("bool", "torch.bool"):
        raise AttentionShapeError(
            f"{name} has dtype {dtype} but expected a boolean mask (True = may attend): "
            f"convert with mask.astype(bool) (numpy) or mask.bool() (torch); float masks of 0/-inf "
            f"are added to scores instead, which attnkit does not do"
        )
    given = shape_of(mask)
    ok = len(given) <= len(target) and all(
        g in (1, t) for g, t in zip(reversed(given), reversed(tuple(target)))
    )
    if not ok:
        raise AttentionShapeError(
            f"{name} has shape {_fmt(given)} but expected one broadcastable to (..., L, S) = "
            f"{_fmt(tuple(target))}: rows are queries (L), columns are keys (S); "
            f"use mask[:, None] to add a head dim"
        )


def check_same_kind(**arrays: Any) -> None:
    """Check that the named arguments are all numpy arrays or all torch tensors.

    This is attnkit's one rule for mixing numpy and torch: the data arguments of one call
    (queries, keys, values, weights, projections, biases) are all numpy or all torch, and the
    result is of that kind. Masks and lengths are the exception: a numpy mask works with torch
    data (``causal_mask`` returns numpy), converted to the data's kind.

    Raises:
        AttentionShapeError: naming each argument's kind, with how to convert.
    """
    import torch

    kinds = {name: "torch" if isinstance(a, torch.Tensor) else "numpy" for name, a in arrays.items()}
    if len(set(kinds.values())) > 1:
        names = list(kinds)
        together = ", ".join(names[:-1]) + " and " + names[-1]
        listed = ", ".join(f"{n} is {k}" for n, k in kinds.items())
        raise AttentionShapeError(
            f"{together} must all be numpy arrays or all torch tensors, but {listed}: "
            f"convert with torch.from_numpy(x) or t.detach().numpy()"
        )
