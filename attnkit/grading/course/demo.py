"""A synthetic class, graded end to end with nbgrader: ``attnkit demo-class``.

Students are made from the solution notebooks: one answers everything right, one hands in the
blank quiz, one stops half way, several carry catalogued bugs (:mod:`attnkit.grading.content.bugs`), one
picks typical wrong answers to the questions, and two test nbgrader's traps (stderr and warnings
from a correct answer; a deleted test cell). Each student knows the score nbgrader should give, so
the run checks itself: the printed gradebook has an ``expected`` column and the command fails if
any score differs.

The flow is the instructor's (docs/grading.md), in a temporary course directory:
``generate_assignment`` -> place files in ``submitted/`` -> ``autograde`` -> ``generate_feedback``
-> ``export`` to CSV.
"""
from __future__ import annotations

import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat

from attnkit.grading.cells import grade_id, is_solution
from attnkit.grading.content.answers import answer_cells, answer_key
from attnkit.grading.content.bugs import BUGS, bugs_for, inject
from attnkit.grading.course.nbgrader_cli import autograde, export_csv, make_course, max_scores, read_results, submit

__all__ = ["Student", "solution_ids", "with_bugs", "blank", "partial", "catalogued_wrong_answers", "wrong_answers",
           "noisy", "without_cell", "looping", "demo_class", "run_class", "main"]


@dataclass
class Student:
    """A synthetic submission and what nbgrader should make of it."""

    id: str
    quiz: str
    about: str
    notebook: nbformat.NotebookNode
    expected_score: float
    expected_messages: list[str] = field(default_factory=list)


def solution_ids(nb: nbformat.NotebookNode) -> list[str]:
    """The graded solution cells (exercises and answers) in notebook order."""
    return [grade_id(c) for c in nb.cells if is_solution(c)]


def _lose(nb: nbformat.NotebookNode, solution_cells: Sequence[str]) -> float:
    """Full marks minus the test cells (``test_<id>``) of the given solution cells."""
    points = max_scores(nb)
    return sum(points.values()) - sum(points[f"test_{s}"] for s in set(solution_cells))


def with_bugs(quiz: str, sol: nbformat.NotebookNode, bug_ids: Sequence[str], student: str) -> Student:
    """The solution with each bug's source in place of its exercise."""
    exercises = [BUGS[b].exercise for b in bug_ids]
    about = "bugs: " + ", ".join(bug_ids) if bug_ids else "all correct"
    return Student(student, quiz, about, inject(sol, list(bug_ids)),
                   _lose(sol, exercises), [BUGS[b].message for b in bug_ids])


def blank(quiz: str, sol: nbformat.NotebookNode, release: nbformat.NotebookNode, student: str) -> Student:
    """The release as handed out: nothing answered."""
    return Student(student, quiz, "blank", nbformat.from_dict(release), 0.0)


