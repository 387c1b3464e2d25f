"""Issue 21: the misconception recorded per test cell, and `attnkit report` counting them.

A synthetic class of 240 students for quiz 4 (attnkit/grading/course/synthetic.py): each test cell
answered right, with a catalogued bug, a typical wrong answer, a new uncatalogued mistake, or not at
all, each variant judged by the quiz's own test cell (hidden tests included) in this process; the
gradebook is written directly (grading 240 notebooks through nbgrader would take minutes). The
report's counts must equal the injected ones exactly. tests/test_report_e2e.py grades a real class
through nbgrader once; tests/test_report_browser.py opens the page in Chromium.
"""
from __future__ import annotations

import csv
import html
import html.parser
import io
import re
import shutil
from collections import Counter
from pathlib import Path

import nbformat
import pytest

from attnkit.grading.content import teaching_map
from attnkit.grading.content.bugs import BUGS, bugs_for
from attnkit.grading.content.engine import NOT_ANSWERED, CheckFailed, check
from attnkit.grading.content.questions import answer_id, check_choice, check_number
from attnkit.grading.content.teaching_map import revisit_line
from attnkit.grading.course import synthetic
from attnkit.grading.course.misconceptions import UNRECOGNISED, read_records
from attnkit.grading.course.revisit import RevisitSections
from attnkit.grading.report import command
from attnkit.grading.report.collect import collect
from attnkit.grading.report.export import write_csv

ROOT = Path(__file__).resolve().parents[1]
QUIZ = "q4_qkv_math"
SIZE = 210
HOSTILE_ID = '<img src=x onerror="alert(1)">&amp;'
HOSTILE_FLAG = "cell 3, line 1: imports subprocess (<script>alert('flag')</script>)"


def make_course(tmp: Path) -> Path:
    course = tmp / "course"
    shutil.copytree(ROOT / "solutions" / QUIZ, course / "solutions" / QUIZ)
    shutil.copy(ROOT / "nbgrader_config.py", course / "nbgrader_config.py")
    return course


@pytest.fixture(scope="module")
def klass(tmp_path_factory):
    """(course, students): 240 synthetic students in course/gradebook.db, one hostile id, statuses."""
    course = make_course(tmp_path_factory.mktemp("report"))
    sol = synthetic.solution(course, QUIZ)
    students = synthetic.synthetic_class(sol, QUIZ, SIZE, seed=21, ids=[HOSTILE_ID, "timmy", "flo"])
    students[0].status, students[0].flags = "flagged", [HOSTILE_FLAG]
    students[1].status = "timed out"
    students[2].status, students[2].flags = "flagged", ["cell 2, line 4: patches a library (np.allclose = ...)"]
    synthetic.write_gradebook(f"sqlite:///{course / 'gradebook.db'}", sol, QUIZ, students)
    for name in ("timmy", "s0100"):  # two feedback pages to link to
        page = course / "feedback" / name / QUIZ / f"{QUIZ}.html"
        page.parent.mkdir(parents=True)
        page.write_text("<!DOCTYPE html><html lang='en'><title>feedback</title></html>")
    return course, students


@pytest.fixture(scope="module")
def built(klass):
    course, students = klass
    reports, paths = command.build(course, [QUIZ], with_csv=True)
    return reports[0], paths


def test_the_checks_name_what_was_injected(klass):
    """Every catalogued bug and typical wrong answer is recognised as itself by the quiz's test cell;
    a new mistake is "unrecognised"; an answer left as handed out is "not_answered"."""
    _, students = klass
    seen = {v for s in students for v in s.answers.values()}
    for variant in seen:
        if variant.planned is None:
            assert variant.passed and variant.recognised is None, variant
        elif variant.planned == synthetic.NEW_MISTAKE:
            assert (variant.passed, variant.recognised) == (False, UNRECOGNISED), variant
        else:
            assert (variant.passed, variant.recognised) == (False, variant.planned), variant
    planned = {v.planned for v in seen}
    assert {b.id for b in bugs_for(QUIZ)} <= planned, "every catalogued bug of the quiz is in the class"
    assert {NOT_ANSWERED, synthetic.NEW_MISTAKE} <= planned and any("=" in str(p) for p in planned)


