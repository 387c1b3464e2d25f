"""Text alternatives of figures: attached by the function that draws, read back, or described.

Every drawing function of attnkit attaches to the ``Axes`` or ``Figure`` it returns a text that carries
the figure's point with the numbers it shows (:func:`set_alt`); :func:`alt_text` reads it back. For a
figure drawn with plain matplotlib it falls back to a description of the artists (titles, axes, each
line's range, bars, images, labels); :func:`alt_source` says which of the two a figure gets, so a test
can show that no lesson figure relies on the fallback.
"""
from __future__ import annotations

import weakref
from collections.abc import Iterable
from typing import Any

import numpy as np

__all__ = ["MAX_ITEMS", "num", "percent", "listing", "set_alt", "own_alt", "alt_source", "describe_axes", "alt_text"]

MAX_ITEMS = 24  # the longest list an automatic description spells out

_ALT: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def num(x: float) -> str:
    """A number as the figure shows it: 3 significant digits, no trailing zeros (0.123, 12.3, 1.2e+04)."""
    return f"{float(x):.3g}"


def percent(x: float) -> str:
    """A weight in [0, 1] as a whole percentage: '62%'."""
    return f"{100 * float(x):.0f}%"


def listing(items: Iterable[str], limit: int = MAX_ITEMS) -> str:
    """Items joined with '; ', cut after ``limit`` with how many were left out."""
    items = list(items)
    shown = "; ".join(items[:limit])
    return shown + (f"; and {len(items) - limit} more" if len(items) > limit else "")


def set_alt(target: Any, text: str) -> Any:
    """Attach the text alternative ``text`` to a matplotlib ``Figure`` or ``Axes``; returns ``target``."""
    _ALT[target] = " ".join(str(text).split())
    return target


def own_alt(target: Any) -> str | None:
    """The alt text a drawing function attached to ``target`` (a ``Figure`` or ``Axes``), else None."""
    return _ALT.get(target)


def alt_source(target: Any) -> str:
    """Where the alt text of ``target`` comes from: "own" (attached by the function that drew it, to the
    figure or to every panel) or "described" (the automatic description of a plain-matplotlib panel)."""
    from matplotlib.figure import Figure

    if target in _ALT:
        return "own"
    panels = [ax for ax in target.axes if ax.get_visible() and not _is_colorbar(ax)] \
        if isinstance(target, Figure) else [target]
    return "own" if panels and all(ax in _ALT for ax in panels) else "described"


def _is_colorbar(ax: Any) -> bool:
    return ax.get_label() == "<colorbar>" or hasattr(ax, "_colorbar")


def _axis_words(ax: Any, which: str) -> str:
    label = getattr(ax, f"get_{which}label")()
    scale = getattr(ax, f"get_{which}scale")()
    return (label or "unlabelled") + (f" ({scale} scale)" if scale != "linear" else "")


def _describe_lines(ax: Any) -> list[str]:
    parts = []
    from matplotlib.container import ErrorbarContainer

    # an error bar's data line is unlabelled: its container holds the label
    named = {id(c.lines[0]): c.get_label() for c in ax.containers if isinstance(c, ErrorbarContainer) and c.lines[0]}
    for line in ax.get_lines():
        if not line.get_visible():
            continue
        x, y = (np.asarray(d, dtype=float).ravel() for d in line.get_data())
        label = named.get(id(line), line.get_label())
        if label.startswith("_") and line.get_linestyle() in ("None", "", " "):
            continue  # unlabelled markers only: error-bar caps and the like
        name = label if label and not label.startswith("_") else "a line"
        if len(y) == 0 or not np.isfinite(y).any():
            continue
        if len(y) == 2 and y[0] == y[1] and line.get_transform() is not ax.transData:
            parts.append(f"{name}: horizontal line at y = {num(y[0])}")
        elif len(x) == 2 and x[0] == x[1] and line.get_transform() is not ax.transData:
            parts.append(f"{name}: vertical line at x = {num(x[0])}")
        elif len(y) == 1:
            parts.append(f"{name}: a point at ({num(x[0])}, {num(y[0])})")
        else:
            top = int(np.nanargmax(y))
            parts.append(f"{name}: {len(y)} points, x {num(np.nanmin(x))} to {num(np.nanmax(x))}; "
                         f"y {num(y[0])} at x = {num(x[0])}, {num(y[-1])} at x = {num(x[-1])}, "
                         f"largest {num(y[top])} at x = {num(x[top])}")
    return parts


