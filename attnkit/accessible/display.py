"""Figures shown with their text alternative in Jupyter: IPython formatters for matplotlib figures.

What JupyterLab 4.6 and nbconvert 7.17 hand to assistive technology (read in their sources and in
Chromium's accessibility tree):

* ``image/png`` output: JupyterLab draws an ``<img>`` without ``alt`` (its renderer reads only width,
  height, ``unconfined`` and ``needs_background`` from the metadata); nbconvert's classic template
  reads an ``alt`` metadata key, its lab template (the default) does not.
* ``image/svg+xml``: JupyterLab draws it as ``<img src="data:image/svg+xml,...">``, again without
  ``alt``; an ``<img>``'s accessible name comes from its own attributes, never from the SVG's
  ``<title>``/``<desc>``.
* ``text/html``: both render it as HTML (JupyterLab sanitizes it when untrusted): ``<img alt>`` is
  the image's accessible name.

So :func:`enable` (called by ``import attnkit`` inside IPython) makes every matplotlib figure display
as ``text/html``: an ``<img>`` with the alt text followed by the same words as visible text (in a
folded ``<details>``, so a screen reader does not hear them twice), plus ``image/png`` with
an ``alt`` metadata key (nbconvert's classic template, nbsphinx, the Jupyter pre-proposal JEP 120)
and ``text/plain`` = the alt text; and lines of a plain ``ax.plot`` differ by line style as well as
colour (:func:`course_style`). Widgets announce what they redraw with :func:`live_status`.
"""
from __future__ import annotations

import base64
import html
import io
import sys
from typing import Any

from attnkit.accessible.alt import alt_source, alt_text
from attnkit.accessible.script import A11Y_SCRIPT
from attnkit.accessible.style import course_style
from attnkit.accessible.textsize import png_width, smallest_text

__all__ = ["png_bytes", "figure_html", "enable"]


def png_bytes(fig: Any) -> bytes:
    """The figure as PNG bytes, cropped to what is drawn (as the inline backend shows it)."""
    buffer = io.BytesIO()
    fig.canvas.print_figure(buffer, format="png", bbox_inches="tight")
    return buffer.getvalue()


def figure_html(fig: Any, png: bytes | None = None) -> str:
    """The PNG with its alt text, and the same words under it in a folded ``<details>`` (visible text).

    The wrapper's ``data-smallest-text-px`` is the smallest text's size in PNG pixels; its class says
    where the alt text came from (``attnkit-alt-own``: the drawing function's; ``attnkit-alt-described``:
    the automatic description). The browser test reads both.
    """
    alt = html.escape(alt_text(fig), quote=True)
    png = png if png is not None else png_bytes(fig)
    data = base64.b64encode(png).decode("ascii")
    # the smallest text's size in PNG pixels: the browser test scales it to the size shown
    _, px = smallest_text(fig, png, display_width=png_width(png))
    return (f'<div class="attnkit-figure attnkit-alt-{alt_source(fig)}" data-smallest-text-px="{px:.1f}">'
            f'<img src="data:image/png;base64,{data}" alt="{alt}" style="max-width: 100%">'
            f'<details><summary>The figure in words</summary><p>{alt}</p></details></div>{A11Y_SCRIPT}')


def _as_html(fig: Any) -> str | None:
    return figure_html(fig) if fig.axes else None


def _as_png(fig: Any) -> tuple[bytes, dict] | None:
    return (png_bytes(fig), {"alt": alt_text(fig)}) if fig.axes else None


def _as_text(fig: Any, printer: Any, cycle: bool) -> None:
    printer.text(alt_text(fig) if fig.axes else repr(fig))


def _inline_backend_set_up() -> None:
    """Let matplotlib-inline set itself up now (it does so once, when its module is first imported, and
    then replaces every Figure formatter) rather than in the middle of a cell's first figure."""
    mpl = sys.modules.get("matplotlib")
    if mpl is None or "matplotlib.pyplot" not in sys.modules:
        return
    backend = mpl.get_backend(auto_select=False) if mpl.__version_info__ >= (3, 10) else mpl.rcParams._get("backend")
    if backend in ("inline", "module://matplotlib_inline.backend_inline"):
        import matplotlib_inline.backend_inline  # noqa: F401



def _formatters(shell: Any) -> None:
    """(Re-)register the Figure formatters: matplotlib-inline's set-up removes every Figure formatter.

    Registered by name while matplotlib is not imported (importing it is not this module's to do: a
    grading kernel never draws), by type once it is (a type printer wins over a by-name one).
    """
    _inline_backend_set_up()
    formatters = shell.display_formatter.formatters
    figure = sys.modules.get("matplotlib.figure")
    if figure is not None and not getattr(shell, "_attnkit_style", False):
        course_style()
        shell._attnkit_style = True
    for mime, function in (("text/html", _as_html), ("image/png", _as_png), ("text/plain", _as_text)):
        if figure is not None:
            formatters[mime].for_type(figure.Figure, function)
        else:
            formatters[mime].for_type_by_name("matplotlib.figure", "Figure", function)


def enable(shell: Any = None) -> bool:
    """Show every matplotlib figure with its text alternative in this IPython kernel (idempotent).

    The formatters are registered now and again before every cell (``%matplotlib inline`` and the
    inline backend's first set-up remove them). Returns False outside IPython.
    """
    if shell is None:
        ipython = sys.modules.get("IPython")
        shell = ipython.get_ipython() if ipython is not None else None
    if shell is None or not hasattr(shell, "display_formatter"):
        return False
    _formatters(shell)
    if not getattr(shell, "_attnkit_alt_hook", False):
        shell.events.register("pre_run_cell", lambda *_: _formatters(shell))
        shell._attnkit_alt_hook = True
    return True