def test_the_report_counts_equal_the_injected_ones(klass, built):
    _, students = klass
    report, _ = built
    expected = synthetic.expected_counts(students)
    assert len(report.submissions) == SIZE
    assert [i.cell for i in report.items] == list(expected), "every test cell, in notebook order"
    for item in report.items:
        got = Counter({"right": item.right, **item.wrong})
        assert got == expected[item.cell], item.cell
        assert item.total == SIZE
    unrecognised = sum(i.wrong[UNRECOGNISED] for i in report.items)
    assert unrecognised == sum(v.planned == synthetic.NEW_MISTAKE for s in students for v in s.answers.values()) > 0


def test_the_records_are_in_the_gradebook_next_to_the_points(klass):
    from nbgrader.api import Gradebook

    course, students = klass
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        records = read_records(gb.db, QUIZ)
    assert set(records) == {s.id for s in students}
    for student in students[:20]:
        for cell, variant in student.answers.items():
            record = records[student.id][cell]
            assert (record.score == record.max_score) == variant.passed
            assert record.misconception == (None if variant.passed else variant.recognised)


def test_statuses_scores_and_lesson_sections(klass, built):
    _, students = klass
    report, _ = built
    assert report.statuses == Counter({"graded": SIZE - 3, "flagged": 2, "timed out": 1})
    flagged = next(s for s in report.submissions if s.student == HOSTILE_ID)
    assert flagged.flags == [HOSTILE_FLAG]
    assert sorted(report.scores) == sorted(
        sum(report.items[[i.cell for i in report.items].index(c)].points for c, v in s.answers.items() if v.passed)
        for s in students)
    softmax = next(i for i in report.items if i.item == "softmax")
    assert softmax.sections == teaching_map.sections(QUIZ, "softmax") and softmax.sections[0].startswith("lesson 4, §")
    question = next(i for i in report.items if i.cell == "test_answer_softmax_axis")
    assert question.item == "q4_softmax_axis" and question.sections
    for bug in bugs_for(QUIZ):
        assert report.messages[bug.id] == bug.message


def test_the_page_escapes_what_a_student_wrote(built):
    _, paths = built
    page = paths[0].read_text()
    assert "onerror" not in page.replace("onerror=&quot;", "")  # only the escaped form
    assert '<img src=x' not in page and "<script>" not in page
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;&amp;amp;" in page
    assert "&lt;script&gt;alert(&#x27;flag&#x27;)&lt;/script&gt;" in page


class _Page(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def test_the_page_is_self_contained_and_accessible(built):
    report, paths = built
    page = paths[0].read_text()
    parsed = _Page()
    parsed.feed(page)
    tags = parsed.tags
    assert tags[0] == ("html", {"lang": "en"}) and "<title>q4_qkv_math: what the class got wrong</title>" in page
    assert [t for t, _ in tags].count("h1") == 1 and {"header", "nav", "main", "footer"} <= {t for t, _ in tags}
    images = [a for t, a in tags if t == "img"]
    assert len(images) == 3
    for img in images:
        assert img["src"].startswith("data:image/png;base64,")
        assert len(img["alt"]) > 80 and re.search(r"\d", img["alt"])
    items_alt = images[0]["alt"]
    for item in report.items:
        assert f"{item.item}: {item.right} right, " in items_alt
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page), "nothing from the network"
    assert all(a.get("scope") in ("col", "row") for t, a in tags if t == "th")
    assert "script" not in {t for t, _ in tags} and "default-src 'none'" in page
    links = [a["href"] for t, a in tags if t == "a" and not a["href"].startswith("#")]
    # timmy (timed out) is linked from the review list and the full list, s0100 from the full list only
    assert sorted(links) == ["../feedback/s0100/q4_qkv_math/q4_qkv_math.html",
                             "../feedback/timmy/q4_qkv_math/q4_qkv_math.html",
                             "../feedback/timmy/q4_qkv_math/q4_qkv_math.html"]
    assert (paths[0].parent / links[0]).resolve().is_file()


