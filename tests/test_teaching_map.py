"""docs/teaching_map.md maps every quiz item to lesson sections that exist: teach before you test."""
from __future__ import annotations

import functools
import re
from pathlib import Path

import nbformat
import pytest

from attnkit.grading.content import teaching_map
from attnkit.grading.content.catalogue import exercises, questions
from attnkit.grading.content.quizzes import QUIZ_IDS
from attnkit.grading.content.teaching_map import SECTION

ROOT = Path(__file__).resolve().parents[1]


def rows() -> list[tuple[str, str, tuple[str, ...]]]:
    return [(r.quiz, r.item, r.sections) for r in teaching_map.rows(ROOT / "docs" / "teaching_map.md")]


@functools.cache
def headings(lesson: int) -> frozenset[str]:
    """The ``## M. <heading>`` lines of lesson N, as ``"M <heading>"``."""
    [path] = (ROOT / "lessons").glob(f"{lesson:02d}_*.ipynb")
    found = set()
    for cell in nbformat.read(path, as_version=4).cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if m := re.match(r"^## (\d+)\. (.+?)\s*$", line):
                    found.add(f"{m[1]} {m[2]}")
    return frozenset(found)


@functools.cache
def quiz_items(quiz: str) -> frozenset[str]:
    return frozenset({e.name for e in exercises(quiz)} | set(questions(quiz)))


def test_the_map_has_rows():
    assert len(rows()) >= 6 * len(QUIZ_IDS) // 2, "docs/teaching_map.md has too few rows to cover the quizzes"


@pytest.mark.parametrize("quiz", QUIZ_IDS)
def test_every_quiz_item_has_a_lesson_section(quiz):
    mapped = {item for q, item, _ in rows() if q == quiz}
    missing = sorted(quiz_items(quiz) - mapped)
    assert not missing, f"{quiz}: {missing} have no row in docs/teaching_map.md: which lesson section teaches them?"


def test_every_row_names_a_declared_item():
    stale = [(q, item) for q, item, _ in rows() if q not in QUIZ_IDS or item not in quiz_items(q)]
    assert not stale, f"docs/teaching_map.md has rows for items no quiz declares: {stale}"


def test_every_section_exists():
    problems = []
    for quiz, item, sections in rows():
        for section in sections:
            m = SECTION.match(section)
            if m is None:
                problems.append(f"{quiz} {item}: {section!r} is not 'lesson N, §M <heading>'")
            elif f"{m['number']} {m['heading']}" not in headings(int(m["lesson"])):
                problems.append(f"{quiz} {item}: lesson {m['lesson']} has no heading "
                                f"'## {m['number']}. {m['heading']}'")
    assert not problems, "\n".join(problems)
