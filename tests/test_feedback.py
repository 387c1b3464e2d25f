"""attnkit.grading.course.feedback and .comment: what a page shows of a submission, on small
in-memory notebooks (no kernel, no nbgrader run; tests/test_feedback_browser.py opens the real
pages in Chromium)."""
from __future__ import annotations

import base64
import re

import bleach
import nbformat
from nbformat.notebooknode import NotebookNode

from attnkit.grading.cells import HIDDEN_PLACEHOLDER, nbgrader_metadata
from attnkit.grading.course.comment import escape_markdown, status_text
from attnkit.grading.course.feedback import (
    HideHiddenTests,
    SafeOutputs,
    accessible_feedback_pages,
    feedback_html,
    safe_markdown2html,
    safe_output,
)

PWNED = "window.__pwned = 1"
PNG = base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"\0" * 16).decode()


def _display(data: dict, kind: str = "display_data") -> NotebookNode:
    out = {"output_type": kind, "data": data, "metadata": {"isolated": True}}
    if kind == "execute_result":
        out["execution_count"] = 3
    return nbformat.from_dict(out)


def test_outputs_keep_text_and_checked_images_only() -> None:
    forged = safe_output(_display({"application/javascript": PWNED, "text/html": f"<img onerror='{PWNED}'>",
                                   "image/svg+xml": "<svg onload=x>", "image/png": PNG, "text/plain": "hello"}))
    assert forged.output_type == "display_data" and set(forged.data) == {"image/png", "text/plain"}
    assert forged.data["text/plain"].startswith("hello\n[output of type application/javascript, image/svg+xml")
    assert forged.metadata == {}
    liar = safe_output(_display({"image/png": base64.b64encode(b"<script>").decode()}))  # not a PNG
    assert "image/png" not in liar.data and "image/png" in liar.data["text/plain"]
    result = safe_output(_display({"text/plain": ["a", "b"]}, "execute_result"))
    assert (result.output_type, result.execution_count, result.data["text/plain"]) == ("execute_result", 3, "ab")


def test_streams_errors_and_unknown_outputs_become_plain_data() -> None:
    stream = safe_output({"output_type": "stream", "name": "<script>", "text": ["x", "y"]})
    assert stream == {"output_type": "stream", "name": "stdout", "text": "xy"}
    error = safe_output({"output_type": "error", "ename": {"a": 1}, "evalue": "v", "traceback": ["t", 3]})
    assert error.ename == "(dict)" and error.traceback == ["t", "(int)"]
    unknown = safe_output({"output_type": "widget", "data": {"text/html": "<b>"}})
    assert unknown.output_type == "display_data" and list(unknown.data) == ["text/plain"]
    assert safe_output("not even a dict").data["text/plain"] == "[output of type None not shown]"


def test_safe_outputs_cleans_a_whole_notebook() -> None:
    code = nbformat.v4.new_code_cell("x")
    code.outputs = [_display({"text/html": "<script>x</script>", "text/plain": "ok"})]
    raw = nbformat.v4.new_raw_cell(f"<script>{PWNED}</script>", metadata={"format": "text/html",
                                                                         "raw_mimetype": "text/html"})
    markdown = nbformat.v4.new_markdown_cell("![x](attachment:x.png)")
    markdown["attachments"] = {"x.png": {"image/svg+xml": "<svg onload=x>"}}
    kernelspec = {"name": "python3", "display_name": "Python 3"}
    nb = nbformat.v4.new_notebook(cells=[code, raw, markdown], metadata={
        "kernelspec": kernelspec, "widgets": {"state": PWNED}, "title": "</title><script>"})
    nb, _ = SafeOutputs().preprocess(nb, {})
    assert list(nb.metadata) == ["kernelspec"]
    assert nb.cells[0].outputs[0].data == {"text/plain": "ok\n[output of type text/html not shown]"}
    assert "format" not in nb.cells[1].metadata and "raw_mimetype" not in nb.cells[1].metadata
    assert "attachments" not in nb.cells[2]


def test_markdown_renders_inert() -> None:
    html = safe_markdown2html(f'# Notes <img src=x onerror="{PWNED}">\n\n<script>{PWNED}</script>\n\n'
                              f'[a](javascript:{PWNED}) [b](https://example.org/b) ![c](https://attacker.example/c.png)'
                              f'\n\n<iframe src="https://attacker.example"></iframe> `code <b>` **bold**')
    tags = set(re.findall(r"<([a-z0-9]+)", html))
    assert tags <= {"h1", "p", "a", "code", "strong"}, tags
    assert "javascript:" not in html.split('href="')[1] and 'href="https://example.org/b"' in html
    assert "attacker.example/c.png" not in html  # the image is gone, not loaded
    assert "&lt;script&gt;" in html and "&lt;img" in html  # raw HTML shows as text
    assert bleach.clean(html, tags=list(tags), attributes={"a": ["href", "title"], "*": ["class"]}) == html