def test_the_csv_carries_the_same_numbers(built):
    report, paths = built
    rows = list(csv.DictReader(io.StringIO(paths[1].read_text())))
    items = [r for r in rows if r["kind"] == "item"]
    for item in report.items:
        mine = {r["outcome"]: int(r["students"]) for r in items if r["test_cell"] == item.cell}
        assert mine == {"right": item.right, **item.wrong}
    assert {r["outcome"]: int(r["students"]) for r in rows if r["kind"] == "status"} == dict(report.statuses)
    assert sum(int(r["students"]) for r in rows if r["kind"] == "score") == SIZE


def test_a_csv_field_never_starts_a_formula():
    from attnkit.grading.report.collect import QuizReport

    report = QuizReport("=cmd|' /C calc'!A0", [], [], 0.0)
    lines = write_csv([report]).splitlines()[1:]
    assert lines and all(line.startswith("'=cmd") for line in lines)


def test_the_command_prints_a_summary_and_writes_the_pages(klass, capsys, tmp_path):
    from attnkit.cli import main

    course, _ = klass
    assert main(["report", QUIZ, "--course", str(course), "--out", str(tmp_path), "--csv"]) == 0
    out = capsys.readouterr().out
    assert f"{QUIZ}: {SIZE} submissions" in out and "revisit: lesson 4, §" in out and UNRECOGNISED in out
    assert (tmp_path / f"{QUIZ}.html").is_file() and (tmp_path / f"{QUIZ}.csv").is_file()
    assert main(["report", "--all", "--course", str(course), "--out", str(tmp_path / "all")]) == 0
    assert (tmp_path / "all" / "index.html").is_file() and (tmp_path / "all" / f"{QUIZ}.html").is_file()
    assert main(["report", QUIZ, "--course", str(tmp_path / "nowhere")]) == 1


@pytest.mark.slow  # a new nbgrader gradebook runs alembic in a subprocess: seconds, tens of seconds under load
def test_the_same_class_in_postgresql(klass, postgres):
    """The records live in the course database, whatever it is: PostgreSQL as in the queue's gradebook."""
    pytest.importorskip("psycopg")
    from nbgrader.api import Gradebook

    course, students = klass
    url = postgres.createdb("attnkit_report_test")
    synthetic.write_gradebook(url, synthetic.solution(course, QUIZ), QUIZ, students)
    with Gradebook(url) as gb:
        report = collect(gb.db, QUIZ, course)
    expected = synthetic.expected_counts(students)
    for item in report.items:
        assert Counter({"right": item.right, **item.wrong}) == expected[item.cell]


# the checks name what they recognise ------------------------------------------------------------

def test_check_failed_carries_the_misconception():
    for bug in bugs_for(QUIZ, "softmax")[:3]:
        with pytest.raises(CheckFailed) as caught:
            check(BUGS[bug.id].function(), "softmax", seed=41)
        assert caught.value.misconception == bug.id
    with pytest.raises(CheckFailed) as caught:
        check(lambda x, axis=-1: x * 0 + 0.5, "softmax")
    assert caught.value.misconception is None
    with pytest.raises(CheckFailed) as caught:
        check(synthetic._not_written, "softmax")
    assert caught.value.misconception == NOT_ANSWERED


def test_a_typical_wrong_answer_has_an_id_that_is_the_learners_answer():
    with pytest.raises(CheckFailed) as caught:
        check_choice(" A ", "q4_softmax_axis", expected="b", wrong={"a": "rows, not columns"})
    assert caught.value.misconception == answer_id("q4_softmax_axis", "a") == "q4_softmax_axis=a"
    with pytest.raises(CheckFailed) as caught:
        check_choice("c", "q4_softmax_axis", expected="b", wrong={"a": "rows, not columns"})
    assert caught.value.misconception is None
    with pytest.raises(CheckFailed) as caught:
        check_number(75, "q4_scale_divisor", expected=51.4, wrong={75: "the newsletter's figure"})
    assert caught.value.misconception == "q4_scale_divisor=75"
    with pytest.raises(CheckFailed) as caught:
        check_number(..., "q4_scale_divisor", expected=51.4)
    assert caught.value.misconception == NOT_ANSWERED


