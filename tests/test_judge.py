"""attnkit.grading.grader.judge: test cells from the instructor only, fail closed, one verdict always.

The fast tests drive a fake kernel (tests/fake_kernel.py); the last ones run quiz 4 in the sandbox.
"""
from __future__ import annotations

import sys
from pathlib import Path

import nbformat
import pytest

from attnkit.grading.cells import nbgrader_metadata
from attnkit.grading.grader import judge
from attnkit.grading.grader.judge import InstructorCells, judge_notebook
from attnkit.grading.limits import GradingLimits

sys.path.insert(0, str(Path(__file__).parent))
from fake_kernel import FakeKernel  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
LIMITS = GradingLimits(cell_s=2, notebook_s=20)
linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the sandbox is Linux-only")


def _cell(source: str, gid: str | None = None, **kind: bool) -> nbformat.NotebookNode:
    cell = nbformat.v4.new_code_cell(source)
    if gid:
        cell.metadata["nbgrader"] = nbgrader_metadata(gid, points=1 if kind.get("grade") else None, **kind)
    return cell


def _fake(values: dict | None = None):
    def start(scratch: Path, fds: tuple[int, int]) -> FakeKernel:
        return FakeKernel(fds, [], values=values)
    return start


def _failed(result: judge.JudgeResult) -> dict[str, str]:
    return {c.metadata["nbgrader"]["grade_id"]: o["evalue"] for c in result.nb.cells
            if c.metadata.get("nbgrader", {}).get("grade") for o in c.outputs if o.output_type == "error"}


def test_a_learner_cell_marked_as_a_test_is_never_run_by_the_grader(tmp_path: Path) -> None:
    pwned = tmp_path / "PWNED"
    instructor = nbformat.v4.new_notebook(cells=[_cell("assert x == 3", "test_x", grade=True, locked=True)])
    submission = nbformat.v4.new_notebook(cells=[
        _cell(f"open({str(pwned)!r}, 'w')", "test_bonus", grade=True, locked=True),  # invented
        _cell(f"open({str(pwned)!r}, 'w')\nassert False", "test_x", grade=True, locked=True)])  # its own "test"
    result = judge_notebook(submission, InstructorCells.from_notebook(instructor), limits=LIMITS,
                            start=_fake({"x": 3}))
    assert not pwned.exists()
    # the real test ran with the instructor's source; the invented one scores nothing
    assert result.nb.cells[1].source == "assert x == 3"
    assert _failed(result) == {"test_bonus": "not one of the instructor's test cells: it ran as learner code and "
                                             "scores nothing"}
    assert result.status == "flagged" and "outside its folder" in " ".join(result.flags)  # (the open)
    assert "test cells restored" in result.notes and "test_bonus" in " ".join(result.notes)


def test_a_failing_set_up_cell_fails_closed() -> None:
    # were the set-up's `check` looked up in the learner's kernel, the learner's check would pass anything
    nb = nbformat.v4.new_notebook(cells=[_cell("from nowhere import check", "setup", locked=True),
                                         _cell("check(x)", "test_x", grade=True, locked=True)])
    result = judge_notebook(nb, InstructorCells.from_notebook(nb), limits=LIMITS, start=_fake({"x": 1, "check": 1}))
    assert result.status == "crashed" and "test_x" in _failed(result)
    assert "set-up cell setup failed in the grader" in _failed(result)["test_x"]


def test_a_grader_failure_is_one_crashed_verdict_and_ctrl_c_is_not() -> None:
    nb = nbformat.v4.new_notebook(cells=[_cell("assert x == 3", "test_x", grade=True, locked=True)])

    def broken(scratch: Path, fds: tuple[int, int]) -> None:
        raise OSError("no more processes")

    result = judge_notebook(nb, InstructorCells.from_notebook(nb), limits=LIMITS, start=broken)
    assert result.status == "crashed" and "OSError: no more processes" in " ".join(result.notes)
    assert "not judged" in _failed(result)["test_x"] and result.misconceptions == {"test_x": "unrecognised"}

    def interrupted(scratch: Path, fds: tuple[int, int]) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        judge_notebook(nb, InstructorCells.from_notebook(nb), limits=LIMITS, start=interrupted)


def test_misconceptions_of_failing_checks_are_kept() -> None:
    recognised = "e = AssertionError('the global-sum bug')\ne.misconception = 'softmax_global_sum'\nraise e"
    nb = nbformat.v4.new_notebook(cells=[_cell(recognised, "t1", grade=True, locked=True),
                                         _cell("assert x == 2", "t2", grade=True, locked=True),
                                         _cell("assert x == 3", "t3", grade=True, locked=True)])
    result = judge_notebook(nb, InstructorCells.from_notebook(nb), limits=LIMITS, start=_fake({"x": 3}))
    assert result.misconceptions == {"t1": "softmax_global_sum", "t2": "unrecognised"}


def test_without_instructor_cells_nothing_scores() -> None:
    nb = nbformat.v4.new_notebook(cells=[_cell("pass", "test_x", grade=True, locked=True)])
    result = judge_notebook(nb, None, limits=LIMITS, start=_fake())
    assert "test_x" in _failed(result)


def _solution(quiz: str) -> nbformat.NotebookNode:
    return nbformat.read(REPO / "solutions" / quiz / f"{quiz}.ipynb", as_version=4)


@linux_only
def test_the_solution_gets_full_marks_and_the_release_none() -> None:
    from attnkit.grading.grader.selfjudge import score_cells

    source = InstructorCells.from_notebook(_solution("q4_qkv_math"))
    solved = judge_notebook(_solution("q4_qkv_math"), source, cell_timeout=20)
    assert solved.status == "graded" and not solved.flags, (solved.notes, solved.flags)
    assert all(score == points for _, score, points, _ in score_cells(solved.nb)) and solved.misconceptions == {}
    assert solved.kernel == "one-off"
    blank = judge_notebook(nbformat.read(REPO / "quizzes" / "q4_qkv_math" / "q4_qkv_math.ipynb", 4), source,
                           cell_timeout=20)
    rows = score_cells(blank.nb)
    assert rows and all(score == 0 for _, score, _, _ in rows)
    assert any("not written yet" in " ".join(messages) for *_, messages in rows)
    assert set(blank.misconceptions) == {gid for gid, *_ in rows}
