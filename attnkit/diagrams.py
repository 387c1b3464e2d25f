"""Schematics of the mechanism (not of data): boxes, grids and arrows drawn with matplotlib.

Used by lessons 4, 5 and 6. Every picture uses the course's shape legend (B, H, L, S, D, d_k, d_v),
queries on rows and keys on columns like every weight matrix of the course. Each function returns
the ``Figure`` and never calls ``plt.show()``; the labels it writes are plain ``Text`` artists, so a
test can read them back with :func:`diagram_labels`. Each figure carries its text alternative
(``attnkit.accessible.alt_text(fig)``), which says in words what the picture draws, sizes included.

Example:
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> fig = draw_qkv_pipeline()
    >>> [label for label in diagram_labels(fig) if label in ("Q", "K", "V", "output")]
    ['Q', 'K', 'V', 'output']
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from attnkit.accessible.alt import listing, percent, set_alt

__all__ = ["diagram_labels", "draw_qkv_pipeline", "draw_masks", "draw_head_split", "draw_self_attention"]

_COLORS = {"Q": "#4C72B0", "K": "#DD8452", "V": "#55A868", "scores": "#8172B3", "weights": "#8172B3",
           "output": "#C44E52", "X": "#937860"}
_HEAD_COLORS = ["#4C72B0", "#DD8452", "#55A868", "#C44E52", "#8172B3", "#937860", "#DA8BC3", "#8C8C8C"]


def diagram_labels(fig: Any) -> list[str]:
    """Every text written on the figure's axes and titles (to test that a diagram has its parts)."""
    texts = []
    for ax in fig.axes:
        texts += [t.get_text() for t in ax.texts]
        texts.append(ax.get_title())
    return [t for t in texts if t]


def _blank_axes(figsize: tuple[float, float], xlim: tuple[float, float], ylim: tuple[float, float]) -> tuple[Any, Any]:
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=figsize)
    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)
    ax.set_aspect("equal")
    ax.axis("off")
    return fig, ax


def _grid(ax: Any, x: float, y: float, rows: int, cols: int, color: str, cell: float = 0.35,
          fill: np.ndarray | None = None) -> tuple[float, float]:
    """A (rows, cols) matrix of small squares, top-left corner at (x, y); returns (width, height)."""
    from matplotlib.patches import Rectangle

    for i in range(rows):
        for j in range(cols):
            alpha = 0.55 if fill is None else float(fill[i, j])
            ax.add_patch(Rectangle((x + j * cell, y - (i + 1) * cell), cell, cell, facecolor=color,
                                   alpha=alpha, edgecolor="white", lw=1))
    return cols * cell, rows * cell


def _arrow(ax: Any, start: tuple[float, float], end: tuple[float, float], text: str = "",
           offset: float = 0.25, **kwargs: Any) -> None:
    from matplotlib.patches import FancyArrowPatch

    ax.add_patch(FancyArrowPatch(start, end, arrowstyle="-|>", mutation_scale=14, color="#333333", lw=1.3,
                                 shrinkA=2, shrinkB=2, **kwargs))
    if text:
        ax.text((start[0] + end[0]) / 2, (start[1] + end[1]) / 2 + offset, text, ha="center", va="bottom",
                fontsize=9)


