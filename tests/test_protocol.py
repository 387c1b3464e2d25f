"""attnkit.grading.grader.protocol and session: a fake kernel that lies, garbles, replays and floods.

The grader drives a fake kernel (a thread on the two pipes, no sandbox) through a small notebook
whose instructor test cells read a learner variable and call a learner function. Whatever the
fake sends, the grader never raises, never runs much past the notebook's budget, gives exactly
one status, and a test cell passes only if the fake did answer its requests with the right values
under the protocol (no points the grader did not judge).
"""
from __future__ import annotations

import random
import sys
import time
from pathlib import Path

import nbformat
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from attnkit.grading.cells import nbgrader_metadata
from attnkit.grading.grader.judge import InstructorCells, judge_notebook
from attnkit.grading.grader.protocol import ProtocolViolation, check_reply
from attnkit.grading.grader.status import STATUSES
from attnkit.grading.limits import GradingLimits

LIMITS = GradingLimits(cell_s=0.3, notebook_s=2.0, json_bytes=1 << 16, reply_bytes=1 << 16, helper_requests=5)
TESTS = {"test_x": "assert x == 3", "test_f": "assert f(2) == 4"}
sys.path.insert(0, str(Path(__file__).parent))
from fake_kernel import FakeKernel  # noqa: E402

ACTIONS = ["right", "right", "right", "wrong_value", "wrong_tag", "wrong_type", "extra", "garbage", "replay",
           "oversized", "deep", "bomb", "silent", "close", "helper_flood", "bad_field"]


def _notebook() -> tuple[nbformat.NotebookNode, InstructorCells]:
    cells = [nbformat.v4.new_code_cell("import math"), nbformat.v4.new_code_cell("x = 3\ndef f(n):\n    return n * 2")]
    cells[0].metadata["nbgrader"] = nbgrader_metadata("setup", locked=True)
    cells[1].metadata["nbgrader"] = nbgrader_metadata("answer", solution=True)
    for gid, source in TESTS.items():
        cell = nbformat.v4.new_code_cell(source)
        cell.metadata["nbgrader"] = nbgrader_metadata(gid, grade=True, locked=True, points=1)
        cells.append(cell)
    nb = nbformat.v4.new_notebook(cells=cells)
    return nb, InstructorCells.from_notebook(nb)


def _judge(actions: list[str]) -> tuple:
    nb, source = _notebook()
    kernels: list[FakeKernel] = []

    def start(scratch: Path, fds: tuple[int, int]) -> FakeKernel:
        kernels.append(FakeKernel(fds, actions, silence=LIMITS.notebook_s + 1))
        return kernels[0]

    began = time.monotonic()
    result = judge_notebook(nb, source, limits=LIMITS, start=start)
    return result, kernels[0], time.monotonic() - began


def _passed(result) -> set[str]:
    return {c.metadata["nbgrader"]["grade_id"] for c in result.nb.cells
            if c.metadata.get("nbgrader", {}).get("grade") and c.cell_type == "code"
            and not any(o.get("output_type") == "error" for o in c.get("outputs", []))}


def test_an_honest_fake_kernel_earns_every_point() -> None:
    result, kernel, _ = _judge([])
    assert (result.status, _passed(result), result.flags) == ("graded", set(TESTS), [])
    assert result.kernel == "injected" and result.misconceptions == {}


@pytest.mark.parametrize("action,status", [("extra", "protocol violation"), ("wrong_tag", "protocol violation"),
                                           ("wrong_type", "protocol violation"), ("garbage", "protocol violation"),
                                           ("replay", "protocol violation"), ("oversized", "protocol violation"),
                                           ("deep", "protocol violation"), ("bomb", "protocol violation"),
                                           ("bad_field", "protocol violation"), ("silent", "timed out"),
                                           ("close", "crashed")])
def test_one_bad_answer_to_the_first_test_ends_the_kernel(action: str, status: str) -> None:
    # start, setup cell, answer cell, evidence, then the get of test_x
    result, _, seconds = _judge(["right", "right", "right", "right", action])
    assert result.status == status, (result.notes, result.flags)
    assert _passed(result) == set() and set(result.misconceptions) == set(TESTS)
    if status == "protocol violation":
        assert any(f.startswith("protocol violation") for f in result.flags)
    assert seconds < LIMITS.notebook_s + 5


def test_what_was_judged_before_a_violation_counts() -> None:
    # ... test_x judged (get x), then evidence before test_f gets a garbled answer
    result, _, _ = _judge(["right"] * 5 + ["garbage"])
    assert result.status == "protocol violation" and _passed(result) == {"test_x"}


def test_helper_requests_neither_offered_nor_bounded_are_violations() -> None:
    result, _, _ = _judge(["right"] * 7 + ["helper_flood"])  # the call of f, which offers no helper
    assert result.status == "protocol violation" and "not offered" in " ".join(result.flags)


def test_check_reply_names_what_is_wrong() -> None:
    with pytest.raises(ProtocolViolation, match="tag"):
        check_reply({"tag": "a", "type": "ran", "outputs": [], "error": None}, "b", "run")
    with pytest.raises(ProtocolViolation, match="in answer to 'run'"):
        check_reply({"tag": "a", "type": "value", "kind": "missing"}, "a", "run")
    with pytest.raises(ProtocolViolation, match="output of type"):
        check_reply({"tag": "a", "type": "ran", "error": None,
                     "outputs": [{"output_type": "display_data", "data": {"text/html": "<script>"}}]}, "a", "run")
    assert check_reply({"tag": "a", "type": "called", "ok": False, "error": "ValueError", "message": "m"},
                       "a", "call") == "called"


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(ACTIONS), max_size=12), st.integers(0, 2**16))
def test_whatever_a_fake_kernel_sends_the_grader_keeps_its_word(actions: list[str], seed: int) -> None:
    random.seed(seed)
    result, kernel, seconds = _judge(actions)
    assert result.status in STATUSES
    assert seconds < LIMITS.notebook_s + 6, seconds  # the budget, plus the fake's start and the grader's end
    passed = _passed(result)
    if "test_x" in passed:  # a point only for a value the grader asked for and judged right
        assert "x" in kernel.right_answers
    if "test_f" in passed:
        assert "f" in kernel.right_answers
    assert set(result.misconceptions) == set(TESTS) - passed
