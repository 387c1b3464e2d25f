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

import nbformat
import pytest

from attnkit.activities import TAG_PREFIX, Prediction, activity
from attnkit.grading.content.catalogue import exercises, questions
from attnkit.grading.content.quizzes import QUIZ_IDS

ROOT = Path(__file__).resolve().parents[1]
MAP = ROOT / "docs" / "teaching_map.md"
LESSONS = sorted((ROOT / "lessons").glob("*.ipynb"))
ROW = re.compile(r"^\|\s*(?P<quiz>q\d+_\w+)\s*\|\s*`(?P<item>[\w.]+)`\s*\|\s*(?P<sections>[^|]+?)\s*\|", re.M)
ACTIVITY_ROW = re.compile(r"^\|\s*`(?P<id>lesson\d+\.\w+)`\s*\|\s*(?P<kind>\w+)\s*\|\s*(?P<sections>[^|]+?)\s*\|", re.M)
IDEA_ROW = re.compile(r"^\|\s*(?P<idea>[^|`]+?)\s*\|\s*(?P<section>lesson \d+, §[^|]+?)\s*\|"
                      r"\s*`(?P<pattern>[^`]+)`\s*\|", re.M)
SECTION = re.compile(r"^lesson (?P<lesson>\d+), §(?P<number>\d+) (?P<heading>.+)$")
KINDS = ("recall", "application")
MAX_WORDS, MAX_IDEAS = 2050, 9  # "at most ~2,000 words of prose and ~8 new ideas per lesson"


def text() -> str:
    return MAP.read_text()


def part(title: str) -> str:
    """The text of the map's ``## <title>`` section."""
    found = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", text(), re.S | re.M)
    assert found, f"docs/teaching_map.md has no section '## {title}'"
    return found[1]


def rows() -> list[tuple[str, str, str]]:
    return [(m["quiz"], m["item"], m["sections"]) for m in ROW.finditer(text())]


def activity_rows() -> dict[str, tuple[str, str]]:
    return {m["id"]: (m["kind"], m["sections"]) for m in ACTIVITY_ROW.finditer(part("Lesson activities"))}


def idea_rows() -> list[tuple[str, str, str]]:
    return [(m["idea"], m["section"], m["pattern"].replace("\\|", "|"))
            for m in IDEA_ROW.finditer(part("Ideas: where each is taught, and the pattern that finds its use"))]


@functools.cache
def lesson_path(lesson: int) -> Path:
    [path] = (ROOT / "lessons").glob(f"{lesson:02d}_*.ipynb")
    return path


@functools.cache
def cells(lesson: int) -> tuple[tuple[int, str, str, tuple[str, ...]], ...]:
    """(section number, cell type, source, tags) of every cell; 0 before the first ``## 1.`` heading.

    A Markdown cell with a heading inside is cut there: the text above it belongs to the section before.
    """
    section, out = 0, []
    for cell in nbformat.read(lesson_path(lesson), as_version=4).cells:
        tags = tuple(cell.get("metadata", {}).get("tags", []))
        if cell.cell_type != "markdown":
            out.append((section, cell.cell_type, cell.source, tags))
            continue
        piece: list[str] = []
        for line in cell.source.splitlines():
            if m := re.match(r"^## (\d+)\. ", line):
                if piece:
                    out.append((section, "markdown", "\n".join(piece), tags))
                section, piece = int(m[1]), []
            piece.append(line)
        out.append((section, "markdown", "\n".join(piece), tags))
    return tuple(out)


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
    m = SECTION.match(section.strip())
    assert m, f"{section!r} is not 'lesson N, §M <heading>'"
    lesson, number = int(m["lesson"]), int(m["number"])
    assert f"{number} {m['heading']}" in headings(lesson), \
        f"lesson {lesson} has no heading '## {number}. {m['heading']}' (renamed? rename it in docs/teaching_map.md)"
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
def test_questions_have_a_kind_where_the_quiz_table_has_that_column(quiz):
    table = re.search(rf"^\| quiz \|.*\n(?:\|.*\n)*?(?=(?:\|\s*{quiz}\s*\|))", text(), re.M)
    header = table[0].splitlines()[0] if table else ""
    if "| kind |" not in header:
        pytest.skip(f"{quiz}'s table has no kind column")
    row = re.compile(rf"^\|\s*{quiz}\s*\|\s*`([\w.]+)`\s*\|.*\|\s*(\w+)\s*\|\s*$", re.M)
    kinds = {m[1]: m[2] for m in row.finditer(text())}
    for item in quiz_items(quiz):
        want = ("exercise",) if item in {e.name for e in exercises(quiz)} else KINDS
        assert kinds.get(item) in want, f"{quiz} {item}: kind {kinds.get(item)!r}, expected one of {want}"


def test_two_thirds_of_the_mapped_questions_make_the_learner_apply_an_idea():
    kinds = [m[1] for m in re.finditer(r"^\|\s*q\d+_\w+\s*\|\s*`q\d+_\w+`\s*\|.*\|\s*(recall|application)\s*\|\s*$",
                                       text(), re.M)]
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


def test_every_mapped_lesson_keeps_to_one_main_idea():
    """At most ~2,000 words of prose and ~8 new ideas in each lesson that has rows in the ideas table."""
    ideas: dict[int, int] = {}
    for _, section, _ in idea_rows():
        ideas[parse(section)[0]] = ideas.get(parse(section)[0], 0) + 1
    for lesson, count in sorted(ideas.items()):
        words = sum(len(re.findall(r"\S+", source)) for _, kind, source, _ in cells(lesson) if kind == "markdown")
        assert words <= MAX_WORDS, f"lesson {lesson} has {words} words of prose: move or trim"
        assert count <= MAX_IDEAS, f"lesson {lesson} teaches {count} new ideas: move some to another lesson"