def draw_qkv_pipeline(L: int = 4, S: int = 3, d_k: int = 2, d_v: int = 2) -> Any:
    """Scaled dot-product attention as a pipeline of matrices, each drawn at its shape.

    ``Q (L, d_k)`` and ``K (S, d_k)`` give ``scores = Q K^T / sqrt(d_k)`` of shape ``(L, S)``; softmax
    along each row gives ``weights (L, S)``; ``weights @ V`` with ``V (S, d_v)`` gives ``output (L, d_v)``.

    Args:
        L, S, d_k, d_v: the sizes to draw (small numbers keep the picture readable).

    Returns:
        The Figure.
    """
    cell = 0.35
    fig, ax = _blank_axes((12, 3.6), (-0.3, 12.6), (-0.7, 3.1))
    top = 2.4
    rng = np.random.default_rng(0)

    def block(name: str, x: float, rows: int, cols: int, shape: str, fill: np.ndarray | None = None) -> tuple:
        w, h = _grid(ax, x, top, rows, cols, _COLORS.get(name, "#777777"), cell, fill)
        ax.text(x + w / 2, top + 0.15, name, ha="center", va="bottom", fontsize=12, weight="bold")
        ax.text(x + w / 2, top - h - 0.15, shape, ha="center", va="top", fontsize=9)
        return x, x + w, top - h / 2

    block("Q", 0.0, L, d_k, f"(L, d_k) = ({L}, {d_k})")
    k = block("K", 1.4, S, d_k, f"(S, d_k) = ({S}, {d_k})")
    weights = np.exp(rng.normal(size=(L, S)))
    weights /= weights.sum(axis=1, keepdims=True)
    s = block("scores", 4.4, L, S, f"(L, S) = ({L}, {S})", fill=0.25 + 0.5 * rng.uniform(size=(L, S)))
    w = block("weights", 7.0, L, S, "(L, S), rows sum to 1", fill=0.15 + 0.85 * weights)
    v = block("V", 7.0 + S * cell + 0.6, S, d_v, f"(S, d_v) = ({S}, {d_v})")
    out = block("output", 11.2, L, d_v, f"(L, d_v) = ({L}, {d_v})")
    _arrow(ax, (k[1] + 0.1, k[2]), (s[0] - 0.1, s[2]), r"$QK^\top/\sqrt{d_k}$")
    _arrow(ax, (s[1] + 0.1, s[2]), (w[0] - 0.1, s[2]), "softmax over\neach row", offset=0.2)
    _arrow(ax, (v[1] + 0.1, s[2]), (out[0] - 0.1, s[2]), "weights @ V")
    ax.text(6.2, -0.45, r"$\mathrm{Attention}(Q, K, V) = \mathrm{softmax}\left(QK^\top/\sqrt{d_k}\right)V$",
            ha="center", fontsize=13)
    ax.set_title("scaled dot-product attention: queries on rows, keys on columns")
    return set_alt(fig, f"Diagram of scaled dot-product attention as a pipeline of matrices drawn at their shapes: "
                   f"Q ({L}, {d_k}) and K ({S}, {d_k}) give scores = Q K^T / sqrt(d_k) of shape ({L}, {S}); softmax "
                   f"over each row gives weights ({L}, {S}) whose rows sum to 1; weights @ V with V ({S}, {d_v}) "
                   f"gives the output ({L}, {d_v}). Queries are on rows, keys on columns. Formula: "
                   f"Attention(Q, K, V) = softmax(Q K^T / sqrt(d_k)) V.")


