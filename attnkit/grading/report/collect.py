"""What the class got wrong in one quiz, read from the course's gradebook database.

:func:`collect` reads, in four queries through nbgrader's schema and session (SQLite or
PostgreSQL alike): every submission's points per test cell, its flag and status comment (the
``attnkit grading status: ...`` automatic comment that judged grading writes), and the
misconception recorded per test cell (:mod:`attnkit.grading.course.misconceptions`). It returns a
:class:`QuizReport`: per quiz item (one test cell) how many got it right, each misconception seen
with its count, the lesson sections that teach it (:mod:`attnkit.grading.content.teaching_map`),
plus the statuses and scores. A cell's points come from the gradebook as it is now (an instructor's
manual grade counts); the misconception is the one recorded when it was graded.

Everything read from a submission (student ids, flag evidence, notes) is text from an attacker:
this module keeps it as plain strings; :mod:`attnkit.grading.report.page` escapes it.
"""
from __future__ import annotations

import statistics
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from attnkit.grading.content import teaching_map
from attnkit.grading.content.engine import NOT_ANSWERED
from attnkit.grading.course.misconceptions import UNRECOGNISED, CellRecord, read_records

__all__ = ["Submission", "Item", "QuizReport", "collect", "summarise", "parse_status", "percent", "label",
           "NOT_RECORDED", "STATUS_PREFIX"]

NOT_RECORDED = "not_recorded"  # a wrong cell without a record: not run (malformed), or graded before records
STATUS_PREFIX = "attnkit grading status: "


@dataclass
class Submission:
    """One student's submission of the quiz: points per test cell and what went wrong."""

    student: str
    score: float
    max_score: float
    status: str
    flags: list[str] = field(default_factory=list)
    notes: str = ""
    cells: dict[str, CellRecord] = field(default_factory=dict)  # current points, recorded misconception


@dataclass
class Item:
    """One quiz item (one test cell) across the class."""

    cell: str
    item: str
    points: float
    right: int
    wrong: Counter  # misconception id -> students
    sections: tuple[str, ...]

    @property
    def total(self) -> int:
        return self.right + sum(self.wrong.values())


@dataclass
class QuizReport:
    """Everything the report shows about one quiz."""

    quiz: str
    submissions: list[Submission]
    items: list[Item]
    max_score: float
    messages: dict[str, str] = field(default_factory=dict)  # misconception id -> what it means

    @property
    def statuses(self) -> Counter:
        return Counter(s.status for s in self.submissions)

    @property
    def scores(self) -> list[float]:
        return [s.score for s in self.submissions]

    def share(self, count: int) -> float:
        """``count`` as a share of the class (the submissions of this quiz)."""
        return count / len(self.submissions) if self.submissions else 0.0


def parse_status(comment: str | None, flagged: bool) -> tuple[str, list[str], str]:
    """``(status, flags, notes)`` from judged grading's automatic comment (see
    :class:`attnkit.grading.course.autograde.RecordStatus`); without one, ``graded`` or ``flagged``."""
    if not comment or not comment.startswith(STATUS_PREFIX):
        return ("flagged" if flagged else "graded"), [], ""
    lines = comment.splitlines()
    status = lines[0].removeprefix(STATUS_PREFIX).strip()
    flags = [line[2:] for line in lines[1:] if line.startswith("- ")]
    notes = "; ".join(line.removeprefix("notes: ") for line in lines[1:]
                      if line.strip() and not line.startswith(("- ", "flags (")))
    return status, flags, notes


def _rows(session: Any, quiz: str) -> tuple[list, list, list]:
    """The gradebook's rows for ``quiz``: (student, cell, score, max) grades, (student, flagged)
    notebooks and (student, comment) status comments."""
    from nbgrader.api import Assignment, Comment, Grade, GradeCell, SubmittedAssignment, SubmittedNotebook
    from sqlalchemy import select

    submitted = (select(SubmittedAssignment.student_id, SubmittedNotebook.id, SubmittedNotebook.flagged)
                 .join(SubmittedNotebook, SubmittedNotebook.assignment_id == SubmittedAssignment.id)
                 .join(Assignment, Assignment.id == SubmittedAssignment.assignment_id)
                 .where(Assignment.name == quiz))
    notebooks = session.execute(submitted).all()
    grades = session.execute(
        select(SubmittedAssignment.student_id, GradeCell.name, Grade.score, GradeCell.max_score)
        .join(SubmittedNotebook, SubmittedNotebook.assignment_id == SubmittedAssignment.id)
        .join(Assignment, Assignment.id == SubmittedAssignment.assignment_id)
        .join(Grade, Grade.notebook_id == SubmittedNotebook.id)
        .join(GradeCell, GradeCell.id == Grade.cell_id)
        .where(Assignment.name == quiz)).all()
    comments = session.execute(
        select(SubmittedAssignment.student_id, Comment.auto_comment)
        .join(SubmittedNotebook, SubmittedNotebook.assignment_id == SubmittedAssignment.id)
        .join(Assignment, Assignment.id == SubmittedAssignment.assignment_id)
        .join(Comment, Comment.notebook_id == SubmittedNotebook.id)
        .where(Assignment.name == quiz, Comment.auto_comment.like(STATUS_PREFIX + "%"))).all()
    return grades, notebooks, comments


