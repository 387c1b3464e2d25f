"""Text alternatives for the course's figures: written by the function that draws, shown with the picture.

Every drawing function of attnkit attaches to the ``Axes`` or ``Figure`` it returns a text that carries
the figure's point with the numbers it shows (:func:`set_alt`); :func:`alt_text` reads it back, and for
a figure drawn with plain matplotlib it describes the artists instead (titles, axes, each line's
range, bars, images, labels), so no figure a lesson shows goes without one.

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
import re
import sys
import weakref
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

__all__ = ["set_alt", "alt_text", "describe_axes", "figure_html", "enable", "num", "percent", "listing",
           "live_status", "set_status", "show_figure", "accessible_page", "PAGE_CSS", "LINE_STYLES", "MARKERS",
           "OKABE_ITO", "course_style"]

# colour-blind-safe colours (Okabe & Ito 2008; reddish purple and orange darkened so that every line
# has 3:1 contrast on white, WCAG 1.4.11), and line styles and markers that tell lines apart without
# colour; lines cycle through them together
OKABE_ITO = ("#0072B2", "#D55E00", "#009E73", "#000000", "#A6457F", "#8F6300")
LINE_STYLES = ("-", "--", "-.", ":", (0, (3, 1, 1, 1, 1, 1)), (0, (8, 2)))
MARKERS = ("o", "s", "^", "D", "v", "P")
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


def _png(fig: Any) -> bytes:
    buffer = io.BytesIO()
    fig.canvas.print_figure(buffer, format="png", bbox_inches="tight")
    return buffer.getvalue()


def figure_html(fig: Any, png: bytes | None = None) -> str:
    """The PNG with its alt text, and the same words under it in a folded ``<details>`` (visible text)."""
    alt = html.escape(alt_text(fig), quote=True)
    data = base64.b64encode(png if png is not None else _png(fig)).decode("ascii")
    return (f'<div class="attnkit-figure">'
            f'<img src="data:image/png;base64,{data}" alt="{alt}" style="max-width: 100%">'
            f'<details><summary>The figure in words</summary><p>{alt}</p></details></div>{_A11Y_SCRIPT}')


def _as_html(fig: Any) -> str | None:
    return figure_html(fig) if fig.axes else None


def _as_png(fig: Any) -> tuple[bytes, dict] | None:
    return (_png(fig), {"alt": alt_text(fig)}) if fig.axes else None


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


def course_style() -> None:
    """Every plain ``ax.plot`` of a lesson cycles colours and line styles together (matplotlib's
    default cycle tells lines apart by colour alone)."""
    import matplotlib
    from cycler import cycler

    matplotlib.rcParams["axes.prop_cycle"] = cycler(color=OKABE_ITO) + cycler(linestyle=LINE_STYLES)


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


# nbconvert's lab template writes prompts (#b0b0b0 on white: 2.2:1) and code comments (#408080 on
# #f5f5f5: 4.2:1) below WCAG's 4.5:1 for text: darker, same hues (7:1 and 5.8:1)
PAGE_CSS = """<style id="attnkit-contrast">
.jp-InputPrompt, .jp-OutputPrompt, .prompt { color: #595959 !important; opacity: 1 !important; }
.highlight .c, .highlight .c1, .highlight .ch, .highlight .cm, .highlight .cp, .highlight .cpf,
.highlight .cs { color: #306868 !important; }
a { color: #23527c !important; text-decoration: underline !important; }
.panel-primary > .panel-heading a { color: #ffffff !important; }
.highlight .ne { color: #a8322c !important; }
.output_subarea pre { white-space: pre-wrap !important; overflow-wrap: anywhere; }
</style>"""


def accessible_page(page: str, lang: str = "en") -> str:
    """An HTML page the course writes (a feedback page, a report), made to pass WCAG 2.1 AA where
    nbconvert's templates do not: text contrast (:data:`PAGE_CSS`) and the page's language."""
    if "attnkit-contrast" not in page:
        page = page.replace("</head>", PAGE_CSS + "\n</head>", 1)
    if re.search(r"<html(?![^>]*\blang=)", page):
        page = re.sub(r"<html(?=[\s>])", f'<html lang="{lang}"', page, count=1)
    return page


# What the browser needs besides the outputs, run once per page by the first figure or status line
# shown (JupyterLab runs the scripts of trusted outputs: a cell's own outputs are):
# * ipywidgets' HTML view replaces its content on every change, and screen readers announce changes
#   only inside a live region that already exists: the status widget's own element, which stays, is
#   made the live region (role=status);
# * an Output widget that shows attnkit figures (interact, interactive_output) is made a polite live
#   region, so a redraw is announced with the new figure's alt text (not where a status line of its
#   box says it already: once is enough);
# * ipywidgets' slider handle (noUiSlider, role=slider) has no accessible name: it gets its
#   widget's label. Arrow keys already move it.
_A11Y_SCRIPT = """<script>(function () {
  if (window.attnkitA11y) return;
  window.attnkitA11y = true;
  const live = (el, role) => { if (role) el.setAttribute('role', role); el.setAttribute('aria-live', 'polite'); };
  const mark = () => {
    document.querySelectorAll('.attnkit-live:not([aria-live])').forEach(el => live(el, 'status'));
    document.querySelectorAll('.widget-output:not([aria-live])').forEach(el => {
      const box = el.closest('.widget-box');  // a box with its own status line is announced by it
      if (el.querySelector('.attnkit-figure') && !(box && box.querySelector('.attnkit-live'))) live(el, null); });
    document.querySelectorAll('.widget-slider .noUi-handle:not([aria-label])').forEach(el => {
      const label = el.closest('.widget-slider').querySelector('.widget-label');
      if (label && label.textContent.trim()) el.setAttribute('aria-label', label.textContent.trim()); });
  };
  let queued = false;
  mark();
  new MutationObserver(() => { if (!queued) { queued = true;
    requestAnimationFrame(() => { queued = false; mark(); }); } })
    .observe(document.body, {childList: true, subtree: true});
})();</script>"""


def live_status(text: str = "") -> Any:
    """An ``ipywidgets.HTML`` line that screen readers announce whenever its text changes.

    Its element gets ``role="status"`` and ``aria-live="polite"`` from the page script displayed with
    it (see ``_A11Y_SCRIPT``). Change the text with :func:`show_figure` or :func:`set_status`.
    """
    import ipywidgets as widgets
    from IPython.display import HTML, display

    display(HTML(_A11Y_SCRIPT))
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

    text, png = alt_text(fig), _png(fig)
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