def draw_masks(masks: Sequence[tuple[str, Any]] | None = None) -> Any:
    """Boolean masks side by side: a coloured cell is ``True`` (this query may attend to this key),
    a grey cell ``False`` (the key gets weight exactly 0). A row with every key masked is outlined.

    Args:
        masks: ``(title, mask (L, S))`` pairs; by default a causal mask, a padding mask for a
            sequence of 3 real tokens padded to S = 5, and both combined with a fully masked row.

    Returns:
        The Figure.
    """
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle

    if masks is None:
        causal = np.tril(np.ones((5, 5), dtype=bool))
        padding = np.broadcast_to(np.arange(5) < 3, (5, 5))
        combined = causal & padding
        combined[0] = False  # e.g. a query whose only allowed key was removed
        masks = [("causal: key j <= query i", causal), ("padding: 3 real keys, 2 pads", padding),
                 ("causal & padding, row 0 all False", combined)]
    fig, axes = plt.subplots(1, len(masks), figsize=(4.2 * len(masks), 4.4), squeeze=False)
    for ax, (title, mask) in zip(axes[0], masks):
        m = np.asarray(mask, dtype=bool)
        L, S = m.shape
        for i in range(L):
            for j in range(S):
                ax.add_patch(Rectangle((j, L - 1 - i), 1, 1, facecolor="#4C72B0" if m[i, j] else "#D9D9D9",
                                       edgecolor="white", lw=2))
                ax.text(j + 0.5, L - 0.5 - i, "T" if m[i, j] else "F", ha="center", va="center", fontsize=9,
                        color="white" if m[i, j] else "#555555")
            if not m[i].any():
                ax.add_patch(Rectangle((0, L - 1 - i), S, 1, fill=False, edgecolor="#C44E52", lw=2.5))
                ax.text(S + 0.1, L - 0.5 - i, "all masked:\nweights 0,\noutput 0", va="center", fontsize=9,
                        color="#C44E52")
        ax.set_xlim(-0.6, S + 1.9)
        ax.set_ylim(-0.8, L + 0.3)
        ax.set_aspect("equal")
        ax.axis("off")
        ax.text(S / 2, -0.4, "keys j (S) →", ha="center", fontsize=9)
        ax.text(-0.3, L / 2, "queries i (L) →", rotation=-90, va="center", ha="center", fontsize=9)
        ax.set_title(title, fontsize=10)
    fig.suptitle("boolean masks: True (blue, T) = may attend, False (grey, F) = weight 0", fontsize=11)
    fig.tight_layout()
    panels = []
    for title, mask in masks:
        m = np.asarray(mask, dtype=bool)
        rows = [f"row {i}: " + " ".join("T" if x else "F" for x in row) for i, row in enumerate(m)]
        empty = [str(i) for i in range(len(m)) if not m[i].any()]
        panels.append(f"{title!r}, {m.shape[0]} queries by {m.shape[1]} keys, " + ", ".join(rows)
                      + (f"; row {', '.join(empty)} has every key masked: weights 0, output 0" if empty else ""))
    return set_alt(fig, f"{len(panels)} boolean masks, T = may attend, F = the key gets weight 0 (queries on rows, "
                   f"keys on columns). " + " ".join(f"Mask {k + 1}: {p}." for k, p in enumerate(panels)))


def draw_head_split(L: int = 4, D: int = 12, H: int = 3) -> Any:
    """How ``split_heads`` cuts the width: ``(L, D)`` columns in ``H`` colour groups of ``d_k = D / H``
    become ``H`` separate ``(L, d_k)`` matrices, one per head (a batch dimension B is left out).

    Args:
        L, D, H: sizes to draw; D must be a multiple of H.

    Returns:
        The Figure.
    """
    from matplotlib.patches import Rectangle

    if H < 1 or D % H:
        raise ValueError(f"draw_head_split: D = {D} must be a multiple of H = {H} (d_k = D / H)")
    d_k, cell = D // H, 0.35
    width_heads = H * (d_k * cell + 0.4)
    fig, ax = _blank_axes((11, 3.8), (-0.3, D * cell + 2.4 + width_heads), (-1.0, L * cell + 1.4))
    top = L * cell + 0.5
    for h in range(H):
        color = _HEAD_COLORS[h % len(_HEAD_COLORS)]
        for i in range(L):
            for j in range(d_k):
                ax.add_patch(Rectangle(((h * d_k + j) * cell, top - (i + 1) * cell), cell, cell,
                                       facecolor=color, alpha=0.6, edgecolor="white", lw=1))
        ax.text((h * d_k + d_k / 2) * cell, top + 0.12, f"cols {h * d_k}..{(h + 1) * d_k - 1}", ha="center",
                va="bottom", fontsize=8, color=color)
    ax.text(D * cell / 2, top - L * cell - 0.2, f"x: (L, D) = (L, H*d_k) = ({L}, {D})", ha="center", va="top",
            fontsize=9)
    left = D * cell + 1.8
    _arrow(ax, (D * cell + 0.2, top - L * cell / 2), (left - 0.2, top - L * cell / 2), "split_heads")
    for h in range(H):
        color = _HEAD_COLORS[h % len(_HEAD_COLORS)]
        x = left + h * (d_k * cell + 0.4)
        _grid(ax, x, top, L, d_k, color, cell)
        ax.text(x + d_k * cell / 2, top + 0.12, f"head {h}", ha="center", va="bottom", fontsize=9, color=color)
    ax.text(left + width_heads / 2, top - L * cell - 0.2, f"(H, L, d_k) = ({H}, {L}, {d_k})", ha="center",
            va="top", fontsize=9)
    ax.text((left + width_heads) / 2, -0.75, "(B, L, H*d_k) -> reshape (B, L, H, d_k) -> transpose (B, H, L, d_k); "
            "merge_heads undoes both", ha="center", fontsize=9)
    ax.set_title(f"split_heads: head h gets columns h*d_k .. (h+1)*d_k - 1 of every position (d_k = D / H = {d_k})")
    return set_alt(fig, f"Diagram of split_heads: x of shape (L, D) = ({L}, {D}) is cut along its width into H = {H} "
                   f"groups of d_k = D / H = {d_k} columns, each group drawn in its own colour and labelled; "
                   + listing(f"head {h} gets columns {h * d_k} to {(h + 1) * d_k - 1}" for h in range(H))
                   + f". The result has shape (H, L, d_k) = ({H}, {L}, {d_k}): (B, L, H*d_k) is reshaped to "
                   f"(B, L, H, d_k) and transposed to (B, H, L, d_k); merge_heads undoes both.")


