"""The library lookup of lesson 3 as a schematic: query, keys (spines), values (contents), weights.

One question (the query q, D numbers) is compared with every book's spine label (its key k_s); a
softmax of the scores divided by a temperature T gives the weights w_s, which sum to 1; the output
is the weighted sum of the contents (the values v_s). Arrows into the output are as thick as the
weights. The letters follow the course's legend: S books, D numbers per embedding, d_v per value.

>>> fig = library_lookup_diagram()
>>> fig.axes[0].get_title()
'soft lookup: read every book, weighted by how well its spine matches'
"""
from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch, Rectangle

from attnkit.accessible.alt import listing, percent, set_alt

__all__ = ["library_lookup_diagram", "plot_temperature_sweep"]

BOOKS = ("Neural networks", "Deep learning", "Bird songs", "Pasta at home")
_QUERY, _KEY, _VALUE, _OUT = "#e7d4f5", "#cfe3f7", "#fde2c4", "#d6f0d0"


def _box(ax, x: float, y: float, label: str, color: str, width: float, height: float = 0.7,
         fontsize: int = 9) -> None:
    ax.add_patch(FancyBboxPatch((x - width / 2, y - height / 2), width, height, boxstyle="round,pad=0.05",
                                facecolor=color, edgecolor="black", linewidth=1))
    ax.text(x, y, label, ha="center", va="center", fontsize=fontsize)


def _arrow(ax, start: tuple[float, float], end: tuple[float, float], width: float = 1.0,
           color: str = "black") -> None:
    ax.add_patch(FancyArrowPatch(start, end, arrowstyle="-|>", mutation_scale=10, linewidth=width,
                                 color=color, shrinkA=2, shrinkB=2))


def library_lookup_diagram(books: Sequence[str] = BOOKS, weights: Sequence[float] | None = None,
                           question: str = "How do computers learn?") -> Figure:
    """Draw the soft lookup ``softmax(q . k_s / T) @ V`` over a few books.

    Args:
        books: the titles of the S books drawn, one row each.
        weights: (S,) the weights to draw (bars and arrow widths); default an illustrative
            spotlight on the first book.
        question: the text of the query.

    Returns:
        The figure: query on the left, one row per book (spine = key, contents = value), the
        weight bars, and the output on the right.
    """
    S = len(books)
    if weights is None:
        weights = np.array([0.6, 0.3] + [0.1 / max(S - 2, 1)] * (S - 2))[:S]
        weights = weights / weights.sum()
    weights = np.asarray(weights, dtype=float)
    if weights.shape != (S,):
        raise ValueError(f"weights has shape {weights.shape} but expected (S,) = ({S},): one weight per book")
    ys = np.linspace(1.2 * (S - 1), 0, S)  # one row per book, top to bottom
    fig, ax = plt.subplots(figsize=(11, 1.2 + 0.95 * S))
    mid = ys.mean()
    _box(ax, 0.9, mid, f"query q\n{question!r}\n(D numbers)", _QUERY, width=2.2, height=1.3, fontsize=8)
    for s, (y, title, w) in enumerate(zip(ys, books, weights, strict=True), start=1):
        _arrow(ax, (2.0, mid), (3.3, y), color="tab:purple")
        _box(ax, 4.1, y, f"key $k_{{{s}}}$: spine of\n{title!r}", _KEY, width=1.7, fontsize=8)
        ax.text(5.35, y + 0.12, f"$q \\cdot k_{{{s}}} / T$", fontsize=8, ha="center", color="0.3")
        _arrow(ax, (4.95, y), (5.8, y))
        ax.add_patch(Rectangle((5.9, y - 0.25), 1.2 * w, 0.5, facecolor="tab:green"))
        ax.add_patch(Rectangle((5.9, y - 0.25), 1.2, 0.5, facecolor="none", edgecolor="0.6"))
        ax.text(7.2, y, f"$w_{{{s}}}$ = {100 * w:.0f}%", fontsize=8, va="center")
        _box(ax, 9.0, y, f"value $v_{{{s}}}$: contents", _VALUE, width=1.7, fontsize=8)
        _arrow(ax, (9.85, y), (11.0, mid), width=0.5 + 6 * w, color="tab:green")
    _box(ax, 12.2, mid, "output\n$\\sum_s w_s v_s$\n($d_v$ numbers)", _OUT, width=2.0, height=1.3, fontsize=9)
    top = ys[0] + 0.75
    for x, label in ((4.1, "keys K (S, D)"), (6.5, "weights = softmax(scores / T)\nsum to 1"),
                     (9.0, "values V (S, $d_v$)")):
        ax.text(x, top, label, ha="center", va="bottom", fontsize=9, weight="bold")
    ax.set_xlim(-0.4, 13.4)
    ax.set_ylim(ys[-1] - 0.7, top + 0.8)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.set_title("soft lookup: read every book, weighted by how well its spine matches")
    fig.tight_layout()
    return set_alt(fig, f"Diagram of the soft library lookup softmax(q . k_s / T) @ V for the question {question!r}: "
                   f"the query q (D numbers) is compared with the spine label (key k_s) of each of {S} books; a "
                   f"softmax of the scores divided by the temperature T gives weights that sum to 1, drawn as bars "
                   f"and as arrow widths: " + listing(f"{title!r} {percent(w)}" for title, w in zip(books, weights))
                   + "; the output is the weighted sum of the books' contents (the values v_s, d_v numbers).")