def partial(quiz: str, sol: nbformat.NotebookNode, release: nbformat.NotebookNode, student: str) -> Student:
    """The first half of the exercises and answers solved, the rest left blank."""
    ids = solution_ids(sol)
    left = ids[(len(ids) + 1) // 2:]
    nb = nbformat.from_dict(sol)
    blank_cells = {grade_id(c): c.source for c in release.cells}
    for cell in nb.cells:
        if grade_id(cell) in left:
            cell.source = blank_cells[grade_id(cell)]
    return Student(student, quiz, f"partial: left {', '.join(left)} blank", nb, _lose(sol, left))


def catalogued_wrong_answers(sol: nbformat.NotebookNode) -> dict[str, tuple[str, Any, str]]:
    """The first typical wrong answer of each question, from the answer key in the solution's hidden
    tests (:func:`attnkit.grading.content.answers.answer_key`; the key is not in the package).

    Returns:
        ``{answer variable: (question id, wrong answer, its message)}`` in notebook order.
    """
    key = {entry["cell"]: (qid, *next(iter(entry["wrong"].items()))) for qid, entry in answer_key(sol).items()}
    return {cell: key[cell] for cell in answer_cells(sol) if cell in key}


def wrong_answers(quiz: str, sol: nbformat.NotebookNode, student: str) -> Student:
    """Every conceptual question answered with its first catalogued wrong answer."""
    nb = nbformat.from_dict(sol)
    cells = {grade_id(c): c for c in nb.cells}
    catalogue = catalogued_wrong_answers(sol)
    for name, (_, answer, _) in catalogue.items():
        cells[name].source = f"{name} = {answer!r}"
    return Student(student, quiz, "typical wrong answers to the questions", nb, _lose(sol, list(catalogue)),
                   [message for _, _, message in catalogue.values()])


_NOISE = '''
import functools as _functools, os as _os, sys as _sys, warnings as _warnings
print("debugging: cell ran", file=_sys.stderr)
_warnings.warn("a learner's own warning")

def _noisy(f):
    @_functools.wraps(f)
    def wrapper(*args, **kwargs):
        print("debugging:", f.__name__, "called", file=_sys.stderr)
        _os.write(2, b"debugging at the file-descriptor level\\n")
        _warnings.warn("a warning from inside " + f.__name__)
        return f(*args, **kwargs)
    return wrapper
'''


def noisy(quiz: str, sol: nbformat.NotebookNode, student: str) -> Student:
    """Correct answers whose functions print to stderr and warn on every call: full marks."""
    nb = nbformat.from_dict(sol)
    for cell in nb.cells:
        name = grade_id(cell)
        if is_solution(cell) and not name.startswith("answer_"):
            cell.source += "\n" + _NOISE + f"\n{name} = _noisy({name})\n"
    return Student(student, quiz, "correct, but prints to stderr and warns", nb, _lose(sol, []))


def without_cell(quiz: str, sol: nbformat.NotebookNode, test_id: str, student: str,
                 bug_id: str | None = None) -> Student:
    """A deleted test cell (nbgrader puts it back and grades it), optionally with a bug it catches."""
    base = with_bugs(quiz, sol, [bug_id], student) if bug_id else Student(student, quiz, "", sol, _lose(sol, []))
    nb = nbformat.from_dict(base.notebook)
    nb.cells = [c for c in nb.cells if grade_id(c) != test_id]
    return Student(student, quiz, f"deleted {test_id}" + (f", {base.about}" if bug_id else ""), nb,
                   base.expected_score, base.expected_messages)


def looping(quiz: str, sol: nbformat.NotebookNode, exercise: str, student: str) -> Student:
    """An infinite loop in one exercise: that exercise scores 0, the others still count."""
    nb = nbformat.from_dict(sol)
    for cell in nb.cells:
        if grade_id(cell) == exercise:
            signature = cell.source.split("\n", 1)[0]
            cell.source = f"{signature}\n    while True:\n        pass\n"
    return Student(student, quiz, f"infinite loop in {exercise}", nb, _lose(sol, [exercise]))


def _notebooks(course_dir: Path, quiz: str) -> tuple[nbformat.NotebookNode, nbformat.NotebookNode]:
    sol = nbformat.read(Path(course_dir) / "solutions" / quiz / f"{quiz}.ipynb", as_version=4)
    release = nbformat.read(Path(course_dir) / "quizzes" / quiz / f"{quiz}.ipynb", as_version=4)
    return sol, release


def demo_class(course_dir: Path, quiz: str) -> list[Student]:
    """About ten students for one quiz: right, blank, partial, bugs, wrong answers, two traps."""
    sol, release = _notebooks(course_dir, quiz)
    catalogue = [b.id for b in bugs_for(quiz)]
    bugs = catalogue[:: max(1, len(catalogue) // 5)][:5]  # five bugs spread over the catalogue
    names = iter(["carol", "dan", "erin", "frank", "grace"])
    students = [with_bugs(quiz, sol, [b], next(names)) for b in bugs[:5]]
    last = solution_ids(sol)[0]
    return [with_bugs(quiz, sol, [], "alice"), blank(quiz, sol, release, "bob"), *students,
            partial(quiz, sol, release, "heidi"), wrong_answers(quiz, sol, "ivan"),
            noisy(quiz, sol, "judy"), without_cell(quiz, sol, f"test_{last}", "ken")]


def run_class(course_dir: Path, quizzes: Sequence[str],
              build: Callable[[Path, str], list[Student]] = demo_class,
              timeout: int | None = None) -> tuple[dict[tuple[str, str], Student], dict, list[dict[str, str]]]:
    """Build the students, place them in ``submitted/``, autograde, make feedback, export CSV.

    Returns:
        ``(students, results, csv_rows)``: students and results keyed by ``(quiz, student_id)``.
    """
    students = {}
    for quiz in quizzes:
        for s in build(course_dir, quiz):
            submit(course_dir, s.id, quiz, s.notebook)
            students[quiz, s.id] = s
    autograde(course_dir, quizzes, timeout=timeout)
    results = {}
    for quiz in quizzes:
        ids = [sid for (q, sid) in students if q == quiz]
        results.update({(quiz, sid): r for sid, r in read_results(course_dir, quiz, ids).items()})
    return students, results, export_csv(course_dir)


def main(quizzes: Sequence[str] = ("q4_qkv_math",), workdir: str | None = None) -> int:
    """Grade the demo class end to end and print the gradebook; 1 if any score is unexpected."""
    course_dir = Path(workdir or tempfile.mkdtemp(prefix="attnkit-demo-class-"))
    print(f"course directory: {course_dir}")
    make_course(course_dir, quizzes)
    students, results, rows = run_class(course_dir, quizzes)
    bad = 0
    print(f"\n{'quiz':18} {'student':8} {'score':>6} {'max':>5} {'expected':>8}  submission")
    for row in rows:
        key = (row["assignment"], row["student_id"])
        s = students[key]
        ok = abs(float(row["score"]) - s.expected_score) < 1e-9
        bad += not ok
        print(f"{key[0]:18} {key[1]:8} {float(row['score']):6.1f} {float(row['max_score']):5.1f} "
              f"{s.expected_score:8.1f}{'' if ok else ' !!'}  {s.about}")
    print(f"\nCSV: {course_dir / 'grades.csv'}\nfeedback: {course_dir / 'feedback'}")
    for key, result in sorted(results.items()):
        for cell in result.cells:
            for message in cell.messages:
                print(f"  {key[1]:8} {cell.grade_id:32} {message[:150]}")
    print("all scores as expected" if not bad else f"{bad} scores differ from the expected ones")
    return 1 if bad else 0