# the learner's feedback: the sections to revisit ------------------------------------------------

def test_feedback_names_the_sections_to_revisit_for_each_miss_only():
    sol = nbformat.read(ROOT / "solutions" / QUIZ / f"{QUIZ}.ipynb", as_version=4)
    cells = [c for c in sol.cells if c.get("metadata", {}).get("nbgrader", {}).get("grade")
             and not c.metadata.nbgrader.get("solution")]
    missed, passed = nbformat.from_dict(cells[0]), nbformat.from_dict(cells[1])
    missed.metadata.nbgrader.update(score=0, points=2)
    passed.metadata.nbgrader.update(score=4, points=4)
    resources = {"nbgrader": {"assignment": QUIZ}}
    pre = RevisitSections()
    out_missed, _ = pre.preprocess_cell(missed, resources, 0)
    out_passed, _ = pre.preprocess_cell(passed, resources, 1)
    line = revisit_line(QUIZ, missed.metadata.nbgrader.grade_id)
    assert line.startswith("Revisit: lesson 4, §") and out_missed.outputs[-1].text == line + "\n"
    assert not any("Revisit" in str(o) for o in out_passed.outputs)
    for section in line.removeprefix("Revisit: ").split("; "):
        assert teaching_map.SECTION.match(section)


def test_a_learner_cannot_name_its_own_misconception():
    """What comes from the learner's side is a type name and a message: the id is the grader's."""
    from attnkit.grading.content.catalogue import exercise
    from attnkit.grading.content.engine import Case, diagnose
    from attnkit.grading.grader.remote import learner_exception

    forged = learner_exception("CheckFailed")("softmax: all correct")
    assert getattr(forged, "misconception", None) is None
    case = Case("a forged reply", [1.0, 2.0])
    output = {"error": "softmax: all correct", "misconception": "<script>alert(1)</script>"}
    assert diagnose(exercise("softmax"), case, output) == ("softmax: all correct", None)


def test_attnkit_grade_shows_the_sections_to_revisit(tmp_path):
    """The self-graded learner reads the same lines: in the terminal and in the feedback page."""
    from attnkit.grading.course.nbgrader_cli import GradedCell, Result
    from attnkit.grading.course.selfgrade import format_result
    from attnkit.grading.grader.selfjudge import write_feedback

    missed, passed = revisit_line(QUIZ, "test_softmax"), revisit_line(QUIZ, "test_answer_softmax_axis")
    result = Result("learner", QUIZ, 1, 3, [GradedCell("test_softmax", 0, 2, ["CheckFailed: softmax: ..."]),
                                            GradedCell("test_answer_softmax_axis", 1, 1, [])], tmp_path / "f.html")
    text = format_result(result)
    assert missed in text and passed not in text
    sol = nbformat.read(ROOT / "solutions" / QUIZ / f"{QUIZ}.ipynb", as_version=4)
    for cell in sol.cells:
        if cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") == "test_softmax":
            cell.outputs = [nbformat.v4.new_output("error", ename="CheckFailed", evalue="softmax: ...", traceback=[])]
    scores = {c.metadata.nbgrader.grade_id: float(c.metadata.nbgrader.points) for c in sol.cells
              if c.get("metadata", {}).get("nbgrader", {}).get("grade")
              and c.metadata.nbgrader.grade_id != "test_softmax"}
    page = write_feedback(sol, tmp_path / f"{QUIZ}.html", scores).read_text()
    assert page.count(html.escape(missed)) == 1 and html.escape(passed) not in page
    assert "BEGIN HIDDEN TESTS" not in page and "seed=41" not in page
