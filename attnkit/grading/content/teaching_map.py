"""The teaching map (docs/teaching_map.md): which lesson sections teach each quiz item.

One reader of the map for everything that points a learner or an instructor back to a lesson: the
misconception report (:mod:`attnkit.grading.report`), the "revisit" lines of the feedback pages
(:mod:`attnkit.grading.course.revisit`) and ``tests/test_teaching_map.py``, which proves every
section named here exists.

A row reads ``| q4_qkv_math | `softmax` | lesson 4, §1 <heading>; lesson 4, §4 <heading> | ... |``:
a quiz, an item (an exercise by its function name, a question by its id) and the sections,
separated by ``; ``. A quiz's test cells are ``test_<exercise>`` and ``test_answer_<x>`` (question
``q<N>_<x>``): :func:`item_of_cell` maps one to the other.
"""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path

__all__ = ["MAP", "Row", "rows", "sections", "item_of_cell", "revisit_line", "SECTION", "REVISIT"]

MAP = Path(__file__).resolve().parents[3] / "docs" / "teaching_map.md"
ROW = re.compile(r"^\|\s*(?P<quiz>q\d+_\w+)\s*\|\s*`(?P<item>[\w.]+)`\s*\|\s*(?P<sections>[^|]+?)\s*\|", re.M)
SECTION = re.compile(r"^lesson (?P<lesson>\d+), §(?P<number>\d+) (?P<heading>.+)$")
REVISIT = "Revisit: "


@dataclass(frozen=True)
class Row:
    """One quiz item and the lesson sections behind it (``"lesson 4, §1 <heading>"`` each)."""

    quiz: str
    item: str
    sections: tuple[str, ...]


def rows(path: Path | str | None = None) -> list[Row]:
    """Every row of the map, in file order; ``[]`` where the map is not shipped (an installed package)."""
    return list(_rows(str(path or MAP)))


@functools.cache
def _rows(path: str) -> tuple[Row, ...]:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError:
        return ()
    return tuple(Row(m["quiz"], m["item"], tuple(s.strip() for s in m["sections"].split("; ")))
                 for m in ROW.finditer(text))


def sections(quiz: str, item: str) -> tuple[str, ...]:
    """The lesson sections that teach ``item`` of ``quiz`` (``()`` if the map has no row for it)."""
    return next((r.sections for r in rows() if r.quiz == quiz and r.item == item), ())


def item_of_cell(quiz: str, grade_id: str) -> str:
    """The quiz item a test cell checks: ``test_softmax`` -> ``softmax``, ``test_answer_scale_divisor``
    -> the question ``q4_scale_divisor``; the grade id itself when no declared item matches."""
    from attnkit.grading.content.catalogue import exercises, questions

    name = grade_id.removeprefix("test_")
    for question in questions(quiz).values():
        if question.variable == name:
            return question.id
    return name if any(e.name == name for e in exercises(quiz)) else grade_id


def revisit_line(quiz: str, grade_id: str) -> str | None:
    """What a learner who missed a test cell reads under it in the feedback page:
    ``"Revisit: lesson N, §M <heading>; ..."`` (``None``: the map has no row for its item)."""
    found = sections(quiz, item_of_cell(quiz, grade_id))
    return REVISIT + "; ".join(found) if found else None
