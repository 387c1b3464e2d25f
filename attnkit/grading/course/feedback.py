"""Feedback pages that teach without giving hidden tests away, and run nothing a submission wrote.

nbgrader 0.9's ``generate_feedback`` renders the autograded notebook as it ran, and formgrader
renders it for the instructor. Two preprocessors (see ``nbgrader_config.py``) make that safe:

* :class:`HideHiddenTests` (in ``generate_feedback``), in every autograder test cell: removes the
  ``### BEGIN HIDDEN TESTS`` ... ``### END HIDDEN TESTS`` region from the source
  (:func:`attnkit.grading.cells.strip_hidden_tests`, leaving a one-line comment) and replaces each
  error output by a short one that keeps only the exception's name and message, never the
  traceback (which would quote the hidden line that failed). Solution cells (the learner's own
  code) keep their tracebacks: those show only the learner's code.
* :class:`SafeOutputs` (in ``autograde``, after the judge, and again in ``generate_feedback``):
  everything that came out of the student's kernel is data from an attacker, so outputs are kept
  as plain text (streams, ``text/plain``, error name, message and traceback lines) and raster
  images (PNG, JPEG, GIF, base64 checked); every other type (``text/html``,
  ``application/javascript``, ``image/svg+xml``, ``text/markdown``, widget views ...) is dropped,
  with a plain-text note saying so. Raw cells lose their format (nbconvert would paste them as
  HTML) and notebook metadata keeps only the kernel and language (no widget state).

The learner's Markdown (and the grader's comment, also Markdown) is rendered by
:func:`safe_markdown2html`, which replaces nbconvert's ``markdown2html`` filter in
``nbgrader_config.py`` and :func:`feedback_exporter`: raw HTML shows as text, no script, event
handler, ``javascript:`` link, or image or frame that would load from elsewhere. nbconvert's
``sanitize_html`` is on too (it covers the lab and classic templates' outputs; nbgrader's own
templates ignore it for Markdown). The pages load no script from elsewhere either:
:data:`TEMPLATES` holds a ``mathjax.html.j2`` that replaces nbconvert's MathJax from a CDN
(formulas show as TeX).
"""
from __future__ import annotations

import base64
import binascii
from pathlib import Path
from typing import Any

from nbformat.notebooknode import NotebookNode
from nbgrader import utils
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Unicode

from attnkit.grading.cells import HIDDEN_PLACEHOLDER, strip_hidden_tests

__all__ = ["HideHiddenTests", "SafeOutputs", "safe_output", "safe_markdown2html", "strip_hidden_region",
           "HIDDEN_PLACEHOLDER", "TEMPLATES", "SAFE_TAGS", "feedback_exporter", "feedback_html",
           "accessible_feedback_pages"]

TEMPLATES = str(Path(__file__).resolve().parent / "templates")  # put first in extra_template_basedirs
TEXT = "text/plain"
IMAGES = {"image/png": b"\x89PNG\r\n\x1a\n", "image/jpeg": b"\xff\xd8\xff", "image/gif": b"GIF8"}
KEPT_METADATA = ("kernelspec", "language_info")


def strip_hidden_region(source: str, placeholder: str = HIDDEN_PLACEHOLDER) -> str:
    """``source`` with every hidden-test region replaced by ``placeholder`` (indentation kept)."""
    return strip_hidden_tests(source, placeholder)


def _short_error(output: NotebookNode) -> NotebookNode:
    """One error output reduced to ``Name: message`` with no traceback frames."""
    ename = str(output.get("ename", "Error"))
    evalue = str(output.get("evalue", ""))
    line = f"{ename}: {evalue}" if evalue else ename
    return NotebookNode(output_type="error", ename=ename, evalue=evalue, traceback=[line])


class HideHiddenTests(NbGraderPreprocessor):
    """Strip hidden tests and traceback frames from autograder test cells before rendering."""

    placeholder = Unicode(HIDDEN_PLACEHOLDER, help="Line left where a hidden region was.").tag(config=True)

    def preprocess_cell(self, cell: NotebookNode, resources: dict[str, Any],
                        cell_index: int) -> tuple[NotebookNode, dict[str, Any]]:
        if cell.cell_type != "code" or not utils.is_grade(cell) or utils.is_solution(cell):
            return cell, resources
        cell.source = strip_hidden_tests(cell.source, self.placeholder)
        cell.outputs = [_short_error(out) if out.get("output_type") == "error" else out for out in cell.outputs]
        return cell, resources


