"""The teaching map (docs/teaching_map.md): which lesson sections teach each quiz item, activity and idea.

The one reader of the map for everything that points a learner or an instructor back to a lesson,
or checks that nothing is used before it is taught: the misconception report
(:mod:`attnkit.grading.report`), the "revisit" lines of the feedback pages
(:mod:`attnkit.grading.course.revisit`), ``tests/test_teaching_map.py`` and
``scripts/course_stats.py``. The map has three kinds of table, each under its own ``## `` heading:

* ``## Quiz N: ...``: ``| q4_qkv_math | `softmax` | lesson 4, §1 <heading>; lesson 4, §4 <heading> | what | kind |``:
  a quiz, an item (an exercise by its function name, a question by its id), the sections separated
  by ``; ``, and (where the table has that column) the kind: ``exercise``, ``recall`` or ``application``;
* ``## Lesson activities``: ``| `lesson4.my_attention` | coding | <sections> | what |``;
* ``## Ideas: ...``: ``| <idea> | lesson N, §M <heading> | `<regex>` |``: the pattern finds the
  idea's use in lesson text (``\\|`` in the table is ``|`` in the pattern).

A quiz's test cells are ``test_<exercise>`` and ``test_answer_<x>`` (question ``q<N>_<x>``):
:func:`item_of_cell` maps one to the other. The lessons' own text, cut by section, is read by
:func:`lesson_cells`; :data:`MAX_WORDS` and :data:`MAX_IDEAS` are the load a lesson may carry.
"""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path

__all__ = ["MAP", "LESSONS", "Row", "ActivityRow", "IdeaRow", "rows", "activity_rows", "idea_rows", "sections",
           "item_of_cell", "revisit_line", "parse_section", "lesson_cells", "prose_words", "SECTION", "REVISIT",
           "MAX_WORDS", "MAX_IDEAS"]

ROOT = Path(__file__).resolve().parents[3]
MAP = ROOT / "docs" / "teaching_map.md"
LESSONS = ROOT / "lessons"
SECTION = re.compile(r"^lesson (?P<lesson>\d+), §(?P<number>\d+) (?P<heading>.+)$")
REVISIT = "Revisit: "
MAX_WORDS, MAX_IDEAS = 2000, 8  # one lesson, one main idea: prose words and new ideas per lesson
_CELL = re.compile(r"(?<!\\)\|")  # a table's column separator; "\|" is a pipe inside a cell


@dataclass(frozen=True)
class Row:
    """One quiz item and the lesson sections behind it (``"lesson 4, §1 <heading>"`` each)."""

    quiz: str
    item: str
    sections: tuple[str, ...]
    kind: str = ""  # "exercise", "recall" or "application"; "" where the quiz's table has no kind column


@dataclass(frozen=True)
class ActivityRow:
    """One lesson activity (``lesson<N>.<name>``): its kind (coding, predict, knob) and sections."""

    id: str
    kind: str
    sections: tuple[str, ...]


@dataclass(frozen=True)
class IdeaRow:
    """One idea, the section that teaches it and the regular expression that finds its use."""

    idea: str
    section: str
    pattern: str

    @property
    def lesson(self) -> int:
        return parse_section(self.section)[0]


def _cells(line: str) -> list[str]:
    """The cells of one table line, stripped, with ``\\|`` unescaped and code spans unwrapped."""
    cells = [c.strip().replace("\\|", "|") for c in _CELL.split(line.strip())[1:-1]]
    return [c[1:-1] if len(c) > 1 and c[0] == c[-1] == "`" else c for c in cells]


@functools.cache
def _tables(path: str) -> tuple[tuple[str, tuple[str, ...], tuple[tuple[str, ...], ...]], ...]:
    """(``## `` heading, header cells, body rows) of every table in the map; () where it is not shipped."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError:
        return ()
    found, heading = [], ""
    header: tuple[str, ...] | None = None
    body: list[tuple[str, ...]] = []
    for line in text.splitlines() + [""]:
        if line.startswith("## "):
            heading = line[3:].strip()
        if line.startswith("|"):
            cells = tuple(_cells(line))
            if header is None:
                header = cells
            elif not all(set(c) <= set("-: ") for c in cells):  # the |---| line under the header
                body.append(cells)
        elif header is not None:
            found.append((heading, header, tuple(body)))
            header, body = None, []
    return tuple(found)


def _split(sections: str) -> tuple[str, ...]:
    return tuple(s.strip() for s in sections.split("; "))


def rows(path: Path | str | None = None) -> list[Row]:
    """Every quiz row of the map, in file order; ``[]`` where the map is not shipped (an installed package)."""
    found = []
    for heading, header, body in _tables(str(path or MAP)):
        if heading.startswith("Quiz "):
            kind = header.index("kind") if "kind" in header else None
            found += [Row(r[0], r[1], _split(r[2]), r[kind] if kind is not None and kind < len(r) else "")
                      for r in body if len(r) >= 3]
    return found


def activity_rows(path: Path | str | None = None) -> dict[str, ActivityRow]:
    """The rows of ``## Lesson activities`` by activity id."""
    return {r[0]: ActivityRow(r[0], r[1], _split(r[2])) for heading, _, body in _tables(str(path or MAP))
            if heading == "Lesson activities" for r in body if len(r) >= 3}


def idea_rows(path: Path | str | None = None) -> list[IdeaRow]:
    """The rows of the ideas table (``## Ideas: ...``), in file order."""
    return [IdeaRow(r[0], r[1], r[2]) for heading, _, body in _tables(str(path or MAP))
            if heading.startswith("Ideas") for r in body if len(r) >= 3]


def parse_section(section: str) -> tuple[int, int, str]:
    """``"lesson N, §M <heading>"`` -> (N, M, heading); ValueError if it is not written that way."""
    m = SECTION.match(section.strip())
    if not m:
        raise ValueError(f"{section!r} is not 'lesson N, §M <heading>'")
    return int(m["lesson"]), int(m["number"]), m["heading"]


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


# the lessons the map points into -------------------------------------------------------------------

def lesson_cells(path: Path | str) -> list[tuple[int, str, str, tuple[str, ...]]]:
    """(section number, cell type, source, tags) of every cell of a lesson notebook; section 0 before
    the first ``## 1.`` heading. A Markdown cell with a heading inside is cut there: the text above
    the heading belongs to the section before."""
    import nbformat

    section, out = 0, []
    for cell in nbformat.read(str(path), as_version=4).cells:
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
    return out


def prose_words(path: Path | str) -> int:
    """Words of a lesson's Markdown cells (LaTeX and code spans count as words)."""
    return sum(len(re.findall(r"\S+", source)) for _, kind, source, _ in lesson_cells(path) if kind == "markdown")
