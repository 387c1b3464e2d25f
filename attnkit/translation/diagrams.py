"""Schematics of the two translators of lessons 1-2, drawn with matplotlib patches and arrows.

The fixed-vector encoder-decoder squeezes the S encoder states into one summary of D numbers that
every decoder step reads; the attention decoder reads, at each step t, a weighted mix c_t of all S
states. The letters follow the course's legend (S source words, D numbers per state, L output
words). Lesson 2 draws the attention panel again with the weights the trained model measured.

>>> fig = encoder_decoder_diagram()
>>> [ax.get_title()[:12] for ax in fig.axes]
['fixed vector', 'attention: s']
"""
from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

from attnkit.accessible.alt import percent, set_alt

__all__ = ["encoder_decoder_diagram", "attention_step_diagram", "draw_fixed_vector", "draw_attention"]

SOURCE = ("the", "black", "cat", "sat")
TARGET = ("le", "chat", "noir", "assis")
_ENCODER, _DECODER, _CONTEXT = "#cfe3f7", "#fde2c4", "#d6f0d0"
_Y_WORD, _Y_ENC, _Y_MID, _Y_DEC, _Y_OUT = 0.3, 1.3, 3.1, 4.7, 5.8


def _box(ax: Axes, x: float, y: float, label: str, color: str, width: float = 0.9, height: float = 0.6) -> None:
    ax.add_patch(FancyBboxPatch((x - width / 2, y - height / 2), width, height, boxstyle="round,pad=0.05",
                                facecolor=color, edgecolor="black", linewidth=1))
    ax.text(x, y, label, ha="center", va="center", fontsize=10)


def _arrow(ax: Axes, start: tuple[float, float], end: tuple[float, float], width: float = 1.0,
           color: str = "black", both: bool = False) -> None:
    ax.add_patch(FancyArrowPatch(start, end, arrowstyle="<|-|>" if both else "-|>", mutation_scale=10,
                                 linewidth=width, color=color, shrinkA=2, shrinkB=2))


def _encoder(ax: Axes, source: Sequence[str]) -> list[float]:
    """Source words and the bidirectional encoder's states h_1..h_S; returns their x positions."""
    xs = list(np.linspace(1.0, 1.0 + 1.5 * (len(source) - 1), len(source)))
    for s, (x, word) in enumerate(zip(xs, source, strict=True), start=1):
        ax.text(x, _Y_WORD, word, ha="center", va="center", fontsize=10, style="italic")
        _arrow(ax, (x, _Y_WORD + 0.2), (x, _Y_ENC - 0.35))
        _box(ax, x, _Y_ENC, f"$h_{{{s}}}$", _ENCODER)
    for left, right in zip(xs, xs[1:], strict=False):
        _arrow(ax, (left + 0.47, _Y_ENC), (right - 0.47, _Y_ENC), both=True)  # both directions: a BiGRU
    ax.text(xs[-1] + 0.65, _Y_ENC, "encoder\n(BiGRU)", ha="left", va="center", fontsize=9, color="0.3")
    return xs


def _decoder(ax: Axes, target: Sequence[str], x0: float) -> list[float]:
    """Decoder states s_1..s_L and the words they write; returns their x positions."""
    xs = list(np.linspace(x0, x0 + 1.5 * (len(target) - 1), len(target)))
    for t, (x, word) in enumerate(zip(xs, target, strict=True), start=1):
        _box(ax, x, _Y_DEC, f"$s_{{{t}}}$", _DECODER)
        _arrow(ax, (x, _Y_DEC + 0.35), (x, _Y_OUT - 0.2))
        ax.text(x, _Y_OUT, word, ha="center", va="center", fontsize=10, style="italic")
    for left, right in zip(xs, xs[1:], strict=False):
        _arrow(ax, (left + 0.47, _Y_DEC), (right - 0.47, _Y_DEC))
    return xs


def _finish(ax: Axes, width: float) -> None:
    ax.set_xlim(0, width)
    ax.set_ylim(-0.1, 6.3)
    ax.set_aspect("equal")
    ax.axis("off")


def draw_fixed_vector(ax: Axes, source: Sequence[str] = SOURCE, target: Sequence[str] = TARGET) -> Axes:
    """The fixed-vector encoder-decoder (Cho et al. 2014): every step reads the same summary."""
    enc = _encoder(ax, source)
    summary_x = (enc[0] + enc[-1]) / 2
    _box(ax, summary_x, _Y_MID, "summary: D numbers", _CONTEXT, width=3.2)
    _arrow(ax, (enc[-1], _Y_ENC + 0.35), (summary_x + 0.6, _Y_MID - 0.35), width=2)
    _arrow(ax, (enc[0], _Y_ENC + 0.35), (summary_x - 0.6, _Y_MID - 0.35), width=2)
    dec = _decoder(ax, target, enc[0])
    for x in dec:
        _arrow(ax, (summary_x, _Y_MID + 0.35), (x, _Y_DEC - 0.35), color="tab:green")
    ax.set_title("fixed vector: every step reads the same D numbers", fontsize=11)
    _finish(ax, max(enc[-1], dec[-1]) + 2.0)
    S, L = len(source), len(target)
    return set_alt(ax, f"Diagram of the fixed-vector encoder-decoder: the {S} source words {' '.join(source)} feed "
                   f"a bidirectional GRU encoder with states h_1 to h_{S}; the first and last states are squeezed "
                   f"into one summary of D numbers; every one of the {L} decoder steps s_1 to s_{L}, which write "
                   f"{' '.join(target)}, reads that same summary.")


