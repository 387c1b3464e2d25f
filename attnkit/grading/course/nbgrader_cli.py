"""Run nbgrader's own CLI on a course directory: generate, autograde, feedback, export, read grades.

The repository root is the course directory (``nbgrader_config.py``, ``solutions/`` = nbgrader's
source, ``quizzes/`` = its release). The demo class, the self-grading command and the tests work
in a temporary copy made by :func:`make_course`, so they never touch the instructor's gradebook.

Every step is the real ``nbgrader`` command run in a subprocess, the same command an instructor
types; :func:`nbgrader` only makes sure it finds the ``alembic`` tool next to the interpreter and
that the grading kernel can import attnkit.
"""
from __future__ import annotations

import csv
import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from attnkit.grading.cells import cells_by_id, grade_id, is_test, points
from attnkit.grading.content.quizzes import QUIZ_IDS

__all__ = ["QUIZ_IDS", "REPO_ROOT", "GradedCell", "Result", "nbgrader", "make_course", "submit",
           "autograde", "read_results", "export_csv", "max_scores"]

REPO_ROOT = Path(__file__).resolve().parents[3]


@dataclass
class GradedCell:
    """One autograder test cell of one submission: points and the messages it printed."""

    grade_id: str
    score: float
    max_score: float
    messages: list[str] = field(default_factory=list)


@dataclass
class Result:
    """One graded submission."""

    student: str
    quiz: str
    score: float
    max_score: float
    cells: list[GradedCell]
    feedback_html: Path

    def messages(self) -> list[str]:
        return [m for cell in self.cells for m in cell.messages]


def nbgrader(args: Sequence[str], course_dir: Path, check: bool = True) -> subprocess.CompletedProcess:
    """Run ``nbgrader <args>`` in ``course_dir`` with this interpreter; raise on failure."""
    env = dict(os.environ)
    bin_dir = str(Path(sys.executable).parent)
    env["PATH"] = bin_dir + os.pathsep + env.get("PATH", "")  # nbgrader calls `alembic` from PATH
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO_ROOT), env.get("PYTHONPATH", "")) if p)
    env.setdefault("HF_HUB_OFFLINE", "1")
    done = subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=course_dir, env=env,
                          capture_output=True, text=True)
    # nbgrader logs a cell timeout as ERROR too, but reports a failed notebook with this sentence
    if check and (done.returncode != 0 or "There was an error processing" in done.stderr):
        raise RuntimeError(f"nbgrader {' '.join(args)} failed in {course_dir}:\n{done.stderr[-4000:]}")
    return done


def make_course(dest: Path, quizzes: Sequence[str] = QUIZ_IDS, source: Path = REPO_ROOT) -> Path:
    """A fresh course directory at ``dest`` with the quizzes generated (release in ``quizzes/``)."""
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    shutil.copy(source / "nbgrader_config.py", dest / "nbgrader_config.py")
    for quiz in quizzes:
        shutil.copytree(source / "solutions" / quiz, dest / "solutions" / quiz, dirs_exist_ok=True)
    for quiz in quizzes:
        nbgrader(["generate_assignment", quiz, "--force"], dest)
    return dest


def submit(course_dir: Path, student: str, quiz: str, nb: nbformat.NotebookNode) -> Path:
    """Place a notebook where ``nbgrader collect`` would: ``submitted/<student>/<quiz>/<quiz>.ipynb``."""
    path = Path(course_dir) / "submitted" / student / quiz / f"{quiz}.ipynb"
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    return path


def autograde(course_dir: Path, quizzes: Sequence[str], timeout: int | None = None) -> None:
    """``nbgrader autograde`` then ``nbgrader generate_feedback`` for each quiz, in turn.

    Args:
        timeout: optional cell timeout in seconds (``--JudgeInSandbox.timeout``), else the config's.
    """
    extra = [f"--JudgeInSandbox.timeout={timeout}"] if timeout else []
    for quiz in quizzes:
        nbgrader(["autograde", quiz, "--force", *extra], course_dir)
        nbgrader(["generate_feedback", quiz, "--force"], course_dir)


def _cell_messages(cell: nbformat.NotebookNode) -> list[str]:
    return [f"{out.get('ename', 'Error')}: {out.get('evalue', '')}".strip()
            for out in cell.get("outputs", []) if out.get("output_type") == "error"]


def read_results(course_dir: Path, quiz: str, students: Sequence[str]) -> dict[str, Result]:
    """Scores from the gradebook and messages from the autograded notebooks."""
    from nbgrader.api import Gradebook

    from attnkit.grading.queue.database import database_url

    course_dir = Path(course_dir)
    results = {}
    with Gradebook(database_url(course_dir)) as gb:
        for student in students:
            sub = gb.find_submission_notebook(quiz, quiz, student)
            graded = nbformat.read(course_dir / "autograded" / student / quiz / f"{quiz}.ipynb", as_version=4)
            by_id = cells_by_id(graded)
            cells = [GradedCell(g.name, float(g.score), float(g.max_score), _cell_messages(by_id.get(g.name, {})))
                     for g in sorted(sub.grades, key=lambda g: g.name) if g.max_score]
            results[student] = Result(student, quiz, float(sub.score), float(sub.max_score), cells,
                                      course_dir / "feedback" / student / quiz / f"{quiz}.html")
    return results


def export_csv(course_dir: Path, to: str = "grades.csv") -> list[dict[str, str]]:
    """``nbgrader export --to <to>`` and the rows of the CSV it wrote."""
    nbgrader(["export", f"--to={to}"], course_dir)
    with open(Path(course_dir) / to, newline="") as fh:
        return list(csv.DictReader(fh))


def max_scores(nb: nbformat.NotebookNode) -> dict[str, float]:
    """Points of every autograder test cell of a quiz notebook, by grade_id."""
    return {grade_id(c): points(c) for c in nb.cells if is_test(c)}
