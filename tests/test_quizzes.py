"""The quizzes graded by the real nbgrader 0.9 CLI: full marks, zeros, every catalogued bug, the traps.

One module-scoped class is built from the solution notebooks (many students per autograde run):
per quiz the solution, the blank release, and the catalogued bugs packed one per exercise into as
few submissions as possible (the first pack also answers every question wrongly); plus three trap
submissions: a correct answer that writes to stderr and warns, a deleted test cell (with a bug it
must still catch), and an infinite loop. Each quiz gets its own temporary course directory, so two
quizzes grade at a time without sharing a gradebook.
"""
from __future__ import annotations

import html
import json
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat
import pytest

from attnkit.grading.cells import grade_id, is_test, points
from attnkit.grading.content.answers import answer_key
from attnkit.grading.content.bugs import BUGS, bugs_for
from attnkit.grading.course.demo import (
    Student,
    blank,
    demo_class,
    looping,
    noisy,
    run_class,
    with_bugs,
    without_cell,
    wrong_answers,
)
from attnkit.grading.course.feedback import HIDDEN_PLACEHOLDER
from attnkit.grading.course.nbgrader_cli import QUIZ_IDS, REPO_ROOT, make_course
from attnkit.grading.course.selfgrade import format_result, grade_notebook

LOOP_QUIZ, LOOP_EXERCISE, LOOP_TIMEOUT = "q2_spotlight", "context_vectors", 30  # seconds per cell


def bug_packs(quiz: str) -> list[list[str]]:
    """The quiz's bugs, at most one per exercise in each pack, in as few packs as possible."""
    packs: list[list[str]] = []
    for bug in bugs_for(quiz):
        for pack in packs:
            if all(BUGS[b].exercise != bug.exercise for b in pack):
                pack.append(bug.id)
                break
        else:
            packs.append([bug.id])
    return packs


def build_test_class(course_dir: Path, quiz: str) -> list[Student]:
    sol = nbformat.read(course_dir / "solutions" / quiz / f"{quiz}.ipynb", as_version=4)
    release = nbformat.read(course_dir / "quizzes" / quiz / f"{quiz}.ipynb", as_version=4)
    students = [with_bugs(quiz, sol, [], "solution"), blank(quiz, sol, release, "blank")]
    for i, pack in enumerate(bug_packs(quiz)):
        students.append(with_bugs(quiz, sol, pack, f"bugs{i}"))
    pack0 = students[2]
    answers = wrong_answers(quiz, pack0.notebook, "bugs0")  # pack 0 also answers every question wrongly
    answer_points = sum_points(sol) - answers.expected_score
    students[2] = Student("bugs0", quiz, pack0.about + " + wrong answers", answers.notebook,
                          pack0.expected_score - answer_points, pack0.expected_messages + answers.expected_messages)
    if quiz == "q1_bottleneck":
        students.append(noisy(quiz, sol, "noisy"))
    if quiz == "q3_library":
        students.append(without_cell(quiz, sol, "test_top_k", "deleter", bug_id="top_k_ascending"))
    if quiz == LOOP_QUIZ:
        students.append(looping(quiz, sol, LOOP_EXERCISE, "looper"))
    return students


def sum_points(nb: nbformat.NotebookNode) -> float:
    return sum(points(c) for c in nb.cells if is_test(c))


class _Graded(dict):
    """{quiz: (course_dir, students, results, csv_rows)}; a quiz whose grading broke fails its tests."""

    def __init__(self, outcomes: dict) -> None:
        super().__init__({q: v for q, v in outcomes.items() if not isinstance(v, Exception)})
        self.errors = {q: v for q, v in outcomes.items() if isinstance(v, Exception)}

    def __getitem__(self, quiz: str):
        if quiz in self.errors:
            pytest.fail(f"grading {quiz} with nbgrader failed: {self.errors[quiz]}")
        return super().__getitem__(quiz)


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory) -> _Graded:
    """Every quiz's class graded by nbgrader, two quizzes at a time, each in its own course dir."""
    # made here, not in the threads: pytest creates (and with --basetemp first empties) its base
    # folder on first use, so two threads asking at once could delete each other's course dir
    course_dirs = {quiz: tmp_path_factory.mktemp(quiz) for quiz in QUIZ_IDS}

    def one(quiz: str):
        try:
            course_dir = make_course(course_dirs[quiz], [quiz])
            timeout = LOOP_TIMEOUT if quiz == LOOP_QUIZ else None
            return quiz, (course_dir, *run_class(course_dir, [quiz], build=build_test_class, timeout=timeout))
        except Exception as exc:  # reported by each test of this quiz, not as one opaque fixture error
            return quiz, exc

    with ThreadPoolExecutor(max_workers=2) as pool:
        return _Graded(dict(pool.map(one, QUIZ_IDS)))