def draw_attention(ax: Axes, source: Sequence[str] = SOURCE, target: Sequence[str] = TARGET,
                   weights: Sequence[float] | None = None, step: int = 2) -> Axes:
    """The attention decoder (Luong et al. 2015) at output step ``step`` (0-based).

    Args:
        weights: (S,) the step's attention weights; default an illustrative spotlight. Each
            arrow from h_s to the context c_t is as thick as its weight and labelled in percent.
    """
    if weights is None:
        weights = np.full(len(source), 0.1 / max(len(source) - 1, 1))
        weights[min(1, len(source) - 1)] = 0.9 if len(source) > 1 else 1.0
    weights = np.asarray(weights, dtype=float)
    if weights.shape != (len(source),):
        raise ValueError(f"weights has shape {weights.shape} but expected (S,) = ({len(source)},): "
                         f"one weight per source word")
    if not 0 <= step < len(target):
        raise ValueError(f"step is {step} but expected 0 <= step < L = {len(target)}")
    enc = _encoder(ax, source)
    dec = _decoder(ax, target, enc[0])
    context_x = dec[step] - 0.9
    ax.add_patch(plt.Circle((context_x, _Y_MID), 0.42, facecolor=_CONTEXT, edgecolor="black"))
    ax.text(context_x, _Y_MID, f"$c_{{{step + 1}}}$", ha="center", va="center", fontsize=11)
    for x, w in zip(enc, weights, strict=True):
        _arrow(ax, (x, _Y_ENC + 0.35), (context_x, _Y_MID - 0.42), width=0.4 + 6 * w, color="tab:green")
        ax.text(x - 0.2, _Y_ENC + 0.55, f"{100 * w:.0f}%", fontsize=9, color="tab:green", ha="right",
                bbox={"facecolor": "white", "edgecolor": "none", "pad": 0.5})
    _arrow(ax, (context_x + 0.3, _Y_MID + 0.3), (dec[step] - 0.2, _Y_DEC - 0.35), width=2, color="tab:green")
    _arrow(ax, (dec[step] + 0.2, _Y_DEC - 0.35), (context_x + 0.55, _Y_MID + 0.1), color="tab:purple")
    ax.text(dec[step] + 0.35, (_Y_MID + _Y_DEC) / 2 - 0.1, "query\n$s_t W_a$", fontsize=9, color="tab:purple",
            ha="left", va="center")
    ax.set_title(f"attention: step t = {step + 1} reads a weighted mix of all S states",
                 fontsize=11)
    _finish(ax, max(enc[-1], dec[-1]) + 2.0)
    mix = ", ".join(f"h_{s} ({word!r}) {percent(w)}" for s, (word, w) in enumerate(zip(source, weights), start=1))
    return set_alt(ax, f"Diagram of the attention decoder at output step t = {step + 1}, writing {target[step]!r}: "
                   f"the decoder state s_{step + 1} sends a query to the {len(source)} encoder states of "
                   f"{' '.join(source)}, and the context c_{step + 1} is their weighted mix, each arrow as thick as "
                   f"its weight: {mix}.")


def encoder_decoder_diagram(source: Sequence[str] = SOURCE, target: Sequence[str] = TARGET,
                            weights: Sequence[float] | None = None, step: int = 2) -> Figure:
    """Both translators side by side: the fixed vector (left) and attention at one step (right)."""
    width = 1.5 * (max(len(source), len(target)) - 1) + 3.0  # the panel's data width
    fig, (left, right) = plt.subplots(1, 2, figsize=(2 * 0.8 * width, 0.8 * 6.6))
    draw_fixed_vector(left, source, target)
    draw_attention(right, source, target, weights, step)
    fig.tight_layout()
    from attnkit.accessible.alt import alt_text

    return set_alt(fig, f"Two translators side by side. Left: {alt_text(left)} Right: {alt_text(right)}")


def attention_step_diagram(weights: Sequence[float], source: Sequence[str], target: Sequence[str],
                           step: int) -> Figure:
    """Lesson 2's measured spotlight as the attention panel: arrows as thick as the weights."""
    width = 1.5 * (max(len(source), len(target)) - 1) + 3.0  # the panel's data width
    fig, ax = plt.subplots(figsize=(0.8 * width, 0.8 * 6.6))
    draw_attention(ax, source, target, weights, step)
    fig.tight_layout()
    from attnkit.accessible.alt import alt_text

    return set_alt(fig, alt_text(ax))