def _text(value: Any) -> str:
    """nbformat's text: a string or a list of strings; anything else becomes its type's name."""
    if isinstance(value, str):
        return value
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return "".join(value)
    return f"({type(value).__name__})"


def _image(mime: str, value: Any) -> str | None:
    """The base64 data of a raster image whose bytes start as its type says, else None."""
    data = _text(value).replace("\n", "")
    try:
        head = base64.b64decode(data[:24] + "=" * (-len(data[:24]) % 4), validate=True)
        base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        return None
    return data if head.startswith(IMAGES[mime]) else None


def safe_output(output: Any) -> NotebookNode:
    """One output of a kernel as plain text or a checked raster image (see the module docstring)."""
    kind = output.get("output_type") if isinstance(output, dict) else None
    if kind == "stream":
        name = output.get("name") if output.get("name") in ("stdout", "stderr") else "stdout"
        return NotebookNode(output_type="stream", name=name, text=_text(output.get("text", "")))
    if kind == "error":
        traceback = output.get("traceback", [])
        return NotebookNode(output_type="error", ename=_text(output.get("ename", "Error")),
                            evalue=_text(output.get("evalue", "")),
                            traceback=[_text(t) for t in traceback] if isinstance(traceback, list) else [])
    data = output.get("data", {}) if kind in ("display_data", "execute_result") else {}
    data = data if isinstance(data, dict) else {}
    kept: dict[str, str] = {}
    for mime in IMAGES:
        if mime in data and (image := _image(mime, data[mime])) is not None:
            kept[mime] = image
    if TEXT in data:
        kept[TEXT] = _text(data[TEXT])
    dropped = sorted(str(m)[:60] for m in data if m not in kept)
    if dropped or kind not in ("display_data", "execute_result"):
        note = f"[output of type {', '.join(dropped) or str(kind)[:60]} not shown]"
        kept[TEXT] = f"{kept[TEXT]}\n{note}" if TEXT in kept else note
    safe = NotebookNode(output_type="display_data", data=NotebookNode(kept), metadata=NotebookNode())
    if kind == "execute_result" and isinstance(output.get("execution_count"), int):
        safe.output_type, safe.execution_count = "execute_result", output["execution_count"]
    return safe


class SafeOutputs(NbGraderPreprocessor):
    """Keep kernel outputs to plain text and raster images; raw cells unrendered; no notebook
    metadata but the kernel's and the language's."""

    def preprocess(self, nb: NotebookNode, resources: dict[str, Any]) -> tuple[NotebookNode, dict[str, Any]]:
        for key in [k for k in nb.metadata if k not in KEPT_METADATA]:
            del nb.metadata[key]
        return super().preprocess(nb, resources)

    def preprocess_cell(self, cell: NotebookNode, resources: dict[str, Any],
                        cell_index: int) -> tuple[NotebookNode, dict[str, Any]]:
        if cell.cell_type == "code":
            cell.outputs = [safe_output(out) for out in cell.get("outputs", [])]
        elif cell.cell_type == "raw":
            cell.metadata.pop("format", None)
            cell.metadata.pop("raw_mimetype", None)
        if "attachments" in cell:
            del cell["attachments"]  # markdown images are not rendered (sanitize_html) anyway
        return cell, resources


# what Markdown may become in a page that shows a submission: text structure and plain links
SAFE_TAGS = ("p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "em", "strong", "del", "sup", "sub", "code", "pre",
             "blockquote", "ul", "ol", "li", "a", "table", "thead", "tbody", "tr", "th", "td", "span", "div")


