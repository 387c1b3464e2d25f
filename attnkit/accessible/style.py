"""Colour never alone: a colour-blind-safe palette with line styles and markers that cycle with it."""
from __future__ import annotations

__all__ = ["OKABE_ITO", "LINE_STYLES", "MARKERS", "course_style"]

# colour-blind-safe colours (Okabe & Ito 2008; reddish purple and orange darkened so that every line
# has 3:1 contrast on white, WCAG 1.4.11), and line styles and markers that tell lines apart without
# colour; lines cycle through them together
OKABE_ITO = ("#0072B2", "#D55E00", "#009E73", "#000000", "#A6457F", "#8F6300")
LINE_STYLES = ("-", "--", "-.", ":", (0, (3, 1, 1, 1, 1, 1)), (0, (8, 2)))
MARKERS = ("o", "s", "^", "D", "v", "P")


def course_style() -> None:
    """Every plain ``ax.plot`` of a lesson cycles colours and line styles together (matplotlib's
    default cycle tells lines apart by colour alone)."""
    import matplotlib
    from cycler import cycler

    matplotlib.rcParams["axes.prop_cycle"] = cycler(color=OKABE_ITO) + cycler(linestyle=LINE_STYLES)

