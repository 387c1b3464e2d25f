"""Issue 21 end to end: the demo class graded by nbgrader's own CLI, then by `attnkit grade-class`.

Plain `nbgrader autograde` records each test cell's misconception in the gradebook's database
(RecordMisconceptions in nbgrader_config.py); `nbgrader generate_feedback` adds the lesson sections
to revisit under each miss and nothing of the hidden tests or the answer key; `grade-class` records
the same; `attnkit report` counts what the demo class was built to get wrong.
"""
from __future__ import annotations

import html
import re
from collections import Counter
from pathlib import Path

import nbformat
import pytest

from attnkit.grading.cells import grade_id, is_test
from attnkit.grading.content.answers import answer_key
from attnkit.grading.content.bugs import BUGS
from attnkit.grading.content.engine import NOT_ANSWERED
from attnkit.grading.content.questions import answer_id
from attnkit.grading.content.teaching_map import revisit_line
from attnkit.grading.course.demo import run_class
from attnkit.grading.course.misconceptions import read_records
from attnkit.grading.course.nbgrader_cli import make_course
from attnkit.grading.report import command

pytestmark = pytest.mark.nbgrader
QUIZ = "q4_qkv_math"


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    course = make_course(tmp_path_factory.mktemp("report-e2e"), [QUIZ])
    students, results, _ = run_class(course, [QUIZ])
    return course, {sid: s for (_, sid), s in students.items()}, results


def _records(course: Path) -> dict:
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        return {s: {c: r.misconception for c, r in cells.items()} for s, cells in read_records(gb.db, QUIZ).items()}


def _expected(course: Path) -> dict[str, dict[str, str | None]]:
    """What the demo class was built to get wrong, per student and test cell (the bug students: in the test)."""
    sol = nbformat.read(course / "solutions" / QUIZ / f"{QUIZ}.ipynb", as_version=4)
    cells = [grade_id(c) for c in sol.cells if is_test(c)]
    key = answer_key(sol)
    right = dict.fromkeys(cells)
    out = {"alice": right, "judy": right, "ken": right, "bob": dict.fromkeys(cells, NOT_ANSWERED)}
    out["ivan"] = {**right, **{f"test_answer_{entry['cell'].removeprefix('answer_')}":
                               answer_id(qid, next(iter(entry["wrong"]))) for qid, entry in key.items()}}
    return out


def test_autograde_records_what_each_student_got_wrong(demo):
    course, students, _ = demo
    records = _records(course)
    assert set(records) == set(students)
    expected = _expected(course)
    for name in ("alice", "judy", "ken", "bob", "ivan"):
        assert records[name] == expected[name], name
    for name in ("carol", "dan", "erin", "frank", "grace"):
        bug = students[name].about.removeprefix("bugs: ")
        wrong = {c: m for c, m in records[name].items() if m is not None}
        assert wrong == {f"test_{BUGS[bug].exercise}": bug}, name
    heidi = {m for m in records["heidi"].values() if m is not None}
    assert heidi == {NOT_ANSWERED}, "the half left blank is not answered"


def _visible_text(path: Path) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", path.read_text()))


def test_feedback_names_the_sections_to_revisit_and_no_secret(demo):
    course, students, results = demo
    sol = nbformat.read(course / "solutions" / QUIZ / f"{QUIZ}.ipynb", as_version=4)
    hidden = [line.strip() for c in sol.cells
              for block in re.findall(r"### BEGIN HIDDEN TESTS\n(.*?)### END HIDDEN TESTS", c.source, re.S)
              for line in block.splitlines() if line.strip() and not line.strip().startswith(("import", "from"))]
    key = answer_key(sol)
    messages = [m for entry in key.values() for m in entry["wrong"].values()]
    records = _records(course)
    for (_, name), result in results.items():
        text = _visible_text(result.feedback_html)
        shown = Counter(line.strip() for line in text.splitlines() if line.strip().startswith("Revisit: "))
        missed = Counter(revisit_line(QUIZ, cell) for cell, m in records[name].items() if m is not None)
        assert shown == missed, name  # one line under each miss, none under a passed cell
        assert not [h for h in hidden if h in text], name
        assert set(m for m in messages if m in text) <= set(students[name].expected_messages), name
        for entry in key.values():
            assert f"expected={entry['expected']!r}" not in text
    assert "Revisit: lesson 4, §" in _visible_text(results[QUIZ, "bob"].feedback_html)


def test_the_report_counts_the_demo_class(demo, tmp_path):
    course, students, _ = demo
    reports, paths = command.build(course, [QUIZ], tmp_path, with_csv=True)
    report = reports[0]
    records = _records(course)
    for item in report.items:
        counted = Counter(m for cells in records.values() if (m := cells[item.cell]) is not None)
        assert dict(item.wrong) == dict(counted), item.cell
        assert item.right == sum(cells[item.cell] is None for cells in records.values())
    page = paths[0].read_text()
    assert page.count('<img src="data:image/png;base64,') == 3
    assert "feedback/alice/q4_qkv_math/q4_qkv_math.html" in page, "links to the feedback pages"


def test_grade_class_records_the_same(demo):
    from attnkit.grading.course.classgrade import grade_class

    course, _, _ = demo
    before = _records(course)
    rows = grade_class(QUIZ, course, workers=2)
    assert len(rows) == len(before)
    assert _records(course) == before
