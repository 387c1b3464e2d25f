"""A synthetic class of any size with known mistakes, written straight into a gradebook.

Grading hundreds of notebooks through nbgrader takes minutes; counting what they got wrong needs
only their verdicts. :func:`synthetic_class` gives each student, for each test cell of a quiz, one
*variant* of the answer: right, a catalogued bug (:mod:`attnkit.grading.content.bugs`), a typical
wrong answer from the answer key (:mod:`attnkit.grading.content.answers`), a new, uncatalogued
mistake, or nothing (as handed out). Every distinct variant is judged once by the quiz's own test
cell (visible and hidden tests) run in this process on that answer, exactly as judged grading runs
it, so the misconception recorded is the one the checks recognise. :func:`write_gradebook` then
writes the students, their points (nbgrader's schema), their statuses (the automatic comment that
judged grading writes) and their misconceptions (:func:`~attnkit.grading.course.misconceptions.write_records`)
into a gradebook, for ``attnkit report``'s tests and benchmark. The *plan* (which student got
which variant) is returned too: a test compares the report's counts with it.
"""
from __future__ import annotations

import contextlib
import io
import os
import random
import sys
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat

from attnkit.grading.cells import grade_id, is_solution, is_test, points
from attnkit.grading.content.answers import answer_key
from attnkit.grading.content.bugs import bugs_for
from attnkit.grading.content.catalogue import exercises, questions
from attnkit.grading.content.engine import NOT_ANSWERED
from attnkit.grading.content.questions import answer_id
from attnkit.grading.course.misconceptions import UNRECOGNISED, CellRecord, outcome, write_records

__all__ = ["Variant", "SyntheticStudent", "variants", "synthetic_class", "write_gradebook", "NEW_MISTAKE",
           "expected_counts", "solution"]

NEW_MISTAKE = "new_mistake"  # the plan's name for an uncatalogued mistake (the checks see "unrecognised")


@dataclass(frozen=True)
class Variant:
    """One way to answer one test cell: ``planned`` is what was injected (``None``: right; a bug id,
    an answer id, :data:`NEW_MISTAKE` or :data:`NOT_ANSWERED`); ``recognised`` what the checks said."""

    cell: str
    planned: str | None
    passed: bool
    recognised: str | None


@dataclass
class SyntheticStudent:
    id: str
    answers: dict[str, Variant]
    status: str = "graded"
    flags: list[str] = field(default_factory=list)


def _setup(sol: nbformat.NotebookNode) -> dict[str, Any]:
    """The namespace after the solution's set-up cells and solutions (the right answers)."""
    namespace: dict[str, Any] = {}
    for cell in sol.cells:
        gid = grade_id(cell) or ""
        if cell.cell_type == "code" and (is_solution(cell) or gid.startswith("setup")):
            exec(compile(cell.source, f"<{gid}>", "exec"), namespace)  # noqa: S102 (the instructor's notebook)
    return namespace


def _judge(source: str, namespace: dict[str, Any], name: str, value: Any) -> tuple[bool, str | None]:
    """Run a test cell with ``name`` bound to ``value``: (passed, misconception recognised)."""
    try:
        with contextlib.redirect_stdout(io.StringIO()):  # the visible checks say they checked the form
            exec(compile(source, "<test cell>", "exec"), {**namespace, name: value})  # noqa: S102
    except Exception as exc:
        return False, getattr(exc, "misconception", None) or UNRECOGNISED
    return True, None


def _new_mistake(reference: Callable[..., Any]) -> Callable[..., Any]:
    """A mistake no catalogue names: the right result, every float entry shifted by 0.123."""
    def shifted(x: Any) -> Any:
        if isinstance(x, tuple):
            return tuple(shifted(v) for v in x)
        if hasattr(x, "dtype") and "float" in str(x.dtype):
            return x + 0.123
        return x

    def wrong(*args: Any, **kwargs: Any) -> Any:
        return shifted(reference(*args, **kwargs))
    return wrong


def _not_written(*args: Any, **kwargs: Any) -> Any:
    raise NotImplementedError


def variants(sol: nbformat.NotebookNode, quiz: str) -> dict[str, list[Variant]]:
    """Every variant of every test cell of ``quiz``, each judged by that test cell."""
    namespace = _setup(sol)
    tests = {grade_id(c): c.source for c in sol.cells if is_test(c)}
    key = answer_key(sol)
    out: dict[str, list[Variant]] = {}
    for ex in exercises(quiz):
        cell, right = f"test_{ex.name}", namespace[ex.name]
        options: list[tuple[str | None, Any]] = [(None, right), (NEW_MISTAKE, _new_mistake(right)),
                                                 (NOT_ANSWERED, _not_written)]
        options += [(b.id, b.function(namespace)) for b in bugs_for(quiz, ex.name)]
        out[cell] = [Variant(cell, planned, *_judge(tests[cell], namespace, ex.name, fn)) for planned, fn in options]
    for question in questions(quiz).values():
        cell, entry = f"test_{question.variable}", key[question.id]
        wrong = list(entry.get("wrong", {}))
        if question.options:  # an option no catalogue names, where one is left
            other = [o for o in question.options if o != entry["expected"] and o not in wrong][:1]
        else:
            other = [float(entry["expected"]) + 1000.0]
        options = [(None, entry["expected"]), *((NEW_MISTAKE, o) for o in other), (NOT_ANSWERED, ...)]
        options += [(answer_id(question.id, w), w) for w in wrong]
        out[cell] = [Variant(cell, planned, *_judge(tests[cell], namespace, question.variable, value))
                     for planned, value in options]
    return out