def feedback_text(path: Path) -> str:
    """The visible text of a feedback HTML page."""
    return html.unescape(re.sub(r"<[^>]+>", "", path.read_text()))


@pytest.mark.parametrize("quiz", QUIZ_IDS)
def test_release_is_what_nbgrader_generates_from_solutions(graded: _Graded, quiz: str) -> None:
    course_dir = graded[quiz][0]
    generated = json.loads((course_dir / "quizzes" / quiz / f"{quiz}.ipynb").read_text())
    committed = json.loads((REPO_ROOT / "quizzes" / quiz / f"{quiz}.ipynb").read_text())
    assert committed == generated, f"quizzes/{quiz} is stale: run `nbgrader generate_assignment {quiz} --force`"


def test_solutions_are_built_from_quiz_sources() -> None:
    done = subprocess.run([sys.executable, str(REPO_ROOT / "scripts" / "build_quiz_sources.py"), "--check"],
                          capture_output=True, text=True)
    assert done.returncode == 0, f"solutions/ is out of date with quizzes_src/: {done.stdout}{done.stderr}"


@pytest.mark.parametrize("quiz", QUIZ_IDS)
def test_every_score_and_the_csv_are_as_expected(graded: _Graded, quiz: str) -> None:
    _, students, results, rows = graded[quiz]
    for key, student in students.items():
        result = results[key]
        assert result.score == pytest.approx(student.expected_score), (
            f"{key}: {student.about}: scored {result.score}, expected {student.expected_score}; "
            f"messages: {result.messages()}")
    csv_scores = {(r["assignment"], r["student_id"]): float(r["score"]) for r in rows}
    assert csv_scores == {k: pytest.approx(s.expected_score) for k, s in students.items()}


@pytest.mark.parametrize("quiz", QUIZ_IDS)
def test_solution_full_marks_and_blank_zero(graded: _Graded, quiz: str) -> None:
    results = graded[quiz][2]
    solution, empty = results[quiz, "solution"], results[quiz, "blank"]
    assert solution.score == solution.max_score > 0, solution.messages()
    assert empty.score == 0 and empty.max_score == solution.max_score
    assert all(cell.messages for cell in empty.cells), "every test cell of a blank quiz must say why it failed"


@pytest.mark.parametrize("bug_id", [b.id for b in BUGS.values() if b.quiz in QUIZ_IDS])  # not lesson activities
def test_every_catalogued_bug_loses_points_and_is_named(graded: _Graded, bug_id: str) -> None:
    bug = BUGS[bug_id]
    _, students, results, _ = graded[bug.quiz]
    key = next(k for k, s in students.items() if bug.message in s.expected_messages and k[1].startswith("bugs"))
    result = results[key]
    cell = next(c for c in result.cells if c.grade_id == f"test_{bug.exercise}")
    assert cell.score == 0 < cell.max_score, f"{bug_id} was not caught: {cell}"
    assert any(bug.message in m for m in cell.messages), f"{bug_id}: feedback was {cell.messages}"
    assert bug.message in feedback_text(result.feedback_html), f"{bug_id}: message missing from the HTML"


@pytest.mark.parametrize("quiz", QUIZ_IDS)
def test_wrong_conceptual_answers_name_the_misconception(graded: _Graded, quiz: str) -> None:
    _, students, results, _ = graded[quiz]
    result, student = results[quiz, "bugs0"], students[quiz, "bugs0"]
    text = feedback_text(result.feedback_html)
    for message in student.expected_messages:
        assert message in text, f"{quiz}: '{message}' missing from the feedback"