def _cell_order(course: Path, quiz: str, cells: set[str]) -> list[str]:
    """The quiz's test cells in notebook order (the solution notebook's, else the release's), else by name."""
    import nbformat

    from attnkit.grading.cells import grade_id

    for folder in ("solutions", "quizzes", "source", "release"):
        path = course / folder / quiz / f"{quiz}.ipynb"
        if path.exists():
            order = [grade_id(c) for c in nbformat.read(path, as_version=4).cells if grade_id(c) in cells]
            return order + sorted(cells - set(order))
    return sorted(cells)


def collect(session: Any, quiz: str, course: Path | str = ".") -> QuizReport:
    """Read one quiz's class from the gradebook behind ``session`` (an SQLAlchemy session, e.g.
    nbgrader's ``Gradebook.db``); ``course`` holds the quiz notebooks (the order of its cells)."""
    grades, notebooks, comments = _rows(session, quiz)
    recorded = read_records(session, quiz)
    status_comment = {student: text for student, text in comments}
    maxima: dict[str, float] = {}
    submissions: dict[str, Submission] = {}
    for student, _, flagged in notebooks:
        status, flags, notes = parse_status(status_comment.get(student), bool(flagged))
        submissions[student] = Submission(student, 0.0, 0.0, status, flags, notes)
    for student, cell, score, max_score in grades:
        if not max_score:
            continue
        sub = submissions[student]
        maxima[cell] = float(max_score)
        sub.score += float(score or 0)
        sub.max_score += float(max_score)
        mine = recorded.get(student, {}).get(cell)
        sub.cells[cell] = CellRecord(cell, float(score or 0), float(max_score),
                                     mine.misconception if mine else NOT_RECORDED)
    items = []
    for cell in _cell_order(Path(course), quiz, set(maxima)):
        wrong: Counter = Counter()
        right = 0
        for sub in submissions.values():
            record = sub.cells.get(cell)
            if record is not None and record.score >= maxima[cell]:
                right += 1
            else:
                wrong[(record.misconception if record else NOT_RECORDED) or UNRECOGNISED] += 1
        item = teaching_map.item_of_cell(quiz, cell)
        items.append(Item(cell, item, maxima[cell], right, wrong, teaching_map.sections(quiz, item)))
    ordered = sorted(submissions.values(), key=lambda s: s.student)
    return QuizReport(quiz, ordered, items, sum(maxima.values()), meanings(Path(course), quiz, items))


def meanings(course: Path, quiz: str, items: list[Item]) -> dict[str, str]:
    """What each misconception id means, for the instructor: a bug's catalogued message, a typical
    wrong answer's message from the answer key in the course's solution notebook (if it is there)."""
    from attnkit.grading.content.bugs import BUGS
    from attnkit.grading.content.questions import answer_id

    seen = {m for item in items for m in item.wrong}
    out = {NOT_ANSWERED: "left as handed out (not attempted)",
           UNRECOGNISED: "wrong, and no catalogued mistake matches: read these submissions",
           NOT_RECORDED: "no record: the notebook was not run (malformed), or was graded before records were kept"}
    out.update({b: BUGS[b].message for b in seen if b in BUGS})
    solution = course / "solutions" / quiz / f"{quiz}.ipynb"
    if any("=" in m for m in seen) and solution.exists():
        try:
            import nbformat

            from attnkit.grading.content.answers import answer_key

            for qid, entry in answer_key(nbformat.read(solution, as_version=4)).items():
                out.update({answer_id(qid, wrong): message for wrong, message in entry.get("wrong", {}).items()})
        except Exception:  # the instructor's notebook is not runnable here: the ids alone are shown
            pass
    return {k: v for k, v in out.items() if k in seen}


def percent(share: float) -> str:
    """A share of the class as the report writes it: ``53%``, ``0.5%`` (one decimal under 10%)."""
    return f"{share:.0%}" if share >= 0.1 or share == 0 else f"{share:.1%}"


def label(item: str, misconception: str) -> str:
    """``item: misconception`` for a plot, a typical wrong answer as ``q4_scale_divisor: answered 1``."""
    answer = misconception.removeprefix(item + "=")
    return f"{item}: answered {answer}" if answer != misconception else f"{item}: {misconception}"


def summarise(report: QuizReport) -> dict[str, float]:
    """Mean, median, minimum and maximum score, and the number of submissions."""
    scores = report.scores or [0.0]
    return {"submissions": len(report.submissions), "mean": statistics.fmean(scores),
            "median": statistics.median(scores), "min": min(scores), "max": max(scores)}