def plot_temperature_sweep(temperatures: Sequence[float], weights: np.ndarray, titles: Sequence[str],
                           entropies: Sequence[float], chosen: float) -> Figure:
    """Where the weight goes as T grows (stacked over books) and the entropy of the weights, side by side.

    Args:
        temperatures: (T,) increasing temperatures (log axis).
        weights: (T, S) soft-lookup weights for each temperature; titles: the S books.
        entropies: (T,) entropy of each row, in nats (0 = one book, log S = uniform).
        chosen: the lesson's temperature, marked in the right panel.

    Returns:
        The Figure, with its alt text (the three heaviest books at the lowest, chosen and highest T).
    """
    t, w, h = np.asarray(temperatures, float), np.asarray(weights, float), np.asarray(entropies, float)
    S = len(titles)
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.5))
    colors = [plt.cm.tab20(k % 20) for k in range(S)]
    layers = left.stackplot(t, w.T, labels=titles, colors=colors)
    for k, layer in enumerate(layers):  # colour never alone: every other layer hatched
        layer.set_hatch(("", "//", "..", "xx")[k % 4])
    left.set(xscale="log", xlabel="temperature T", ylabel="weight (stacked over books)",
             title="where the weight goes", ylim=(0, 1))
    left.legend(fontsize=9, ncol=2, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    right.plot(t, h, color="#0072B2", label="entropy")
    right.axhline(0, color="gray", ls="--", label="argmax (one book)")
    right.axhline(np.log(S), color="gray", ls=":", label=f"uniform (log S = {np.log(S):.2f})")
    right.axvline(chosen, color="#D55E00", ls="-.", label=f"T = {chosen:g}")
    right.set(xscale="log", xlabel="temperature T", ylabel="entropy of the weights (nats)",
              title="from argmax to uniform")
    right.legend(fontsize=9)
    fig.tight_layout()

    def heaviest(i: int) -> str:
        top = np.argsort(w[i])[::-1][:3]
        return ", ".join(f"{titles[k]!r} {percent(w[i, k])}" for k in top)

    c = int(np.argmin(np.abs(np.log(t) - np.log(chosen))))
    said = [f"at T = {t[i]:.3g} the heaviest books are {heaviest(i)}, entropy {h[i]:.2f} nats"
            for i in (0, c, len(t) - 1)]
    return set_alt(fig, f"2 panels against the temperature T from {t[0]:.3g} to {t[-1]:.3g} (log scale): left, the "
                   f"weights of {S} books stacked (a band per book, summing to 1); right, the entropy of the "
                   f"weights, from 0 (argmax, one book) to log S = {np.log(S):.2f} (uniform), with T = {chosen:g} "
                   "marked. " + listing(said) + ".")