def test_stderr_and_warnings_from_a_correct_answer_cost_nothing(graded: _Graded) -> None:
    result = graded["q1_bottleneck"][2]["q1_bottleneck", "noisy"]
    assert result.score == result.max_score, result.messages()


def test_a_deleted_test_cell_is_restored_and_graded(graded: _Graded) -> None:
    course_dir, _, results, _ = graded["q3_library"]
    result = results["q3_library", "deleter"]
    cell = next(c for c in result.cells if c.grade_id == "test_top_k")
    assert cell.score == 0 and BUGS["top_k_ascending"].message in " ".join(cell.messages)
    autograded = nbformat.read(course_dir / "autograded" / "deleter" / "q3_library" / "q3_library.ipynb", 4)
    assert any(grade_id(c) == "test_top_k" for c in autograded.cells)


def test_an_infinite_loop_costs_only_its_question(graded: _Graded) -> None:
    result = graded[LOOP_QUIZ][2][LOOP_QUIZ, "looper"]
    for cell in result.cells:
        looped = cell.grade_id == f"test_{LOOP_EXERCISE}"
        assert cell.score == (0 if looped else cell.max_score), f"{cell.grade_id}: {cell.messages}"


@pytest.mark.parametrize("quiz", QUIZ_IDS)
def test_no_hidden_test_text_in_release_or_feedback(graded: _Graded, quiz: str) -> None:
    course_dir, students, results, _ = graded[quiz]
    sol = nbformat.read(REPO_ROOT / "solutions" / quiz / f"{quiz}.ipynb", 4)
    hidden = [line.strip() for c in sol.cells
              for block in re.findall(r"### BEGIN HIDDEN TESTS\n(.*?)### END HIDDEN TESTS", c.source, re.S)
              for line in block.splitlines() if line.strip()]
    assert hidden, f"{quiz} has no hidden tests"
    release = (REPO_ROOT / "quizzes" / quiz / f"{quiz}.ipynb").read_text()
    pages = {key: feedback_text(r.feedback_html) for key, r in results.items()}
    for line in hidden:
        if line.startswith(("import ", "from ")):
            continue  # an import also used by visible tests is no secret
        assert json.dumps(line)[1:-1] not in release, f"hidden line in release: {line}"
        for key, text in pages.items():
            assert line not in text, f"hidden line in feedback {key}: {line}"
    assert all(HIDDEN_PLACEHOLDER in text for text in pages.values())
    for key, text in pages.items():  # no frame of the check code, which would show how tests run
        assert "grading/checks.py" not in text and "grading/content/engine.py" not in text, key
    answer_key_messages = [message for entry in answer_key(sol).values() for message in entry["wrong"].values()]
    assert len(answer_key_messages) >= 3, f"{quiz}: no wrong-answer messages in the hidden tests"
    for key, text in pages.items():  # a page shows the misconception of its own wrong answer, no other
        shown = [m for m in answer_key_messages if m in text]
        assert set(shown) <= set(students[key].expected_messages), f"{key}: answer key in feedback: {shown}"


def test_demo_class_has_ten_students_of_every_kind(graded: _Graded) -> None:
    students = demo_class(graded["q4_qkv_math"][0], "q4_qkv_math")
    kinds = " ".join(s.about for s in students)
    assert 9 <= len(students) <= 12 and len({s.id for s in students}) == len(students)
    for kind in ("all correct", "blank", "partial", "bugs:", "wrong answers", "stderr", "deleted"):
        assert kind in kinds, kind


def test_selfgrade_reports_scores_messages_and_feedback(graded: _Graded, tmp_path: Path) -> None:
    course_dir, students, _, _ = graded["q2_spotlight"]
    notebook = tmp_path / "q2_spotlight.ipynb"
    nbformat.write(students["q2_spotlight", "bugs0"].notebook, notebook)
    result = grade_notebook(notebook, workdir=tmp_path / "course")
    assert result.score == pytest.approx(students["q2_spotlight", "bugs0"].expected_score)
    report = format_result(result)
    assert BUGS["weights_wrong_axis"].message in report and str(result.feedback_html) in report
    assert result.feedback_html.exists()