def safe_markdown2html(source: str) -> str:
    """A learner's Markdown as HTML that runs and loads nothing: raw HTML is shown as text (mistune
    escapes it), ``javascript:`` and other harmful links are dropped, and what is left is cleaned
    by bleach to :data:`SAFE_TAGS` (no image, iframe, SVG, form, style or event handler; links
    keep only ``http``, ``https`` and ``mailto``). Replaces nbconvert's ``markdown2html`` filter
    in the feedback and formgrader templates (which ignore ``sanitize_html`` for Markdown cells and
    comments)."""
    import bleach
    from nbconvert.filters.markdown_mistune import IPythonRenderer, MarkdownWithMath

    rendered = MarkdownWithMath(renderer=IPythonRenderer(escape=True, allow_harmful_protocols=False,
                                                         exclude_anchor_links=True)).render(str(source))
    return bleach.clean(rendered, tags=SAFE_TAGS, attributes={"a": ["href", "title"], "*": ["class"]},
                        protocols=["http", "https", "mailto"], strip=True, strip_comments=True)


def feedback_exporter() -> Any:
    """An HTML exporter as ``generate_feedback``'s: nbgrader's feedback template, sanitized HTML,
    no script from elsewhere."""
    import nbgrader
    from nbconvert import HTMLExporter
    from traitlets.config import Config

    formgrader = Path(nbgrader.__file__).parent / "server_extensions" / "formgrader"
    config = Config()
    config.HTMLExporter.template_name = "feedback"
    config.HTMLExporter.extra_template_basedirs = [TEMPLATES, str(formgrader / "templates")]
    bootstrap = formgrader / "static" / "node_modules" / "bootstrap" / "dist" / "css"  # inlined by the template
    config.HTMLExporter.extra_template_paths = [str(bootstrap)]
    config.HTMLExporter.sanitize_html = True
    config.HTMLExporter.filters = {"markdown2html": f"{__name__}.safe_markdown2html"}
    return HTMLExporter(config=config)


def feedback_html(nb: NotebookNode, title: str = "feedback", scores: dict[str, float] | None = None) -> str:
    """The feedback page of a judged notebook, as ``generate_feedback`` renders it: hidden tests
    removed, errors reduced to their message, the lesson sections to revisit under each miss,
    outputs made safe (for ``attnkit grade``; nbgrader runs the same preprocessors from
    ``nbgrader_config.py``). ``title``: the quiz id. ``scores``: points per grade id."""
    import copy

    nb = copy.deepcopy(nb)
    scores = scores or {}
    total = max_total = 0.0
    for cell in nb.cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if meta.get("grade"):
            meta["score"] = float(scores.get(meta.get("grade_id"), 0.0))
            total, max_total = total + meta["score"], max_total + float(meta.get("points", 0.0))
    resources: dict[str, Any] = {"nbgrader": {"notebook": title, "assignment": title, "score": total,
                                              "max_score": max_total, "late_penalty": 0}}
    from attnkit.grading.course.revisit import RevisitSections

    for step in (HideHiddenTests(), RevisitSections(), SafeOutputs()):
        nb, resources = step.preprocess(nb, resources)
    html, _ = feedback_exporter().from_notebook_node(nb, resources=resources)
    from attnkit.accessible.pages import accessible_page

    return accessible_page(html)  # WCAG 2.1 AA: text contrast and the page's language


def accessible_feedback_pages(assignment: str = "", student: str = "", notebooks: list[str] | None = None,
                              **_: Any) -> None:
    """nbgrader's post-convert hook for ``generate_feedback`` (``nbgrader_config.py``): each page it
    just wrote gets the course's WCAG 2.1 AA fixes (:func:`attnkit.accessible.accessible_page`: text
    contrast, the page's language), as ``attnkit grade``'s page has them. ``notebooks`` are the
    autograded notebooks, ``<course>/autograded/<student>/<quiz>/<name>.ipynb``; each page is
    ``<course>/feedback/<student>/<quiz>/<name>.html``."""
    from attnkit.accessible.pages import accessible_page

    for notebook in notebooks or []:
        source = Path(notebook)
        page = source.parents[3] / "feedback" / source.parents[1].name / source.parent.name / f"{source.stem}.html"
        if page.is_file() and not page.is_symlink():
            page.write_text(accessible_page(page.read_text()))

