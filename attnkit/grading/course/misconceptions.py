"""What each submission got wrong, per test cell, kept in the course's gradebook database.

The checks name the misconception they recognise (``CheckFailed.misconception``: a catalogued bug's
id, a typical wrong answer's id such as ``q4_softmax_axis=a``, or ``not_answered``); the judge
collects them per failing test cell (``JudgeResult.misconceptions``) and :class:`RecordMisconceptions`
(an nbgrader autograde preprocessor, after ``SaveAutoGrades`` in ``nbgrader_config.py``) writes one
row per test cell into the table ``attnkit_misconception`` of the database nbgrader writes its
grades to (``CourseDirectory.db_url``: SQLite's ``gradebook.db`` or a PostgreSQL course database),
through nbgrader's own SQLAlchemy session, in the same transaction as the points it reads:

=============  ===========================================================================
assignment     the quiz (nbgrader assignment names are unique in a gradebook)
notebook       the notebook's name (``<quiz>`` in this course)
student        nbgrader's student id
cell           the test cell's grade id (``test_softmax``, ``test_answer_scale_divisor``)
score          the cell's points when graded (nbgrader's ``auto_score``)
max_score      the cell's maximum
misconception  ``NULL`` when the cell earned its points, else the id recognised, else
               ``"unrecognised"``
=============  ===========================================================================

A table of its own, rather than nbgrader's comment fields: a test cell has no comment in
nbgrader's schema (comments belong to answer cells, and the first one already carries the status),
a row per cell can be counted by SQL, and nbgrader ignores tables it does not know, so the rows
survive ``nbgrader autograde``, ``attnkit grade-class`` and any worker that runs these
preprocessors against the same database. Re-grading a submission replaces its rows. The ids are
the learner's own mistakes: no expected answer or hidden-test text is stored.
"""
from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from nbgrader.preprocessors import NbGraderPreprocessor
from sqlalchemy import Column, DateTime, Float, MetaData, String, Table, delete, insert, select
from sqlalchemy.exc import SQLAlchemyError

__all__ = ["UNRECOGNISED", "TABLE", "CellRecord", "outcome", "ensure_table", "write_records", "read_records",
           "RecordMisconceptions"]

UNRECOGNISED = "unrecognised"
_METADATA = MetaData()
TABLE = Table(
    "attnkit_misconception", _METADATA,
    Column("assignment", String(128), primary_key=True),
    Column("notebook", String(128), primary_key=True),
    Column("student", String(128), primary_key=True),
    Column("cell", String(128), primary_key=True),
    Column("score", Float, nullable=False),
    Column("max_score", Float, nullable=False),
    Column("misconception", String(256), nullable=True),
    Column("recorded_at", DateTime, nullable=False),
)


@dataclass(frozen=True)
class CellRecord:
    """One test cell of one submission: points and what was recognised (``None``: full points)."""

    cell: str
    score: float
    max_score: float
    misconception: str | None


def outcome(score: float, max_score: float, recognised: str | None) -> str | None:
    """``None`` for a cell with its full points, else the id recognised, else :data:`UNRECOGNISED`."""
    if score >= max_score:
        return None
    return str(recognised)[:256] if recognised else UNRECOGNISED


def ensure_table(bind: Any) -> None:
    """Create the table where it is missing (``bind``: an SQLAlchemy engine; one cheap look-up when
    it exists). Two graders creating it at once are fine: the loser finds it made."""
    try:
        _METADATA.create_all(bind, checkfirst=True)
    except SQLAlchemyError:
        _METADATA.create_all(bind, checkfirst=True)  # made by another grader in between


def write_records(session: Any, assignment: str, notebook: str, student: str, cells: Iterable[CellRecord]) -> None:
    """Replace the rows of one submitted notebook (``session``: an SQLAlchemy session, e.g. a
    ``Gradebook``'s ``db``; the caller commits)."""
    ensure_table(session.get_bind())
    session.execute(delete(TABLE).where(TABLE.c.assignment == assignment, TABLE.c.notebook == notebook,
                                        TABLE.c.student == student))
    now = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)
    rows = [{"assignment": assignment, "notebook": notebook, "student": student, "cell": c.cell,
             "score": float(c.score), "max_score": float(c.max_score), "misconception": c.misconception,
             "recorded_at": now} for c in cells]
    if rows:
        session.execute(insert(TABLE), rows)


def read_records(session: Any, assignment: str) -> dict[str, dict[str, CellRecord]]:
    """``{student: {cell: CellRecord}}`` for one assignment (``{}`` if nothing was recorded yet)."""
    ensure_table(session.get_bind())
    out: dict[str, dict[str, CellRecord]] = {}
    query = select(TABLE.c.student, TABLE.c.cell, TABLE.c.score, TABLE.c.max_score, TABLE.c.misconception) \
        .where(TABLE.c.assignment == assignment)
    for student, cell, score, max_score, misconception in session.execute(query):
        out.setdefault(student, {})[cell] = CellRecord(cell, score, max_score, misconception)
    return out


class RecordMisconceptions(NbGraderPreprocessor):
    """After ``SaveAutoGrades``: one row per test cell of this submission in ``attnkit_misconception``
    (the points from the gradebook, the misconceptions from the judge)."""

    def preprocess(self, nb: Any, resources: dict) -> tuple[Any, dict]:
        from nbgrader.api import Gradebook

        info = resources.get("nbgrader", {})
        recognised = resources.get("attnkit", {}).get("misconceptions", {})
        with Gradebook(info["db_url"]) as gb:
            submission = gb.find_submission_notebook(info["notebook"], info["assignment"], info["student"])
            cells = [CellRecord(g.name, float(g.score or 0), float(g.max_score),
                                outcome(float(g.score or 0), float(g.max_score), recognised.get(g.name)))
                     for g in submission.grades if g.max_score]
            write_records(gb.db, info["assignment"], info["notebook"], info["student"], cells)
            gb.db.commit()
        return nb, resources
