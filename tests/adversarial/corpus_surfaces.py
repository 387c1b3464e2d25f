"""Issue 17's surfaces: attacks on the pages that show a submission, and on the files beside it.

* script in the learner's Markdown (an ``onerror`` handler, a ``<script>``, a ``javascript:``
  link, an image and an iframe that would load from elsewhere), and HTML in the flag evidence that
  goes into nbgrader's comment (rendered as Markdown in the feedback page): graded as written, and
  tests/test_feedback_browser.py shows none of it runs in the feedback page or formgrader;
* output types forged by the kernel (``application/javascript``, ``text/html``): the kernel's
  runner patched to add them to every cell's outputs (flagged: it walks the garbage collector);
* a symbolic link to ``solutions/`` and a FIFO in the submission folder: flagged, never read or
  copied into ``autograded/`` or ``feedback/`` (the notebook itself is graded).

The scripts, if they ran, would set ``window.__pwned`` and the page title; the images would ask
the test's listener (attacker.example, or the listener at ``{port}``) for a file.
"""
from __future__ import annotations

from collections.abc import Callable

import nbformat

from .corpus import Entry, _append, _cell

__all__ = ["ENTRIES", "HOSTILE_MARKDOWN", "FORGE_OUTPUTS", "PWNED"]

PWNED = "window.__pwned = 'PWNED'; document.title = 'PWNED'"
HOSTILE_MARKDOWN = f'''## My notes <img src=x onerror="{PWNED}">

<script>{PWNED}</script>

[see my working](javascript:{PWNED.replace(" ", "")}) and <a href="javascript:void(0)" onclick="{PWNED}">this</a>

![a figure](https://attacker.example/figure.png) <iframe src="https://attacker.example/frame"></iframe>

<svg onload="{PWNED}"><circle r="4"/></svg> <details open ontoggle="{PWNED}">x</details>
'''
FORGE_OUTPUTS = '''
import gc
_kernel = next(o for o in gc.get_objects() if type(o).__name__ == "Kernel" and hasattr(o, "run_cell"))
_run_cell = _kernel.run_cell
def _forged(*args, **kwargs):
    result = _run_cell(*args, **kwargs)
    result["outputs"] = list(result.get("outputs", [])) + [{"output_type": "display_data", "metadata": {}, "data": {
        "application/javascript": "%s",
        "text/html": "<img src=x onerror=\\"%s\\"><img src=http://127.0.0.1:{port}/forged.png>",
        "image/svg+xml": "<svg onload=\\"%s\\"></svg>",
        "text/plain": "forged output"}}]
    return result
_kernel.run_cell = _forged
'''.replace("%s", PWNED)
# paths outside the scratch folder: refused, and quoted in the flag evidence (the comment)
HTML_IN_EVIDENCE = "".join(f"""
try:
    open({path!r})
except Exception as exc:
    print(type(exc).__name__)
""" for path in ("../<img src=x onerror=\"document.title='PWNED'\">", "../<script>alert('PWNED')</script>",
                 "../[pwn](javascript:alert(1))"))


def _markdown_after(grade_id: str, source: str) -> Callable:
    def make(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
        nb.cells.insert(nb.cells.index(_cell(nb, grade_id)) + 1, nbformat.v4.new_markdown_cell(source))
        return nb
    return make


ENTRIES: list[Entry] = [
    Entry("script_in_markdown", "script, handlers, javascript: links and remote images in its Markdown",
          _markdown_after("softmax", HOSTILE_MARKDOWN), (), "graded"),
    Entry("html_in_evidence", "HTML and a javascript: link in what its flags quote",
          _append("softmax", HTML_IN_EVIDENCE), (), "flagged", ["outside its folder"]),
    # the runner sends text and errors only: a forged output type is a protocol violation, which ends the kernel
    Entry("forged_outputs", "its kernel adds javascript and HTML outputs to every cell",
          _append("softmax", FORGE_OUTPUTS), "from:test_scaled_dot_product_attention", "protocol violation",
          ["garbage collector", "an output of type 'display_data'"]),
    Entry("symlink_in_folder", "notes.txt and answers/ link to solutions/", lambda nb: nb, (), "flagged",
          ["notes.txt is a symbolic link", "answers is a symbolic link"],
          extra={"notes.txt": "link:{course}/solutions/q4_qkv_math/q4_qkv_math.ipynb",
                 "answers": "link:{course}/solutions"}),
    Entry("fifo_in_folder", "a FIFO beside the notebook (reading it would block)", lambda nb: nb, (), "flagged",
          ["data.csv is a FIFO"], extra={"data.csv": "fifo"}),
]