def synthetic_class(sol: nbformat.NotebookNode, quiz: str, size: int, seed: int = 0,
                    ids: Sequence[str] = ()) -> list[SyntheticStudent]:
    """``size`` students (``ids`` first, then ``s0001``...), each cell's variant drawn at random:
    right half of the time, otherwise any other variant with equal chance."""
    rng = random.Random(seed)
    table = variants(sol, quiz)
    names = [*ids, *(f"s{i:04d}" for i in range(1, size + 1))][:size]
    students = []
    for name in names:
        answers = {}
        for cell, options in table.items():
            answers[cell] = options[0] if rng.random() < 0.5 else rng.choice(options[1:])
        students.append(SyntheticStudent(name, answers))
    return students


def expected_counts(students: Sequence[SyntheticStudent]) -> dict[str, Counter]:
    """What the report must count: per test cell, students right and per planned mistake (a new
    mistake counted as unrecognised)."""
    counts: dict[str, Counter] = {}
    for student in students:
        for cell, variant in student.answers.items():
            label = "right" if variant.planned is None else \
                UNRECOGNISED if variant.planned == NEW_MISTAKE else variant.planned
            counts.setdefault(cell, Counter())[label] += 1
    return counts


def write_gradebook(db_url: str, sol: nbformat.NotebookNode, quiz: str, students: Sequence[SyntheticStudent]) -> None:
    """The quiz, the students, their points, statuses and misconceptions, in a new nbgrader gradebook."""
    from nbgrader.api import Comment, Grade, Gradebook, Student, SubmittedAssignment, SubmittedNotebook

    maxima = {grade_id(c): points(c) for c in sol.cells if is_test(c)}
    bin_dir = os.path.dirname(sys.executable)  # nbgrader runs `alembic` from PATH to set up a new gradebook
    if bin_dir not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = os.pathsep.join((bin_dir, os.environ.get("PATH", "")))
    with Gradebook(db_url) as gb:
        gb.update_or_create_assignment(quiz)
        gb.update_or_create_notebook(quiz, quiz)
        for cell in sol.cells:
            gid = grade_id(cell)
            if gid in maxima:
                gb.add_grade_cell(gid, quiz, quiz, max_score=maxima[gid], cell_type="code")
            elif gid and is_solution(cell):
                gb.add_solution_cell(gid, quiz, quiz)
        notebook = gb.find_notebook(quiz, quiz)
        assignment = gb.find_assignment(quiz)
        grade_cells = [(c.id, c.name, c.max_score) for c in notebook.grade_cells]
        solution_cells = sorted((c.name, c.id) for c in notebook.solution_cells)  # the first holds the status
        for student in students:
            gb.db.add(Student(id=student.id))
        with gb.db.no_autoflush:
            for student in students:
                sub = SubmittedAssignment(assignment_id=assignment.id, student_id=student.id)
                nb = SubmittedNotebook(notebook_id=notebook.id, assignment=sub, flagged=student.status != "graded")
                for cell_id, name, max_score in grade_cells:
                    Grade(cell_id=cell_id, notebook=nb, needs_manual_grade=False,
                          auto_score=max_score if student.answers[name].passed else 0.0)
                for i, (_, cell_id) in enumerate(solution_cells):
                    text = None
                    if i == 0:
                        text = f"attnkit grading status: {student.status}"
                        if student.flags:
                            text += "\nflags (for review; they do not change the grade):\n" + "\n".join(
                                f"- {f}" for f in student.flags)
                    Comment(cell_id=cell_id, notebook=nb, auto_comment=text)
                gb.db.add(sub)
        gb.db.commit()
        for student in students:
            write_records(gb.db, quiz, quiz, student.id, [
                CellRecord(cell, score, maxima[cell], outcome(score, maxima[cell], v.recognised))
                for cell, v in student.answers.items()
                for score in [maxima[cell] if v.passed else 0.0]])
        gb.db.commit()


def solution(course: Path, quiz: str) -> nbformat.NotebookNode:
    """The solution notebook of ``quiz`` in ``course``."""
    return nbformat.read(Path(course) / "solutions" / quiz / f"{quiz}.ipynb", as_version=4)
