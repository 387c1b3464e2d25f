"""How big a figure's text is on screen: every drawn text's size in pixels at the figure's display size.

JupyterLab shows a figure's PNG at its own pixel size (``figsize`` x ``dpi``, cropped to what is drawn)
unless it is wider than the output area, where it is scaled down to fit (``max-width: 100%``). A text of
``s`` points is ``s * dpi / 72`` PNG pixels, times that scale on screen.

The floor, :data:`MIN_TEXT_PX` = 9 px on screen: two thirds of JupyterLab's 14 px body text and under
its smallest own text (0.833 x 13 px = 10.8 px); below it digits blur at 1x. The display width
assumed, :data:`DISPLAY_WIDTH_PX` = 940 px: a lesson's output area in JupyterLab 4.6 in a 1400 px wide
window with the file browser open, measured in Chromium (944-948 px) by tests/test_browser_a11y.py,
which checks every lesson figure at the width it is really shown.
"""
from __future__ import annotations

from typing import Any

__all__ = ["MIN_TEXT_PX", "DISPLAY_WIDTH_PX", "text_sizes", "png_width", "smallest_text"]

MIN_TEXT_PX = 9.0
DISPLAY_WIDTH_PX = 940


def text_sizes(fig: Any) -> list[tuple[str, float]]:
    """(text, size in PNG pixels) of every non-empty text ``fig`` draws: titles, labels, drawn tick
    labels, legends, annotations, colour bars. Draws the figure (without rendering) to place ticks."""
    from matplotlib.text import Text

    fig.draw_without_rendering()
    drawn: list[Text] = list(fig.texts)
    if getattr(fig, "_suptitle", None) is not None:
        drawn.append(fig._suptitle)
    for ax in fig.axes:
        if not ax.get_visible():
            continue
        drawn += [*ax.texts, ax.title, ax._left_title, ax._right_title]
        if ax.axison:
            for axis in (ax.xaxis, ax.yaxis):
                drawn += [axis.label, axis.get_offset_text()]
                for tick in axis._update_ticks():  # the ticks inside the view limits: those drawn
                    drawn += [tick.label1, tick.label2]
        legend = ax.get_legend()
        if legend is not None and legend.get_visible():
            drawn += [*legend.get_texts(), legend.get_title()]
    for legend in fig.legends:
        drawn += [*legend.get_texts(), legend.get_title()]
    scale = fig.dpi / 72
    return [(t.get_text(), t.get_fontsize() * scale) for t in drawn if t.get_visible() and t.get_text().strip()]


def png_width(png: bytes) -> int:
    """The width in pixels of a PNG (from its IHDR header)."""
    return int.from_bytes(png[16:20], "big")


def smallest_text(fig: Any, png: bytes, display_width: int = DISPLAY_WIDTH_PX) -> tuple[str, float]:
    """The smallest text of ``fig`` and its size in pixels on screen when its PNG ``png`` is shown in an
    output area ``display_width`` pixels wide (scaled down only if the PNG is wider)."""
    sizes = text_sizes(fig)
    if not sizes:
        return "", float("inf")
    scale = min(1.0, display_width / png_width(png))
    text, px = min(sizes, key=lambda s: s[1])
    return text, px * scale
