"""Accessibility of what the course shows: figures with text alternatives, announcing widgets, pages.

* :mod:`~attnkit.accessible.alt`: the text alternative of a figure (attached by the function that
  draws it, or described from its artists as a fallback) and the number formatters it is written with;
* :mod:`~attnkit.accessible.style`: colour never alone (Okabe-Ito palette, line styles, markers);
* :mod:`~attnkit.accessible.display`: IPython formatters that show every figure as ``<img alt>`` plus
  the same words as text (what JupyterLab and nbconvert pass on to assistive technology);
* :mod:`~attnkit.accessible.textsize`: every text's size on screen at the figure's display size;
* :mod:`~attnkit.accessible.widgets`: a live status line and figures redrawn inside Output widgets;
* :mod:`~attnkit.accessible.script`: the page script that makes those live regions and names sliders;
* :mod:`~attnkit.accessible.pages`: WCAG 2.1 AA fixes for HTML pages the course writes.

Dependencies run one way: alt, style, script, textsize <- display <- widgets; pages stands alone.
"""
from attnkit.accessible.alt import (
    MAX_ITEMS,
    alt_source,
    alt_text,
    describe_axes,
    listing,
    num,
    own_alt,
    percent,
    set_alt,
)
from attnkit.accessible.display import enable, figure_html, png_bytes
from attnkit.accessible.pages import PAGE_CSS, accessible_page
from attnkit.accessible.script import A11Y_SCRIPT
from attnkit.accessible.style import LINE_STYLES, MARKERS, OKABE_ITO, course_style
from attnkit.accessible.textsize import DISPLAY_WIDTH_PX, MIN_TEXT_PX, smallest_text, text_sizes
from attnkit.accessible.widgets import live_status, set_status, show_figure

__all__ = ["A11Y_SCRIPT", "DISPLAY_WIDTH_PX", "LINE_STYLES", "MARKERS", "MAX_ITEMS", "MIN_TEXT_PX", "OKABE_ITO",
           "PAGE_CSS", "accessible_page", "alt_source", "alt_text", "course_style", "describe_axes", "enable",
           "figure_html", "listing", "live_status", "num", "own_alt", "percent", "png_bytes", "set_alt", "set_status",
           "show_figure", "smallest_text", "text_sizes"]