def _describe_bars(ax: Any) -> list[str]:
    from matplotlib.container import BarContainer

    parts = []
    ticks = [t.get_text() for t in ax.get_xticklabels()]
    for container in ax.containers:
        if not isinstance(container, BarContainer):
            continue
        heights = [p.get_height() for p in container.patches]
        names = []
        for k, patch in enumerate(container.patches):
            centre = patch.get_x() + patch.get_width() / 2
            index = int(round(centre))
            names.append(ticks[index] if 0 <= index < len(ticks) and ticks[index] else f"bar {k}")
        label = container.get_label()
        head = f"bars{'' if not label or label.startswith('_') else ' ' + label}: "
        parts.append(head + listing(f"{n} {num(h)}" for n, h in zip(names, heights)))
    return parts


def _describe_images(ax: Any) -> list[str]:
    parts = []
    for image in ax.get_images():
        a = np.asarray(image.get_array(), dtype=float)
        if a.ndim != 2:
            parts.append(f"a picture of {a.shape[0]} x {a.shape[1]} pixels")
            continue
        r, c = np.unravel_index(int(np.nanargmax(a)), a.shape)
        text = (f"heatmap of {a.shape[0]} rows by {a.shape[1]} columns, values {num(np.nanmin(a))} to "
                f"{num(np.nanmax(a))}, largest at row {r}, column {c}")
        if a.size <= 36:
            text += "; rows: " + listing((" ".join(num(v) for v in row) for row in a), limit=6)
        parts.append(text)
    return parts


def describe_axes(ax: Any) -> str:
    """A description of one ``Axes`` from its artists: what a plain-matplotlib panel shows, with numbers."""
    title = " ".join(t for t in (ax.get_title("left"), ax.get_title(), ax.get_title("right")) if t)
    parts = [f"panel {title!r}" if title else "panel"]
    if ax.axison:
        parts.append(f"x: {_axis_words(ax, 'x')}, y: {_axis_words(ax, 'y')}")
    parts += _describe_lines(ax) + _describe_bars(ax) + _describe_images(ax)
    if ax.collections and not _describe_lines(ax) and not ax.get_images():
        legend = ax.get_legend()
        names = [t.get_text() for t in legend.get_texts()] if legend else []
        parts.append(f"{len(ax.collections)} filled or scattered layers" + (f": {listing(names)}" if names else ""))
    texts = [t.get_text().replace("\n", " ") for t in ax.texts if t.get_text().strip()]
    if texts and not ax.axison:  # a schematic: its labels are its content
        parts.append("labels: " + listing(texts, limit=40))
    return "; ".join(parts)


def alt_text(target: Any) -> str:
    """The text alternative of a ``Figure`` or ``Axes``: the one its drawing function attached, else a
    description of its artists. A figure without its own joins its panels' (colour bars left out)."""
    from matplotlib.figure import Figure

    if target in _ALT:
        return _ALT[target]
    if not isinstance(target, Figure):
        return describe_axes(target)
    panels = [ax for ax in target.axes if ax.get_visible() and not _is_colorbar(ax)]
    texts = [alt_text(ax) for ax in panels]
    head = target._suptitle.get_text() if target._suptitle is not None else ""
    if len(texts) == 1:
        return f"Figure {head!r}: {texts[0]}" if head else texts[0]
    intro = f"Figure {head!r} with {len(texts)} panels" if head else f"Figure with {len(texts)} panels"
    return intro + ". " + " ".join(f"Panel {k + 1}: {t.rstrip('.')}." for k, t in enumerate(texts))