def draw_self_attention(words: Sequence[str] = ("the", "cat", "sat"), weights: Any = None) -> Any:
    """Self-attention: the same sentence X gives the queries (top row) and the keys/values (bottom row);
    every query is joined to every key, the line's width showing its weight.

    Args:
        words: the L tokens.
        weights: (L, L) weights to draw as line widths (queries on rows); uniform when None.

    Returns:
        The Figure.
    """
    L = len(words)
    w = np.full((L, L), 1 / L) if weights is None else np.asarray(weights, dtype=float)
    if w.shape != (L, L):
        raise ValueError(f"weights has shape {w.shape} but expected (L, L) = ({L}, {L}), one row per word")
    fig, ax = _blank_axes((max(7.0, 1.6 * L + 3.5), 4.2), (-3.2, 1.6 * L + 0.2), (-0.9, 3.6))
    xs = [1.6 * i + 0.6 for i in range(L)]
    for i in range(L):
        for j in range(L):
            ax.plot([xs[i], xs[j]], [2.6, 0.6], color=_COLORS["Q"], lw=0.5 + 5 * w[i, j],
                    alpha=0.25 + 0.7 * w[i, j] / max(w.max(), 1e-9))
    for x, word in zip(xs, words):
        ax.text(x, 2.75, word, ha="center", va="bottom", fontsize=11,
                bbox=dict(boxstyle="round", facecolor="#DCE6F2", edgecolor=_COLORS["Q"]))
        ax.text(x, 0.45, word, ha="center", va="top", fontsize=11,
                bbox=dict(boxstyle="round", facecolor="#F8E5D6", edgecolor=_COLORS["K"]))
    ax.text(-3.0, 2.85, r"queries $Q = XW_q$" + "\n(L, d_k)", fontsize=10, va="center", color=_COLORS["Q"])
    ax.text(-3.0, 0.3, r"keys $K = XW_k$, values $V = XW_v$" + "\n(L, d_k), (L, d_v)", fontsize=10, va="center",
            color=_COLORS["K"])
    ax.text(-3.0, 1.6, "the same sentence X (L, D)\ngives all three", fontsize=9, va="center", style="italic")
    ax.text((xs[0] + xs[-1]) / 2, -0.75, "every word attends to every word, itself included: weights (L, L)",
            ha="center", fontsize=9)
    ax.set_title("self-attention: one sentence asks and answers")
    rows = [f"{words[i]!r} -> " + ", ".join(f"{words[j]!r} {percent(w[i, j])}" for j in range(L)) for i in range(L)]
    return set_alt(fig, f"Diagram of self-attention over the {L} words {' '.join(words)}: the same sentence X gives "
                   f"the queries (top row, Q = X W_q) and the keys and values (bottom row, K = X W_k, V = X W_v); "
                   f"every query word is joined to every key word, itself included, by a line as thick as its "
                   f"weight. Weights per query: " + listing(rows) + ".")
