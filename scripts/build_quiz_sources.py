"""Build the nbgrader source notebooks ``solutions/<quiz_id>/<quiz_id>.ipynb`` from ``quizzes_src/``.

Each quiz is written as readable Markdown (``quizzes_src/<quiz_id>.md``): prose becomes read-only
Markdown cells and fenced code blocks become code cells. The fence's info string says what nbgrader
makes of the cell::

    ```python setup                    read-only code (imports, data)
    ```python solution rnn_forward     the learner's answer (### BEGIN/END SOLUTION regions)
    ```python tests test_rnn_forward 2 autograder tests worth 2 points (read-only)
    ```python                          an ordinary code cell the learner may edit

The format, in full (keep it stable: the quiz authors write it by hand):

* a solution cell's id is the function the learner writes, which must be an exercise declared in
  ``attnkit/grading/content/exercises/<quiz_id>.py``, or ``answer_<x>`` for the conceptual question
  ``q<N>_<x>`` declared there; its test cell is ``test_<id>`` (visible checks, then a
  ``### BEGIN HIDDEN TESTS`` ... ``### END HIDDEN TESTS`` region with the other seeds and, for a
  question, the answer key);
* an answer cell gets a first line made here from the question's declaration, which the release
  keeps: ``answer_<x> = ...  # "a", "b" or "c"`` (or ``# a number``); the release still grades 0
  untouched (``...`` is not an answer);
* ids are unique within a quiz; prose between fences may hold any Markdown.

Usage (from the repository root)::

    python scripts/build_quiz_sources.py           # write solutions/ and docs/grading.md's bug table
    python scripts/build_quiz_sources.py --check   # exit 1 if either is out of date
    nbgrader generate_assignment <quiz_id> --force # then regenerate the release in quizzes/
"""
from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import nbformat

from attnkit.grading.cells import nbgrader_metadata
from attnkit.grading.content.bugs import markdown_table
from attnkit.grading.content.catalogue import questions
from attnkit.grading.content.quizzes import QUIZ_IDS

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ROOT / "quizzes_src"
SOLUTIONS = ROOT / "solutions"
GRADING_DOC = ROOT / "docs" / "grading.md"
TABLE = re.compile(r"(<!-- bug table: [^\n]*-->\n).*?(\n<!-- end of bug table -->)", re.S)
FENCE = re.compile(r"^```python(?P<info>[^\n]*)\n(?P<code>.*?)^```[ \t]*$", re.S | re.M)
KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}


def _markdown(text: str, n: int) -> nbformat.NotebookNode:
    grade_id = f"md_{n:02d}"
    cell = nbformat.v4.new_markdown_cell(text, id=grade_id.replace("_", "-"))
    cell.metadata["nbgrader"] = nbgrader_metadata(grade_id, locked=True)
    return cell


def _answer_form(variable: str, quiz: str) -> str:
    """``answer_x = ...  # "a", "b" or "c"``: the variable and the form its question declares."""
    declared = {q.variable: q for q in questions(quiz).values()}
    if variable not in declared:
        raise ValueError(f"{quiz}: the answer cell {variable!r} has no question declared in "
                         f"attnkit/grading/content/exercises/{quiz}.py (declared: {sorted(declared)})")
    return f"{variable} = ...  # {declared[variable].form}\n"


def _code(info: str, code: str, n: int, quiz: str) -> nbformat.NotebookNode:
    words = info.split()
    kind = words[0] if words else "free"
    if kind == "setup":
        grade_id = words[1] if len(words) > 1 else f"setup_{n:02d}"
        meta = nbgrader_metadata(grade_id, locked=True)
    elif kind == "solution":
        grade_id = words[1]
        meta = nbgrader_metadata(grade_id, solution=True)
        if grade_id.startswith("answer_"):
            code = _answer_form(grade_id, quiz) + code
    elif kind == "tests":
        grade_id, points = words[1], float(words[2])
        meta = nbgrader_metadata(grade_id, grade=True, locked=True, points=points)
    elif kind == "free":
        grade_id, meta = f"code_{n:02d}", None
    else:
        raise ValueError(f"unknown cell kind {kind!r} in fence 'python {info}'")
    cell = nbformat.v4.new_code_cell(code.rstrip("\n"), id=grade_id.replace("_", "-"))
    if meta is not None:
        cell.metadata["nbgrader"] = meta
    return cell


def build_notebook(text: str, quiz: str) -> nbformat.NotebookNode:
    """Turn one quiz's Markdown source into an nbgrader source notebook (no outputs)."""
    cells, position, n = [], 0, 0
    for match in FENCE.finditer(text):
        prose = text[position : match.start()].strip()
        if prose:
            n += 1
            cells.append(_markdown(prose, n))
        n += 1
        cells.append(_code(match["info"].strip(), match["code"], n, quiz))
        position = match.end()
    prose = text[position:].strip()
    if prose:
        cells.append(_markdown(prose, n + 1))
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata["kernelspec"] = KERNELSPEC
    nb.metadata["language_info"] = {"name": "python"}
    nbformat.validate(nb)
    return nb


def render(nb: nbformat.NotebookNode) -> str:
    return nbformat.writes(nb) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true", help="only report stale notebooks")
    args = parser.parse_args(argv)
    stale = []
    for quiz_id in QUIZ_IDS:
        source = SOURCES / f"{quiz_id}.md"
        target = SOLUTIONS / quiz_id / f"{quiz_id}.ipynb"
        text = render(build_notebook(source.read_text(), quiz_id))
        if target.exists() and target.read_text() == text:
            continue
        stale.append(target)
        if not args.check:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text)
    doc = GRADING_DOC.read_text()
    if not TABLE.search(doc):
        raise ValueError(f"{GRADING_DOC} lost its bug table markers")
    table = TABLE.sub(lambda m: m[1] + markdown_table() + m[2], doc)
    if table != doc:
        stale.append(GRADING_DOC)
        if not args.check:
            GRADING_DOC.write_text(table)
    verb = "out of date" if args.check else "written"
    for target in stale:
        print(f"{verb}: {target.relative_to(ROOT)}")
    return 1 if args.check and stale else 0


if __name__ == "__main__":
    sys.exit(main())
