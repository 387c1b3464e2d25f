"""Grade your own quiz with the real nbgrader: ``attnkit grade quizzes/q4_qkv_math/q4_qkv_math.ipynb``.

The command makes a temporary course directory, generates the quiz there from ``solutions/``
(nbgrader needs the instructor copy to restore the test cells and run the hidden tests), places
your notebook as student ``learner``'s submission, runs ``nbgrader autograde`` and
``nbgrader generate_feedback``, and prints the points per question, each failing check's message,
and the path of the feedback HTML. Your notebook is only read, never changed.
"""
from __future__ import annotations

import tempfile
from pathlib import Path

import nbformat

from attnkit.grading.cells import grade_id
from attnkit.grading.course import REPO_ROOT, Result, autograde, make_course, read_results, submit
from attnkit.grading.quizzes import QUIZ_IDS

__all__ = ["grade_notebook", "format_result", "main"]

STUDENT = "learner"


def _quiz_id(path: Path, nb: nbformat.NotebookNode) -> str:
    if path.stem in QUIZ_IDS:
        return path.stem
    ids = {grade_id(c) for c in nb.cells}
    for quiz in QUIZ_IDS:  # a renamed copy: recognise the quiz by its cells
        source = nbformat.read(REPO_ROOT / "solutions" / quiz / f"{quiz}.ipynb", 4)
        if {grade_id(c) for c in source.cells} <= ids | {None}:
            return quiz
    raise ValueError(f"{path} is not one of the quizzes {', '.join(QUIZ_IDS)}: name it <quiz_id>.ipynb "
                     f"as in quizzes/<quiz_id>/")


def grade_notebook(path: str | Path, workdir: str | Path | None = None, timeout: int | None = None) -> Result:
    """Autograde one learner notebook with nbgrader in a temporary course directory.

    Args:
        path: the learner's quiz notebook.
        workdir: where to build the course directory; a new temporary folder if None (kept, so the
            feedback HTML stays readable).
        timeout: seconds per cell; nbgrader_config.py's value if None.

    Returns:
        The graded submission: total and per-cell scores, messages, the feedback HTML path.
    """
    path = Path(path)
    nb = nbformat.read(path, as_version=4)
    quiz = _quiz_id(path, nb)
    course_dir = Path(workdir or tempfile.mkdtemp(prefix=f"attnkit-grade-{quiz}-"))
    make_course(course_dir, [quiz])
    submit(course_dir, STUDENT, quiz, nb)
    autograde(course_dir, [quiz], timeout=timeout)
    return read_results(course_dir, quiz, [STUDENT])[STUDENT]


def format_result(result: Result) -> str:
    """The report the command prints: one line per graded cell, messages under failing ones."""
    lines = [f"{result.quiz}: {result.score:g} / {result.max_score:g} points", ""]
    for cell in result.cells:
        mark = "ok " if cell.score == cell.max_score else "-- "
        lines.append(f"  {mark}{cell.grade_id:34} {cell.score:g} / {cell.max_score:g}")
        lines.extend(f"        {message}" for message in cell.messages)
    lines += ["", f"feedback: {result.feedback_html}"]
    return "\n".join(lines)


def main(path: str, workdir: str | None = None, timeout: int | None = None) -> int:
    """Grade ``path`` and print the report; 0 for full marks, 1 otherwise."""
    result = grade_notebook(path, workdir, timeout)
    print(format_result(result))
    return 0 if result.score == result.max_score else 1
