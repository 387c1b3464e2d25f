"""Pictures of attention: a heatmap of weights and a spotlight of one query's weights.

Heatmaps put queries on rows and keys on columns, as in every weight matrix of the course.
Functions draw on an ``Axes`` and return it; they never call ``plt.show()``. Each attaches its text
alternative (what is drawn and the numbers it shows) to that Axes: read it with
``attnkit.accessible.alt_text(ax)``; in Jupyter it is shown with the figure.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from attnkit import _backend as bk
from attnkit.accessible.alt import listing, percent, set_alt
from attnkit.errors import check_shape

__all__ = ["plot_attention", "plot_spotlight", "attention_alt"]


def _numpy(x: Any) -> np.ndarray:
    return bk.like(x, np.zeros(0)) if bk.is_torch(x) else np.asarray(x, dtype=float)


def _label(labels: Sequence[str] | None, i: int) -> str:
    return repr(str(labels[i])) if labels is not None else str(i)


def attention_alt(w: np.ndarray, query_labels: Sequence[str] | None, key_labels: Sequence[str] | None,
                  title: str | None = None, top: int = 2) -> str:
    """The text alternative of a weight heatmap: its size and, per query row, its largest weights.

    Args:
        w: (L, S) weights.
        top: how many of each row's largest weights to name.
    """
    L, S = w.shape
    rows = []
    for i in range(L):
        order = np.argsort(-w[i], kind="stable")[:min(top, S)]
        rows.append(f"{_label(query_labels, i)}: " + ", ".join(f"{_label(key_labels, j)} {percent(w[i, j])}"
                                                              for j in order))
    head = f"Heatmap {title!r}: " if title else "Heatmap: "
    return (head + f"attention weights of {L} queries (rows) over {S} keys (columns), from {percent(w.min())} "
            f"to {percent(w.max())}. Each query's largest weights: " + listing(rows, limit=30) + ".")


def plot_attention(
    weights: Any, query_labels: Sequence[str] | None = None, key_labels: Sequence[str] | None = None,
    ax: Any = None, title: str | None = None, annotate: bool | None = None, cmap: str = "viridis",
    marked: Sequence[int] | None = None, marked_label: str = "the true alignment",
) -> Any:
    """Heatmap of an attention weight matrix: queries on rows, keys on columns.

    Args:
        weights: (L, S).
        query_labels: L labels for the rows (the words that ask); key_labels: S labels for the columns.
        ax: a matplotlib Axes to draw on; a new figure if None.
        annotate: write each weight in its cell; default when the matrix is at most 12 x 12.
        marked: one key index per query row, outlined with a red square (e.g. the true alignment), named
            ``marked_label``; the alt text names each marked cell and how many rows peak there.

    Returns:
        The Axes.
    """
    import matplotlib.pyplot as plt

    w = _numpy(weights)
    L, S = check_shape("weights", w, ("L", "S"), hint="pick one matrix, e.g. weights[0, head]").values()
    for name, labels, n in (("query_labels", query_labels, L), ("key_labels", key_labels, S)):
        if labels is not None and len(labels) != n:
            raise ValueError(f"{name} has {len(labels)} labels but weights has {n} "
                             f"{'rows (queries, L)' if name == 'query_labels' else 'columns (keys, S)'}")
    if ax is None:
        _, ax = plt.subplots(figsize=(0.6 * S + 2, 0.5 * L + 1.5))
    image = ax.imshow(w, cmap=cmap, vmin=0.0, vmax=max(1e-9, float(w.max())), aspect="auto")
    ax.figure.colorbar(image, ax=ax, fraction=0.046, pad=0.04)
    ax.set_xticks(range(S), key_labels if key_labels is not None else range(S), rotation=45, ha="right")
    ax.set_yticks(range(L), query_labels if query_labels is not None else range(L))
    ax.set_xlabel("keys (attended to)")
    ax.set_ylabel("queries (attending)")
    if annotate if annotate is not None else max(L, S) <= 12:
        for i in range(L):
            for j in range(S):
                ax.text(j, i, f"{w[i, j]:.2f}", ha="center", va="center", fontsize=9,
                        color="black" if w[i, j] > 0.6 * w.max() else "white")
    if title:
        ax.set_title(title)
    text = attention_alt(w, query_labels, key_labels, title)
    if marked is not None:
        marked = [int(j) for j in marked]
        if len(marked) != L:
            raise ValueError(f"marked has {len(marked)} entries but weights has {L} rows (one key per query)")
        ax.scatter(marked, range(L), s=900, marker="s", facecolors="none", edgecolors="red", linewidths=2)
        peaks = sum(int(np.argmax(w[i]) == j) for i, j in enumerate(marked))
        text += (f" Red squares mark {marked_label}: " + listing(
            f"{_label(query_labels, i)}: {_label(key_labels, j)} {percent(w[i, j])}" for i, j in enumerate(marked))
            + f"; {peaks} of {L} rows have their largest weight on the marked key.")
    return set_alt(ax, text)


def plot_spotlight(
    weights_row: Any, key_labels: Sequence[str], ax: Any = None, title: str | None = None
) -> Any:
    """One query's weights as bars with percentages: where its spotlight falls.

    Args:
        weights_row: (S,) weights of one query over the keys.
        key_labels: S labels.

    Returns:
        The Axes.
    """
    import matplotlib.pyplot as plt

    w = _numpy(weights_row)
    (S,) = check_shape("weights_row", w, ("S",), hint="pass one row, e.g. weights[i]").values()
    if len(key_labels) != S:
        raise ValueError(f"key_labels has {len(key_labels)} labels but weights_row has {S} weights (keys, S)")
    if ax is None:  # at most 12 inches: wider, a lesson shows it scaled down and its text under 9 px
        _, ax = plt.subplots(figsize=(min(0.8 * S + 2, 12), 2.5))
    # the largest weight is orange and hatched, its label bold: not told by colour alone
    peak = w == w.max()
    bars = ax.bar(range(S), w, color=["#D55E00" if p else "#8C8C8C" for p in peak],
                  hatch=["//" if p else "" for p in peak], edgecolor="black", linewidth=0.5)
    for text, p in zip(ax.bar_label(bars, labels=[percent(x) for x in w]), peak):
        text.set_fontweight("bold" if p else "normal")
    ax.set_xticks(range(S), key_labels, rotation=45 if S > 8 else 0, ha="right" if S > 8 else "center")
    # headroom above the tallest bar for its percentage (a 100% label must not run into the title);
    # ticks stop at 1, the largest weight there is
    ax.set_ylim(0, float(w.max()) * 1.2 + 0.06)
    ax.set_yticks([t for t in ax.get_yticks() if 0 <= t <= 1.0 + 1e-9])
    ax.set_ylabel("attention weight")
    if title:
        ax.set_title(title)
    order = np.argsort(-w, kind="stable")
    head = f"Bar chart {title!r}: " if title else "Bar chart: "
    return set_alt(ax, head + f"one query's attention weights over {S} keys; the largest is "
                   f"{key_labels[order[0]]!r} with {percent(w[order[0]])}. All weights: "
                   + listing(f"{key_labels[j]!r} {percent(w[j])}" for j in range(S)) + ".")
