"""The report's plots: matplotlib figures as PNG data URIs, each with alt text carrying its numbers.

Each function returns a :class:`Plot`: ``uri`` (``data:image/png;base64,...``, so the page fetches
nothing) and ``alt``, which says what the plot shows and lists every number on it, so that a
screen reader gets the same information as the picture. Colour never carries meaning alone: the
bars of the items chart differ by hatching too, and every bar has its count written beside it.
Figures are made with ``matplotlib.figure.Figure`` (no pyplot state, no display needed).
"""
from __future__ import annotations

import base64
import io
import math
from dataclasses import dataclass

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from attnkit.grading.content.engine import NOT_ANSWERED
from attnkit.grading.course.misconceptions import UNRECOGNISED
from attnkit.grading.report.collect import NOT_RECORDED, QuizReport, label, percent

__all__ = ["Plot", "score_histogram", "items_chart", "misconceptions_chart", "score_bins"]

RIGHT, RECOGNISED, BLANK, OTHER = "#1b7837", "#b2182b", "#2c5d8f", "#595959"  # 4.5:1 with white text


@dataclass(frozen=True)
class Plot:
    """An embedded picture and its text alternative."""

    uri: str
    alt: str


def _png(fig: Figure) -> str:
    buffer = io.BytesIO()
    FigureCanvasAgg(fig).print_png(buffer)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def score_bins(report: QuizReport) -> list[tuple[float, float, int]]:
    """``(low, high, students)`` per one-point bin of the total score (the last bin holds full marks)."""
    top = max(1, math.ceil(report.max_score))
    counts = [0] * top
    for score in report.scores:
        counts[min(top - 1, max(0, int(math.floor(score))))] += 1
    return [(float(i), float(i + 1), n) for i, n in enumerate(counts)]


def score_histogram(report: QuizReport) -> Plot:
    """How many students reached each total score."""
    bins = score_bins(report)
    fig = Figure(figsize=(7, 3.2), dpi=100)
    ax = fig.add_subplot()
    bars = ax.bar([low + 0.5 for low, _, _ in bins], [n for *_, n in bins], width=0.9, color=RIGHT,
                  edgecolor="black")
    ax.bar_label(bars, padding=2)
    ax.set_xticks([low + 0.5 for low, _, _ in bins], [f"{low:g}-{high:g}" for low, high, _ in bins])
    ax.set_xlabel(f"total score (out of {report.max_score:g})")
    ax.set_ylabel("students")
    ax.set_title(f"{report.quiz}: scores of {len(report.submissions)} submissions")
    ax.margins(y=0.15)
    fig.tight_layout()
    parts = [f"{low:g} to {'' if high < report.max_score else 'at most '}{high:g} points: {n}"
             for low, high, n in bins]
    alt = (f"Bar chart of the total scores of {len(report.submissions)} submissions of {report.quiz}, "
           f"out of {report.max_score:g} points, in one-point bins. Students per bin: " + "; ".join(parts) + ".")
    return Plot(_png(fig), alt)


def items_chart(report: QuizReport) -> Plot:
    """Per quiz item: right, a recognised misconception, not answered, or wrong in another way
    (stacked bars, each kind with its own colour *and* hatching, counts written on the bars)."""
    names = [item.item for item in report.items]
    other = (UNRECOGNISED, NOT_RECORDED)
    kinds = [("right", RIGHT, "", [item.right for item in report.items]),
             ("a recognised misconception", RECOGNISED, "//",
              [sum(n for m, n in item.wrong.items() if m not in (*other, NOT_ANSWERED)) for item in report.items]),
             ("not answered", BLANK, "..", [item.wrong[NOT_ANSWERED] for item in report.items]),
             ("wrong otherwise (unrecognised, no record)", OTHER, "xx",
              [sum(item.wrong[m] for m in other) for item in report.items])]
    fig = Figure(figsize=(8, 0.5 * len(names) + 1.8), dpi=100)
    ax = fig.add_subplot()
    ys = list(range(len(names)))[::-1]
    left = [0] * len(names)
    for kind, colour, hatch, values in kinds:
        bars = ax.barh(ys, values, left=left, color=colour, hatch=hatch, edgecolor="white", label=kind)
        ax.bar_label(bars, labels=[str(v) if v else "" for v in values], label_type="center", color="white",
                     fontweight="bold", bbox={"boxstyle": "round,pad=0.15", "facecolor": colour, "edgecolor": "none"})
        left = [a + b for a, b in zip(left, values)]
    ax.set_yticks(ys, names)
    ax.set_xlabel("students")
    ax.set_title(f"{report.quiz}: each item across the class")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2 - 0.6 / max(1, len(names))), ncol=2, fontsize=8,
              frameon=False)
    fig.tight_layout()
    parts = [f"{name}: " + ", ".join(f"{values[i]} {kind}" for kind, _, _, values in kinds)
             for i, name in enumerate(names)]
    alt = (f"Stacked bar chart of the {len(names)} items of {report.quiz} across {len(report.submissions)} "
           "students. " + "; ".join(parts) + ".")
    return Plot(_png(fig), alt)


def misconceptions_chart(report: QuizReport, top: int = 12) -> Plot | None:
    """The most common misconceptions of the quiz, by students (``None`` when there is none)."""
    counts = sorted(((n, label(item.item, m)) for item in report.items for m, n in item.wrong.items()
                     if m != NOT_RECORDED), key=lambda x: (-x[0], x[1]))[:top]
    if not counts:
        return None
    fig = Figure(figsize=(8, 0.42 * len(counts) + 1.2), dpi=100)
    ax = fig.add_subplot()
    ys = list(range(len(counts)))[::-1]
    bars = ax.barh(ys, [n for n, _ in counts], color=RECOGNISED, edgecolor="black")
    ax.bar_label(bars, labels=[f"{n} ({percent(report.share(n))})" for n, _ in counts], padding=3)
    ax.set_yticks(ys, [name for _, name in counts], fontsize=8)
    ax.set_xlabel("students")
    ax.set_title(f"{report.quiz}: the most common mistakes")
    ax.margins(x=0.2)
    fig.tight_layout()
    alt = (f"Bar chart of the {len(counts)} most common mistakes in {report.quiz}, as item: misconception, "
           f"students and share of the {len(report.submissions)} submissions: "
           + "; ".join(f"{name}: {n} ({percent(report.share(n))})" for n, name in counts) + ".")
    return Plot(_png(fig), alt)
