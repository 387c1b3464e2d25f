"""Build the nbgrader source notebooks ``solutions/<quiz_id>/<quiz_id>.ipynb`` from ``quizzes_src/``.

Each quiz is written as readable Markdown (``quizzes_src/<quiz_id>.md``): prose becomes read-only
Markdown cells and fenced code blocks become code cells. The fence's info string says what nbgrader
makes of the cell::

    ```python setup                    read-only code (imports, data)
    ```python solution rnn_forward     the learner's answer (### BEGIN/END SOLUTION regions)
    ```python tests test_rnn_forward 2 autograder tests worth 2 points (read-only)
    ```python                          an ordinary code cell the learner may edit

Usage (from the repository root)::

    python scripts/build_quiz_sources.py           # write solutions/
    python scripts/build_quiz_sources.py --check   # exit 1 if solutions/ is out of date
    nbgrader generate_assignment <quiz_id> --force # then regenerate the release in quizzes/
"""
from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ROOT / "quizzes_src"
SOLUTIONS = ROOT / "solutions"
FENCE = re.compile(r"^```python(?P<info>[^\n]*)\n(?P<code>.*?)^```[ \t]*$", re.S | re.M)
KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}


def _nbgrader(grade_id: str, *, grade: bool = False, solution: bool = False, locked: bool = False,
              points: float | None = None) -> dict:
    meta = {"grade": grade, "grade_id": grade_id, "locked": locked, "schema_version": 3,
            "solution": solution, "task": False}
    if points is not None:
        meta["points"] = points
    return meta


def _markdown(text: str, n: int) -> nbformat.NotebookNode:
    grade_id = f"md_{n:02d}"
    cell = nbformat.v4.new_markdown_cell(text, id=grade_id.replace("_", "-"))
    cell.metadata["nbgrader"] = _nbgrader(grade_id, locked=True)
    return cell


def _code(info: str, code: str, n: int) -> nbformat.NotebookNode:
    words = info.split()
    kind = words[0] if words else "free"
    if kind == "setup":
        grade_id = words[1] if len(words) > 1 else f"setup_{n:02d}"
        meta = _nbgrader(grade_id, locked=True)
    elif kind == "solution":
        grade_id = words[1]
        meta = _nbgrader(grade_id, solution=True)
    elif kind == "tests":
        grade_id, points = words[1], float(words[2])
        meta = _nbgrader(grade_id, grade=True, locked=True, points=points)
    elif kind == "free":
        grade_id, meta = f"code_{n:02d}", None
    else:
        raise ValueError(f"unknown cell kind {kind!r} in fence 'python {info}'")
    cell = nbformat.v4.new_code_cell(code.rstrip("\n"), id=grade_id.replace("_", "-"))
    if meta is not None:
        cell.metadata["nbgrader"] = meta
    return cell


def build_notebook(text: str) -> nbformat.NotebookNode:
    """Turn one quiz's Markdown source into an nbgrader source notebook (no outputs)."""
    cells, position, n = [], 0, 0
    for match in FENCE.finditer(text):
        prose = text[position : match.start()].strip()
        if prose:
            n += 1
            cells.append(_markdown(prose, n))
        n += 1
        cells.append(_code(match["info"].strip(), match["code"], n))
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
    for source in sorted(SOURCES.glob("q*.md")):
        quiz_id = source.stem
        target = SOLUTIONS / quiz_id / f"{quiz_id}.ipynb"
        text = render(build_notebook(source.read_text()))
        if target.exists() and target.read_text() == text:
            continue
        stale.append(target)
        if not args.check:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text)
    verb = "out of date" if args.check else "written"
    for target in stale:
        print(f"{verb}: {target.relative_to(ROOT)}")
    return 1 if args.check and stale else 0


if __name__ == "__main__":
    sys.exit(main())
