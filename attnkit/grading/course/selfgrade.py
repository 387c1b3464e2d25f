"""Grade your own quiz: ``attnkit grade quizzes/q4_qkv_math/q4_qkv_math.ipynb`` (a few seconds).

The command does in one process what ``nbgrader autograde`` does with this course's configuration
(see :mod:`attnkit.grading.grader.selfjudge`): the test cells are restored from the instructor's copy in
``solutions/`` (hidden tests included; a class bundle has no ``solutions/``, and then only the
visible tests run and the report says so), your notebook runs in the grading sandbox, the test
cells are judged outside it, and it prints the points per question, each failing check's message,
the status (and any flags) and the path of the feedback HTML. Your notebook is only read, never
changed. The grades are those ``nbgrader autograde`` and ``attnkit grade-class`` give: a notebook
that is a link or a special file is refused, and links or special files beside it are flagged
(:mod:`attnkit.grading.course.triage`), as the instructor's grading does.
"""
from __future__ import annotations

from pathlib import Path

import nbformat

from attnkit.grading.cells import grade_id
from attnkit.grading.content.quizzes import QUIZ_IDS
from attnkit.grading.content.teaching_map import revisit_line
from attnkit.grading.course.nbgrader_cli import REPO_ROOT, Result
from attnkit.grading.course.triage import describe

__all__ = ["grade_notebook", "format_result", "main"]

STUDENT = "learner"


def _quiz_id(path: Path, nb: nbformat.NotebookNode) -> str:
    if path.stem in QUIZ_IDS:
        return path.stem
    ids = {grade_id(c) for c in nb.cells}
    from attnkit.grading.grader.selfjudge import source_notebook

    for quiz in QUIZ_IDS:  # a renamed copy: recognise the quiz by its cells
        source, _ = source_notebook(quiz, REPO_ROOT)
        if {grade_id(c) for c in source.cells} <= ids | {None}:
            return quiz
    raise ValueError(f"{path} is not one of the quizzes {', '.join(QUIZ_IDS)}: name it <quiz_id>.ipynb "
                     f"as in quizzes/<quiz_id>/")


def grade_notebook(path: str | Path, workdir: str | Path | None = None, timeout: int | None = None) -> Result:
    """Grade one learner notebook: sandboxed run, test cells judged outside it.

    Args:
        path: the learner's quiz notebook.
        workdir: where to write the feedback page; a new temporary folder if None (kept, so the
            feedback HTML stays readable).
        timeout: seconds per cell; :mod:`attnkit.grading.limits`' default if None.

    Returns:
        The graded submission: total and per-cell scores, messages, the feedback HTML path, and
        (as attributes) ``status``, ``flags`` and ``hidden_tests`` (whether the hidden tests ran).
    """
    from attnkit.grading.grader import selfjudge

    path = Path(path)
    what = describe(path)
    if what is not None:  # never opened: a FIFO would block, a link may lead anywhere
        raise ValueError(f"{path} is {what}: attnkit grade reads a regular file only (your instructor's grading "
                         f"gives such a submission the status malformed and 0 points)")
    nb = nbformat.read(path, as_version=4)
    quiz = _quiz_id(path, nb)
    result, judged, hidden = selfjudge.grade_notebook(path, quiz, workdir, timeout, REPO_ROOT)
    result.status, result.flags, result.hidden_tests = judged.status, judged.flags, hidden
    return result


def format_result(result: Result) -> str:
    """The report the command prints: one line per graded cell, messages under failing ones."""
    lines = [f"{result.quiz}: {result.score:g} / {result.max_score:g} points", ""]
    for cell in result.cells:
        mark = "ok " if cell.score == cell.max_score else "-- "
        lines.append(f"  {mark}{cell.grade_id:34} {cell.score:g} / {cell.max_score:g}")
        lines.extend(f"        {message}" for message in cell.messages)
        revisit = revisit_line(result.quiz, cell.grade_id) if cell.score < cell.max_score else None
        lines += [f"        {revisit}"] if revisit else []
    status = getattr(result, "status", None)
    if status:
        lines += ["", f"status: {status}"]
        lines += [f"  flag: {flag}" for flag in getattr(result, "flags", [])]
    if getattr(result, "hidden_tests", True) is False:
        lines += ["", "visible tests only (this copy has no solutions/): your instructor's grade also runs "
                      "hidden tests"]
    lines += ["", f"feedback: {result.feedback_html}"]
    return "\n".join(lines)


def main(path: str, workdir: str | None = None, timeout: int | None = None) -> int:
    """Grade ``path`` and print the report; 0 for full marks, 1 otherwise."""
    result = grade_notebook(path, workdir, timeout)
    print(format_result(result))
    return 0 if result.score == result.max_score else 1
