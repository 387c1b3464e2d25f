"""Self-grading in one process: ``attnkit grade <notebook>`` in seconds, the same grades as nbgrader.

nbgrader needs a course directory, a gradebook and three start-ups to grade one notebook; a
learner needs the points and the messages. :func:`grade_notebook` does what ``nbgrader autograde``
does with this course's configuration, without the gradebook:

1. the test cells and locked cells are restored from the instructor's source (``solutions/``: the
   hidden tests run in a self-paced clone; in a class bundle, which has no ``solutions/``, only the
   visible tests of the release run and the report says so), deleted ones are put back, invented
   ones lose their grade;
2. :func:`attnkit.grading.grader.judge.judge_notebook` runs it in the sandbox and judges the test cells in
   this process (the same function behind ``nbgrader autograde``);
3. a test cell scores its points unless its output holds an error (nbgrader's rule), and the
   feedback page is written with the hidden tests removed.
"""
from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import nbformat

from attnkit.grading.cells import meta as _meta
from attnkit.grading.course.nbgrader_cli import REPO_ROOT
from attnkit.grading.grader.judge import JudgeResult, _visible, judge_notebook

__all__ = ["restore_cells", "grade_notebook", "source_notebook"]



def source_notebook(quiz: str, root: Path = REPO_ROOT) -> tuple[nbformat.NotebookNode, bool]:
    """The instructor's source if present (hidden tests included), else the release; and which."""
    for folder, hidden in (("solutions", True), ("quizzes", False)):
        path = root / folder / quiz / f"{quiz}.ipynb"
        if path.exists():
            return nbformat.read(path, as_version=4), hidden
    raise FileNotFoundError(f"neither solutions/{quiz} nor quizzes/{quiz} exists under {root}")


def restore_cells(learner: nbformat.NotebookNode,
                  source: nbformat.NotebookNode) -> tuple[nbformat.NotebookNode, list[str]]:
    """The notebook nbgrader would grade: the source's cells in the source's order, the learner's
    solution cells in place of the source's, and the learner's own extra cells after the cell they
    followed. Returns it and what had to be restored."""
    notes: list[str] = []
    by_id: dict[str, Any] = {}
    extra_after: dict[str | None, list[Any]] = {}
    previous: str | None = None
    source_ids = {_meta(c).get("grade_id") for c in source.cells} - {None}
    for cell in learner.cells:
        grade_id = _meta(cell).get("grade_id")
        if grade_id in source_ids:
            if grade_id in by_id:
                notes.append(f"duplicated cell {grade_id}")
                continue
            by_id[grade_id] = cell
            previous = grade_id
        else:
            if grade_id:
                notes.append(f"invented cell {grade_id}")
                cell = nbformat.from_dict({**cell, "metadata": {k: v for k, v in cell.metadata.items()
                                                                   if k != "nbgrader"}})
            extra_after.setdefault(previous, []).append(cell)
    out = nbformat.v4.new_notebook(metadata=source.metadata)
    out.cells.extend(extra_after.get(None, []))
    for cell in source.cells:
        meta = _meta(cell)
        grade_id = meta.get("grade_id")
        mine = by_id.get(grade_id)
        if meta.get("solution") and mine is not None:
            out.cells.append(nbformat.from_dict({**cell, "source": mine.source}))
        else:
            if mine is None and grade_id and meta.get("grade") and not meta.get("solution"):
                notes.append(f"test cell {grade_id} deleted")
            elif mine is not None and meta.get("grade") and not meta.get("solution") \
                    and mine.source.strip() not in (_visible(cell.source).strip(), cell.source.strip()):
                notes.append(f"test cell {grade_id} edited")
            if meta.get("solution") and mine is None:
                cell = nbformat.from_dict({**cell, "source": "raise NotImplementedError()"})
            out.cells.append(nbformat.from_dict(dict(cell)))
        out.cells.extend(extra_after.get(grade_id, []) if grade_id else [])
    return out, notes


def score_cells(nb: nbformat.NotebookNode) -> list[tuple[str, float, float, list[str]]]:
    """(grade_id, score, points, messages) of every test cell, by nbgrader's rule."""
    rows = []
    for cell in nb.cells:
        meta = _meta(cell)
        if cell.cell_type != "code" or not meta.get("grade") or meta.get("solution"):
            continue
        errors = [f"{o.get('ename', 'Error')}: {o.get('evalue', '')}".strip()
                  for o in cell.get("outputs", []) if o.get("output_type") == "error"]
        points = float(meta.get("points", 0))
        rows.append((meta["grade_id"], 0.0 if errors else points, points, errors))
    return rows


def write_feedback(nb: nbformat.NotebookNode, path: Path) -> Path:
    """The feedback page: hidden tests removed, errors reduced to their message."""
    from nbconvert import HTMLExporter

    nb = nbformat.from_dict(nb)
    for cell in nb.cells:  # what attnkit.grading.course.feedback.HideHiddenTests does for nbgrader
        meta = _meta(cell)
        if cell.cell_type == "code" and meta.get("grade") and not meta.get("solution"):
            cell.source = _visible(cell.source) + "\n# (hidden tests ran here; their messages are shown below)"
            cell.outputs = [nbformat.from_dict({"output_type": "error", "ename": o.get("ename", "Error"),
                                                "evalue": o.get("evalue", ""),
                                                "traceback": [f"{o.get('ename', 'Error')}: {o.get('evalue', '')}"]})
                            if o.get("output_type") == "error" else o for o in cell.outputs]
    from attnkit.accessible import accessible_page

    html, _ = HTMLExporter().from_notebook_node(nb)
    html = accessible_page(html)  # WCAG 2.1 AA text contrast and language (tests/test_browser_a11y.py)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(html)
    return path


def grade_notebook(path: str | Path, quiz: str, workdir: str | Path | None = None, timeout: int = 60,
                   root: Path = REPO_ROOT, feedback: bool = True) -> tuple[Any, JudgeResult, bool]:
    """Grade one learner notebook; returns (course.Result-like, the judged notebook, hidden tests ran)."""
    from attnkit.grading.course.nbgrader_cli import GradedCell, Result

    learner = nbformat.read(Path(path), as_version=4)
    source, hidden = source_notebook(quiz, root)
    nb, notes = restore_cells(learner, source)
    judged = judge_notebook(nb, cell_timeout=timeout)
    if notes:
        judged.notes = list(dict.fromkeys(judged.notes + ["test cells restored"] + notes))
        from attnkit.grading.grader.judge import combine_status

        judged.status = combine_status(judged.notes)
    cells = [GradedCell(g, s, p, m) for g, s, p, m in score_cells(judged.nb)]
    folder = Path(workdir or tempfile.mkdtemp(prefix=f"attnkit-grade-{quiz}-"))
    html = folder / "feedback" / f"{quiz}.html"
    if feedback:
        write_feedback(judged.nb, html)
    result = Result("learner", quiz, sum(c.score for c in cells), sum(c.max_score for c in cells), cells, html)
    return result, judged, hidden
