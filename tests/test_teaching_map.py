"""docs/teaching_map.md maps quiz items, lesson activities and ideas to the lesson sections that teach
them, and the lessons keep to it: nothing is used before it is taught.

Three tables (see the map's introduction): quiz items (a row per exercise and question, with a
kind for every question where the quiz's table has that column), lesson activities (a row per
``activity:<id>`` cell) and ideas (a row per idea, with a pattern that finds its use in lesson
text). A section is written ``lesson N, §M <heading>`` as the lesson's ``## M. <heading>`` reads.
"""
from __future__ import annotations

import functools
import re
from pathlib import Path

import pytest

from attnkit.activities import TAG_PREFIX, Prediction, activity
from attnkit.grading.content import teaching_map as tm
from attnkit.grading.content.catalogue import exercises, questions
from attnkit.grading.content.quizzes import QUIZ_IDS

ROOT = Path(__file__).resolve().parents[1]
LESSONS = sorted((ROOT / "lessons").glob("*.ipynb"))
KINDS = ("recall", "application")


def rows() -> list[tuple[str, str, str]]:
    return [(r.quiz, r.item, "; ".join(r.sections)) for r in tm.rows()]


def activity_rows() -> dict[str, tuple[str, str]]:
    return {i: (r.kind, "; ".join(r.sections)) for i, r in tm.activity_rows().items()}


def idea_rows() -> list[tuple[str, str, str]]:
    return [(r.idea, r.section, r.pattern) for r in tm.idea_rows()]


@functools.cache
def lesson_path(lesson: int) -> Path:
    [path] = (ROOT / "lessons").glob(f"{lesson:02d}_*.ipynb")
    return path


@functools.cache
def cells(lesson: int) -> tuple[tuple[int, str, str, tuple[str, ...]], ...]:
    """(section number, cell type, source, tags) of every cell (see teaching_map.lesson_cells)."""
    return tuple(tm.lesson_cells(lesson_path(lesson)))


@functools.cache
def headings(lesson: int) -> frozenset[str]:
    """The ``## M. <heading>`` lines of lesson N, as ``"M <heading>"``."""
    found = set()
    for _, kind, source, _ in cells(lesson):
        if kind == "markdown":
            for line in source.splitlines():
                if m := re.match(r"^## (\d+)\. (.+?)\s*$", line):
                    found.add(f"{m[1]} {m[2]}")
    return frozenset(found)


def parse(section: str) -> tuple[int, int]:
    """``lesson N, §M <heading>`` -> (N, M), asserting that the heading exists."""
    try:
        lesson, number, heading = tm.parse_section(section)
    except ValueError as error:
        raise AssertionError(str(error)) from None
    assert f"{number} {heading}" in headings(lesson), \
        f"lesson {lesson} has no heading '## {number}. {heading}' (renamed? rename it in docs/teaching_map.md)"
    return lesson, number


@functools.cache
def quiz_items(quiz: str) -> frozenset[str]:
    return frozenset({e.name for e in exercises(quiz)} | set(questions(quiz)))


def activities() -> list[tuple[int, int, str]]:
    """(lesson, section, activity id) of every activity cell of every lesson."""
    found = []
    for path in LESSONS:
        lesson = int(path.stem.split("_")[0])
        for section, _, _, tags in cells(lesson):
            found += [(lesson, section, t[len(TAG_PREFIX):]) for t in tags if t.startswith(TAG_PREFIX)]
    return found


# quiz items -------------------------------------------------------------------------------------

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


def test_every_section_exists_and_no_quiz_cites_a_later_lesson():
    problems = []
    for quiz, item, sections in rows():
        for section in sections.split("; "):
            try:
                lesson, _ = parse(section)
            except AssertionError as error:
                problems.append(f"{quiz} {item}: {error}")
                continue
            if lesson > int(quiz[1:].split("_")[0]):
                problems.append(f"{quiz} {item}: cites lesson {lesson}, taught after the quiz")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("quiz", QUIZ_IDS)
def test_every_quiz_item_has_its_kind(quiz):
    kinds = {r.item: r.kind for r in tm.rows() if r.quiz == quiz}
    for item in quiz_items(quiz):
        want = ("exercise",) if item in {e.name for e in exercises(quiz)} else KINDS
        assert kinds.get(item) in want, f"{quiz} {item}: kind {kinds.get(item)!r}, expected one of {want}"


def test_two_thirds_of_the_mapped_questions_make_the_learner_apply_an_idea():
    kinds = [r.kind for r in tm.rows() if r.kind in KINDS]
    assert len(kinds) >= 12, f"only {len(kinds)} questions carry a kind"
    assert kinds.count("application") * 3 >= 2 * len(kinds), \
        f"{kinds.count('application')} of {len(kinds)} questions are application: at least two thirds should be"


# lesson activities --------------------------------------------------------------------------------

def test_every_activity_has_a_row_of_its_kind_and_no_row_is_stale():
    mapped, found = activity_rows(), {a for _, _, a in activities()}
    assert not sorted(found - set(mapped)), f"activities without a row in the map: {sorted(found - set(mapped))}"
    assert not sorted(set(mapped) - found), f"rows for activities no lesson has: {sorted(set(mapped) - found)}"
    for activity_id, (kind, _) in mapped.items():
        entry = activity(activity_id)
        actual = "knob" if isinstance(entry, Prediction) and entry.knob else \
            "predict" if isinstance(entry, Prediction) else "coding"
        assert kind == actual, f"{activity_id} is a {actual} activity, the map says {kind}"


