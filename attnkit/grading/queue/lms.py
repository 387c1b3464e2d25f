"""Grades out to the LMS: nbgrader export plugins for Canvas and Moodle, and an optional Canvas push.

One column per quiz, one row per student, the student by their LMS login (nbgrader's student id:
with an LTI login the hub user name, which is the LMS login):

    nbgrader export --exporter=attnkit.grading.queue.lms.CanvasCsvExportPlugin --to canvas_grades.csv
    nbgrader export --exporter=attnkit.grading.queue.lms.MoodleCsvExportPlugin --to moodle_grades.csv

* **Canvas** (Grades > Import): the columns of Canvas's own gradebook export, ``Student``, ``ID``,
  ``SIS User ID``, ``SIS Login ID``, ``Section``, then one column per quiz, and a second row
  ``Points Possible``. A quiz column is named ``<quiz> (<Canvas assignment id>)`` when
  ``CanvasCsvExportPlugin.assignment_ids`` maps the quiz to an existing assignment (Canvas matches
  on the id); a bare name makes Canvas offer a new assignment. ``ID`` is the student's
  ``lms_user_id`` in the gradebook (Canvas's numeric user id) when known; else Canvas matches on
  ``SIS Login ID``.
* **Moodle** (Grade administration > Import > CSV file): ``Username``, ``Email address``, then one
  column per quiz; in the import form map "Username" to "username" (or the e-mail to "email
  address") and each quiz column to its grade item.

A student with no submission of a quiz gets an empty cell (both LMSs then leave that grade
unchanged), never a 0 the instructor did not decide.

:func:`push_canvas` sends the same grades through Canvas's REST API (``canvasapi``, the ``canvas``
extra): one bulk update per quiz, students matched by login; what could not be matched is returned.
"""
from __future__ import annotations

import csv
import os
import sys
from collections.abc import Sequence
from typing import Any

from nbgrader.plugins import ExportPlugin
from traitlets import Dict

__all__ = ["grades", "CanvasCsvExportPlugin", "MoodleCsvExportPlugin", "CANVAS_COLUMNS", "MOODLE_COLUMNS",
           "push_canvas", "main"]

CANVAS_COLUMNS = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
MOODLE_COLUMNS = ["Username", "Email address"]


def grades(gradebook: Any, quizzes: Sequence[str] = (), students: Sequence[str] = ()) -> tuple[
        list[Any], list[tuple[str, float]], dict[tuple[str, str], float]]:
    """``(students, [(quiz, max score)], {(quiz, student id): score})`` from an nbgrader gradebook,
    limited to ``quizzes`` and ``students`` when given; one query per quiz."""
    chosen = [a for a in gradebook.assignments if not quizzes or a.name in quizzes]
    people = [s for s in gradebook.students if not students or s.id in students]
    scores = {}
    for assignment in chosen:
        for sub in gradebook.assignment_submissions(assignment.name):
            scores[assignment.name, sub.student.id] = float(sub.score)
    return people, [(a.name, float(a.max_score)) for a in chosen], scores


def _score(value: float | None) -> str:
    return "" if value is None else f"{value:g}"


class _LmsCsv(ExportPlugin):
    default_to = "grades.csv"

    def header(self, quizzes: list[tuple[str, float]]) -> list[list[str]]:
        raise NotImplementedError

    def identity(self, student: Any) -> list[str]:
        raise NotImplementedError

    def export(self, gradebook: Any) -> None:
        people, quizzes, scores = grades(gradebook, [str(a) for a in self.assignment], [str(s) for s in self.student])
        with open(self.to or self.default_to, "w", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerows(self.header(quizzes))
            for student in sorted(people, key=lambda s: s.id):
                writer.writerow(self.identity(student) + [_score(scores.get((q, student.id))) for q, _ in quizzes])


class CanvasCsvExportPlugin(_LmsCsv):
    """The CSV Canvas's gradebook imports (see the module docstring)."""

    default_to = "canvas_grades.csv"
    assignment_ids = Dict({}, help="quiz id -> Canvas assignment id (columns 'quiz (id)')").tag(config=True)

    def header(self, quizzes: list[tuple[str, float]]) -> list[list[str]]:
        names = [f"{q} ({self.assignment_ids[q]})" if q in self.assignment_ids else q for q, _ in quizzes]
        return [CANVAS_COLUMNS + names, ["Points Possible", "", "", "", ""] + [_score(m) for _, m in quizzes]]

    def identity(self, student: Any) -> list[str]:
        name = ", ".join(p for p in (student.last_name, student.first_name) if p) or student.id
        return [name, student.lms_user_id or "", "", student.id, ""]


class MoodleCsvExportPlugin(_LmsCsv):
    """The CSV Moodle's grade import reads (see the module docstring)."""

    default_to = "moodle_grades.csv"

    def header(self, quizzes: list[tuple[str, float]]) -> list[list[str]]:
        return [MOODLE_COLUMNS + [q for q, _ in quizzes]]

    def identity(self, student: Any) -> list[str]:
        return [student.id, student.email or ""]


def push_canvas(gradebook: Any, api_url: str, token: str, course_id: int, quizzes: Sequence[str] = (),
                assignment_ids: dict[str, int] | None = None) -> dict[str, list[str]]:
    """Post every quiz's scores to Canvas (``submissions_bulk_update``); returns, per quiz, the
    student ids that had no Canvas student with that login (not posted) or ``["no assignment"]``."""
    from canvasapi import Canvas

    course = Canvas(api_url, token).get_course(course_id)
    logins = {getattr(u, "login_id", None): u.id for u in course.get_users(enrollment_type=["student"])}
    people, chosen, scores = grades(gradebook, quizzes)
    missed: dict[str, list[str]] = {}
    for quiz, _ in chosen:
        if assignment_ids and quiz in assignment_ids:
            assignment = course.get_assignment(assignment_ids[quiz])
        else:
            assignment = next((a for a in course.get_assignments(search_term=quiz) if a.name == quiz), None)
        if assignment is None:
            missed[quiz] = ["no assignment"]
            continue
        data = {logins[s.id]: {"posted_grade": _score(scores[quiz, s.id])} for s in people
                if (quiz, s.id) in scores and s.id in logins}
        missed[quiz] = sorted(s.id for s in people if (quiz, s.id) in scores and s.id not in logins)
        if data:
            assignment.submissions_bulk_update(grade_data=data)
    return missed


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m attnkit.grading.queue.lms --api-url URL --course-id N [--quiz Q ...]``; the token
    from ``CANVAS_API_TOKEN``; the gradebook of the course in the current folder."""
    import argparse

    from nbgrader.api import Gradebook

    from attnkit.grading.queue.database import database_url

    parser = argparse.ArgumentParser(prog="python -m attnkit.grading.queue.lms", description=main.__doc__)
    parser.add_argument("--api-url", required=True, help="e.g. https://canvas.example.edu")
    parser.add_argument("--course-id", type=int, required=True)
    parser.add_argument("--quiz", nargs="*", default=[])
    parser.add_argument("--course", default=".")
    args = parser.parse_args(argv)
    with Gradebook(database_url(args.course)) as gb:
        missed = push_canvas(gb, args.api_url, os.environ["CANVAS_API_TOKEN"], args.course_id, args.quiz)
    for quiz, who in missed.items():
        print(f"{quiz}: posted" + (f"; not in Canvas: {', '.join(who)}" if who else ""))
    return 1 if any(missed.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
