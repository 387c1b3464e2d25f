"""attnkit.grading.content.questions: an answer's form is checked in the notebook and says so; its value only
where the answer key is (the hidden tests); each released answer cell shows its variable and form."""
import nbformat
import pytest

from attnkit.grading.cells import cells_by_id
from attnkit.grading.content import catalogue
from attnkit.grading.content.engine import CheckFailed
from attnkit.grading.content.questions import Question, check_choice, check_number
from attnkit.grading.content.quizzes import QUIZ_IDS
from attnkit.grading.course.nbgrader_cli import REPO_ROOT


def test_a_visible_check_says_it_checked_the_form_only(capsys):
    check_choice(" B ", "q4_softmax_axis")
    check_number(8, "q4_scale_divisor")
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 2 and all("graded by `attnkit grade`" in line for line in out), out
    check_choice("b", "q4_softmax_axis", expected="b")
    assert capsys.readouterr().out == "", "a graded check prints nothing when right"


@pytest.mark.parametrize("answer, check", [(None, check_choice), ("b ", check_number), (float("nan"), check_number)])
def test_a_wrong_form_fails_before_any_value(answer, check):
    question = "q4_softmax_axis" if check is check_choice else "q4_scale_divisor"
    with pytest.raises(CheckFailed, match=f"{question}: answer with"):
        check(answer, question)


def test_variable_and_form_come_from_the_declaration():
    assert Question("q9_why", "h", ("a", "b", "c")).variable == "answer_why"
    assert Question("q9_why", "h", ("a", "b", "c")).form == '"a", "b" or "c"'
    assert Question("q9_count", "h").form == "a number"


@pytest.mark.parametrize("quiz", QUIZ_IDS)
def test_each_released_answer_cell_shows_its_variable_and_form(quiz):
    release = cells_by_id(nbformat.read(REPO_ROOT / "quizzes" / quiz / f"{quiz}.ipynb", as_version=4))
    for question in catalogue.questions(quiz).values():
        first = release[question.variable].source.splitlines()[0]
        assert first == f"{question.variable} = ...  # {question.form}", first