@pytest.mark.parametrize("lesson, section, activity_id", activities(), ids=lambda x: str(x))
def test_an_activity_uses_only_what_its_section_or_an_earlier_one_taught(lesson, section, activity_id):
    _, sections = activity_rows()[activity_id]
    for cited in sections.split("; "):
        assert parse(cited) <= (lesson, section), \
            f"{activity_id} (lesson {lesson}, §{section}) cites {cited!r}, which comes later"


def test_no_prediction_is_explained_between_the_guess_and_its_reveal():
    """The reveal cell comes before any prose: a Markdown cell in between gives the answer away."""
    for path in LESSONS:
        lesson, nb_cells = int(path.stem.split("_")[0]), cells(int(path.stem.split("_")[0]))
        for index, (_, _, _, tags) in enumerate(nb_cells):
            for tag in (t for t in tags if t.startswith(TAG_PREFIX)):
                activity_id = tag[len(TAG_PREFIX):]
                if not isinstance(activity(activity_id), Prediction):
                    continue
                reveal = next(i for i in range(index, len(nb_cells)) if f'reveal("{activity_id}"' in nb_cells[i][2])
                prose = [i for i in range(index, reveal) if nb_cells[i][1] == "markdown"]
                assert not prose, f"lesson {lesson}: {activity_id} has prose between the guess and the reveal " \
                                  f"(cells {prose}): move it after the reveal"


# ideas ----------------------------------------------------------------------------------------------

def test_the_ideas_table_has_rows_and_sections_that_exist():
    ideas = idea_rows()
    assert len(ideas) >= 30, f"the ideas table has only {len(ideas)} rows"
    for _, section, pattern in ideas:
        parse(section)
        re.compile(pattern)


@pytest.mark.parametrize("idea, section, pattern", idea_rows(), ids=lambda x: x if " " in str(x) else None)
def test_no_idea_is_used_before_the_section_that_teaches_it(idea, section, pattern):
    taught, regex = parse(section), re.compile(pattern, re.I)
    used = [(lesson, number, kind, source) for lesson in range(1, len(LESSONS) + 1)
            for number, kind, source, _ in cells(lesson) if number > 0 and regex.search(source)]
    early = [(lesson, number, regex.search(source)[0]) for lesson, number, _, source in used
             if (lesson, number) < taught]
    assert not early, f"{idea!r} is taught in {section} but used before, in " + \
        ", ".join(f"lesson {lesson} §{number} ({match!r})" for lesson, number, match in early)
    assert any((lesson, number) == taught for lesson, number, _, _ in used), \
        f"{idea!r}: {section} should mention it (pattern {pattern!r}), but no cell there matches"


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.stem)
def test_every_lesson_keeps_to_one_main_idea(path):
    """At most ~2,000 words of prose and ~8 new ideas in every lesson, and every lesson has its ideas mapped."""
    lesson = int(path.stem.split("_")[0])
    count = sum(parse(section)[0] == lesson for _, section, _ in idea_rows())
    words = tm.prose_words(path)
    assert count >= 1, f"lesson {lesson} has no row in the ideas table of docs/teaching_map.md"
    assert words <= tm.MAX_WORDS, f"lesson {lesson} has {words} words of prose (at most {tm.MAX_WORDS}): trim"
    assert count <= tm.MAX_IDEAS, f"lesson {lesson} teaches {count} new ideas (at most {tm.MAX_IDEAS}): move some"


def test_the_parser_reads_escaped_pipes_and_the_kind_column(tmp_path):
    """The one parser (attnkit.grading.content.teaching_map) on a small map: three tables, one of each kind."""
    sample = tmp_path / "map.md"
    sample.write_text("""# map

## Quiz 1: x

| quiz | item | taught in | what | kind |
|---|---|---|---|---|
| q1_x | `f` | lesson 1, §2 A; lesson 1, §3 B | a \\| b | exercise |
| q1_x | `q1_y` | lesson 1, §3 B | c | application |

## Lesson activities

| activity | kind | taught in | what |
|---|---|---|---|
| `lesson1.z` | knob | lesson 1, §2 A | d |

## Ideas: where each is taught

| idea | taught in | pattern |
|---|---|---|
| pipes | lesson 1, §2 A | `a\\|b` |
""")
    assert tm.rows(sample) == [tm.Row("q1_x", "f", ("lesson 1, §2 A", "lesson 1, §3 B"), "exercise"),
                               tm.Row("q1_x", "q1_y", ("lesson 1, §3 B",), "application")]
    assert tm.activity_rows(sample) == {"lesson1.z": tm.ActivityRow("lesson1.z", "knob", ("lesson 1, §2 A",))}
    assert tm.idea_rows(sample) == [tm.IdeaRow("pipes", "lesson 1, §2 A", "a|b")]
    assert tm.idea_rows(sample)[0].lesson == 1
    with pytest.raises(ValueError):
        tm.parse_section("lesson one, section 2")
