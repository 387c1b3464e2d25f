"""Widgets that announce what they redraw: a live status line, and figures shown in an Output widget."""
from __future__ import annotations

import base64
import html
from collections.abc import Sequence
from typing import Any

from attnkit.accessible.alt import alt_text
from attnkit.accessible.display import figure_html, png_bytes
from attnkit.accessible.script import A11Y_SCRIPT

__all__ = ["live_status", "set_status", "show_figure"]


def live_status(text: str = "") -> Any:
    """An ``ipywidgets.HTML`` line that screen readers announce whenever its text changes.

    Its element gets ``role="status"`` and ``aria-live="polite"`` from the page script displayed with
    it (see ``A11Y_SCRIPT``). Change the text with :func:`show_figure` or :func:`set_status`.
    """
    import ipywidgets as widgets
    from IPython.display import HTML, display

    display(HTML(A11Y_SCRIPT))
    status = widgets.HTML(value="", layout=widgets.Layout(width="100%"))
    status.add_class("attnkit-live")
    set_status(status, text)
    return status


def set_status(status: Any, text: str) -> None:
    """Write ``text`` into a :func:`live_status` widget (escaped: it is shown as text)."""
    status.value = f'<span style="font-size: 0.9em">{html.escape(text)}</span>'


def show_figure(fig: Any, out: Any, status: Any = None, lead: Sequence[str] = ()) -> str:
    """Show ``fig`` in the Output widget ``out`` (with its alt text) and announce the new picture.

    Args:
        fig: the Figure (closed here, so pyplot does not draw it a second time).
        out: an ``ipywidgets.Output``; it is cleared first.
        status: a :func:`live_status` widget whose text becomes ``lead`` + the alt text.
        lead: lines printed above the figure and said before the description (e.g. the translation).

    Returns:
        The alt text.
    """
    import matplotlib.pyplot as plt
    from IPython.display import display

    text, png = alt_text(fig), png_bytes(fig)
    bundle = {"text/html": figure_html(fig, png), "image/png": base64.b64encode(png).decode("ascii"),
              "text/plain": text}
    plt.close(fig)  # a figure still registered with pyplot can be drawn twice while a widget message runs
    # drawn before the output is cleared: the old picture stays until the new one replaces it
    out.clear_output(wait=True)
    with out:
        for line in lead:
            print(line)
        display(bundle, raw=True, metadata={"image/png": {"alt": text}})
    if status is not None:
        set_status(status, " ".join([*lead, "Redrawn:", text]))
    return text