def test_hidden_tests_and_tracebacks_never_reach_the_page() -> None:
    test = nbformat.v4.new_code_cell("check(x)\n### BEGIN HIDDEN TESTS\nsecret_check(x, seed=41)\n### END HIDDEN TESTS")
    test.metadata["nbgrader"] = nbgrader_metadata("test_x", grade=True, locked=True, points=1)
    test.outputs = [nbformat.from_dict({"output_type": "error", "ename": "AssertionError", "evalue": "wrong axis",
                                        "traceback": ["in secret_check(x, seed=41)", "AssertionError: wrong axis"]})]
    answer = nbformat.v4.new_code_cell("x = 1")
    answer.metadata["nbgrader"] = nbgrader_metadata("answer_x", solution=True)
    nb = nbformat.v4.new_notebook(cells=[answer, test])
    hidden, _ = HideHiddenTests().preprocess(nbformat.from_dict(nb), {})
    assert hidden.cells[1].source == f"check(x)\n{HIDDEN_PLACEHOLDER}"
    assert hidden.cells[1].outputs[0].traceback == ["AssertionError: wrong axis"]
    page = feedback_html(nb, "q0", scores={"test_x": 0.0})
    assert "secret_check" not in page and "wrong axis" in page and HIDDEN_PLACEHOLDER in page


def test_the_feedback_page_carries_no_script_from_the_notebook_or_elsewhere() -> None:
    markdown = nbformat.v4.new_markdown_cell(f"<img src=x onerror='{PWNED}'><script>{PWNED}</script>")
    code = nbformat.v4.new_code_cell("x")
    code.outputs = [_display({"application/javascript": PWNED, "text/html": f"<b onmouseover='{PWNED}'>"})]
    page = feedback_html(nbformat.v4.new_notebook(cells=[markdown, code]), "q0")
    assert PWNED not in page.replace(f"&lt;script&gt;{PWNED}", "").replace(f"onerror='{PWNED}'&gt;", "")
    assert "<script" not in page.lower()  # nbgrader's feedback template needs none, nbconvert's MathJax is gone
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page), "nothing is loaded from elsewhere"


def test_the_status_comment_quotes_evidence_as_text() -> None:
    """Escaped evidence renders to exactly its text under attnkit's filter and nbconvert's own
    (which passes raw HTML through): no tag but the paragraph."""
    import html as html_module

    from nbconvert.filters.markdown_mistune import markdown2html_mistune

    evidence = "opened '../<img src=x onerror=alert(1)>' then [x](javascript:alert(1)) `c` **b** | t # h \\ &amp;"
    escaped = escape_markdown(evidence + "\nnext line")
    assert "\n" not in escaped
    for render in (safe_markdown2html, markdown2html_mistune):
        rendered = render(escaped).strip()
        assert rendered.startswith("<p>") and rendered.endswith("</p>") and rendered.count("<") == 2, rendered
        assert html_module.unescape(rendered[3:-4]) == evidence + " next line"
    text = status_text("flagged", ["renamed", "a <b>note</b>"], [evidence])
    assert text.startswith("attnkit grading status: flagged\n\nflags (for review; they do not change the grade):\n\n- ")
    assert text.endswith("notes: renamed; a \\<b\\>note\\</b\\>")


def test_the_post_convert_hook_makes_each_new_feedback_page_accessible(tmp_path) -> None:
    notebook = tmp_path / "autograded" / "ada" / "q4_qkv_math" / "q4_qkv_math.ipynb"
    page = tmp_path / "feedback" / "ada" / "q4_qkv_math" / "q4_qkv_math.html"
    for path in (notebook, page):
        path.parent.mkdir(parents=True)
    notebook.write_text("{}")
    page.write_text("<!DOCTYPE html>\n<html>\n<head><title>q4</title></head><body>x</body></html>")
    other = tmp_path / "feedback" / "bob" / "q4_qkv_math" / "q4_qkv_math.html"
    other.parent.mkdir(parents=True)
    other.write_text("<html><head></head></html>")
    accessible_feedback_pages(assignment="q4_qkv_math", student="*", notebooks=[str(notebook)])
    html = page.read_text()
    assert '<html lang="en">' in html and "attnkit-contrast" in html and html.count("attnkit-contrast") == 1
    assert other.read_text() == "<html><head></head></html>", "only the pages of the notebooks converted"

