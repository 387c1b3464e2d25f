"""The `attnkit` command: subcommands parse and dispatch (grading itself is tested in test_quizzes)."""
import pytest

from attnkit import cli
from attnkit.grading.content.bugs import BUGS
from attnkit.grading.content.quizzes import QUIZ_IDS


def test_bugs_lists_the_whole_catalogue(capsys: pytest.CaptureFixture) -> None:
    assert cli.main(["bugs"]) == 0
    out = capsys.readouterr().out
    assert all(bug.id in out and bug.message in out for bug in BUGS.values())


def test_grade_and_demo_class_dispatch(monkeypatch: pytest.MonkeyPatch) -> None:
    from attnkit.grading.course import demo, selfgrade

    calls = []
    monkeypatch.setattr(selfgrade, "main", lambda *args: calls.append(("grade", args)) or 0)
    monkeypatch.setattr(demo, "main", lambda *args: calls.append(("demo", args)) or 1)
    assert cli.main(["grade", "quizzes/q4_qkv_math/q4_qkv_math.ipynb", "--timeout", "5"]) == 0
    assert cli.main(["demo-class", "--quiz", "all"]) == 1
    assert calls[0] == ("grade", ("quizzes/q4_qkv_math/q4_qkv_math.ipynb", None, 5))
    assert calls[1][1][0] == list(QUIZ_IDS) and "q4_qkv_math" in QUIZ_IDS


def test_unknown_quiz_is_refused() -> None:
    with pytest.raises(SystemExit):
        cli.main(["demo-class", "--quiz", "q9_nothing"])


def test_the_makefile_reads_the_quiz_ids_from_the_registry(capsys: pytest.CaptureFixture) -> None:
    from pathlib import Path

    from attnkit.grading.content import quizzes

    assert quizzes.main() == 0 and capsys.readouterr().out.split() == list(QUIZ_IDS)
    makefile = (Path(__file__).resolve().parents[1] / "Makefile").read_text()
    assert "-m attnkit.grading.content.quizzes" in makefile and "q1_bottleneck" not in makefile
