"""Positional encoding: how a Transformer knows word order (lesson 7).

Attention is blind to order: permute the keys and values together and every output stays the same.
"Attention Is All You Need" (section 3.5) adds a vector that depends only on the position to every
word's embedding, before the first layer::

    PE[pos, 2i]     = sin(pos / 10000^(2i / D))
    PE[pos, 2i + 1] = cos(pos / 10000^(2i / D))          # D = d_model, i = 0 .. D/2 - 1

Each pair of columns is a clock hand turning at its own speed, from one turn every 2*pi positions
(i = 0) to one turn every 10000 * 2*pi positions. The dot product of two rows depends only on the
distance between the positions, not on where they are. BERT and MiniLM *learn* their positions
instead: ``nn.Embedding(max_positions, D)``, one trained vector per position, none beyond the last.
"""
from __future__ import annotations

from typing import Any

import torch
from torch import nn

__all__ = ["sinusoidal_encoding", "plot_positional_encoding", "SinusoidalPositions", "LearnedPositions",
           "POSITIONAL_KINDS"]


def sinusoidal_encoding(L: int, d_model: int, base: float = 10000.0) -> torch.Tensor:
    """The paper's fixed encoding: row ``pos`` is the vector added to the word at position ``pos``.

    PE[pos, 2i] = sin(pos / base^(2i/D)),  PE[pos, 2i+1] = cos(pos / base^(2i/D))

    Args:
        L: number of positions (0 .. L-1).
        d_model: D, the model width; must be even (sin and cos come in pairs).
        base: 10000 in the paper; sets the slowest wavelength, ``2*pi*base``.

    Returns:
        (L, D) float32 tensor; even columns are sines, odd columns cosines.

    Example:
        >>> sinusoidal_encoding(3, 4)
        tensor([[ 0.0000,  1.0000,  0.0000,  1.0000],
                [ 0.8415,  0.5403,  0.0100,  0.9999],
                [ 0.9093, -0.4161,  0.0200,  0.9998]])
    """
    if not isinstance(d_model, int) or d_model < 2 or d_model % 2:
        raise ValueError(f"d_model is {d_model!r} but expected an even int >= 2: columns 2i and 2i+1 "
                         f"hold the sine and the cosine of the same frequency")
    if not isinstance(L, int) or L < 1:
        raise ValueError(f"L is {L!r} but expected a positive int (the number of positions): pass x.shape[1]")
    position = torch.arange(L, dtype=torch.float32)[:, None]  # (L, 1)
    frequency = base ** (-torch.arange(0, d_model, 2, dtype=torch.float32) / d_model)  # (D/2,) = 1 / base^(2i/D)
    angle = position * frequency  # (L, 1) * (D/2,) -> (L, D/2)
    encoding = torch.empty(L, d_model)
    encoding[:, 0::2] = torch.sin(angle)  # even columns
    encoding[:, 1::2] = torch.cos(angle)  # odd columns
    return encoding


class SinusoidalPositions(nn.Module):
    """Adds :func:`sinusoidal_encoding` to a batch of embeddings; nothing is learned, any length works.

    ``forward(x)``: x (B, L, D) -> x + PE[:L] (B, L, D).
    """

    def __init__(self, d_model: int, base: float = 10000.0) -> None:
        super().__init__()
        sinusoidal_encoding(1, d_model)  # checks d_model
        self.d_model, self.base = d_model, base

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + sinusoidal_encoding(x.shape[1], self.d_model, self.base).to(x)  # (B, L, D) + (L, D)


class LearnedPositions(nn.Module):
    """Adds a trained vector per position, as BERT and MiniLM do: ``nn.Embedding(max_positions, D)``.

    ``forward(x)``: x (B, L, D) -> x + E[0 .. L-1] (B, L, D). Positions past ``max_positions``
    have no vector: a longer input raises.
    """

    def __init__(self, d_model: int, max_positions: int = 512) -> None:
        super().__init__()
        self.embedding = nn.Embedding(max_positions, d_model)
        nn.init.normal_(self.embedding.weight, std=0.02)  # BERT's initialisation

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        L, max_positions = x.shape[1], self.embedding.num_embeddings
        if L > max_positions:
            raise ValueError(f"x has L = {L} positions but this model learned only {max_positions}: "
                             f"learned positions cannot extrapolate; use sinusoidal ones or a shorter input")
        return x + self.embedding(torch.arange(L, device=x.device))  # (B, L, D) + (L, D)


POSITIONAL_KINDS = {"sinusoidal": SinusoidalPositions, "learned": LearnedPositions}



def plot_positional_encoding(pe: torch.Tensor, pairs: tuple[int, ...] = (0, 2, 8, 20)) -> Any:
    """A few sine columns of a positional encoding (left) and the dot product of every two positions (right).

    Args:
        pe: (L, D) from :func:`sinusoidal_encoding`.
        pairs: which pairs i to draw (column 2i, the sine of pair i).

    Returns:
        The Figure, with its alt text (each wave's period, the dot products at distances 0, 1, 5, 20).
    """
    import matplotlib.pyplot as plt
    import numpy as np

    from attnkit.accessible.alt import num, set_alt
    from attnkit.accessible.style import LINE_STYLES, OKABE_ITO

    p = pe.detach().cpu().numpy()
    L, D = p.shape
    dots = p @ p.T  # (L, L)
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4))
    for k, i in enumerate(pairs):
        left.plot(p[:, 2 * i], color=OKABE_ITO[k], ls=LINE_STYLES[k], label=f"column {2 * i} (sin, pair i = {i})")
    left.set(xlabel="position", title="a few columns of PE: waves of falling frequency")
    left.legend(fontsize=9)
    image = right.imshow(dots, cmap="viridis")
    right.set(xlabel="position", ylabel="position", title="PE[p] . PE[q]: largest on the diagonal")
    fig.colorbar(image, ax=right)
    fig.tight_layout()
    periods = [f"column {2 * i} repeats every {num(2 * np.pi * 10000 ** (2 * i / D))} positions" for i in pairs]
    distances = [f"{num(np.mean(np.diagonal(dots, d)))} at distance {d}" for d in (0, 1, 5, 20) if d < L]
    return set_alt(fig, f"2 panels of the sinusoidal positional encoding of {L} positions, D = {D}. Left: {len(pairs)} "
                   f"sine columns against the position, waves of falling frequency: {'; '.join(periods)}. Right: a "
                   f"{L} by {L} heatmap of the dot product of every two positions, largest on the diagonal "
                   f"({num(dots.max())}), the same along each diagonal: mean {', '.join(distances)}.")
