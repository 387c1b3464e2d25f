"""attnkit.grading.content.engine: produce (the learner's side, plain data out) and judge (the grader's side),
forbid that fails closed, isolate, and the message a notebook shows."""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

import attnkit
from attnkit.grading import checks
from attnkit.grading.content import catalogue
from attnkit.grading.content.bugs import BUGS
from attnkit.grading.content.engine import CheckFailed, check, same


def test_forbid_fails_closed_on_a_path_that_does_not_resolve() -> None:
    from attnkit.grading.content.engine import forbid

    with pytest.raises(LookupError, match="attnkit.attention.scaled_dot_product_attentio"):
        with forbid(lambda: None, ["attnkit.attention.scaled_dot_product_attentio"]):
            pass
    with pytest.raises(LookupError, match="attnkit.no_such_module"):
        with forbid(lambda: None, ["attnkit.no_such_module.softmax"]):
            pass
    with forbid(lambda: None, ["not_an_installed_package_xyz.softmax"]):  # nobody can call it
        pass
    assert attnkit.softmax.__name__ == "softmax"  # nothing was left patched


def test_a_failed_check_shows_its_message_alone_in_a_notebook() -> None:
    with pytest.raises(CheckFailed) as caught:
        checks.check_softmax(lambda x, axis=-1: np.exp(x) / np.exp(x).sum(axis, keepdims=True))
    assert isinstance(caught.value, AssertionError)  # nbgrader and pytest count it as a failure
    lines = caught.value._render_traceback_()
    assert lines[0].startswith("CheckFailed: softmax: exp overflows") and "\n".join(lines).count("File") == 0


def test_produce_returns_plain_data_and_judge_needs_only_that() -> None:
    from attnkit.grading.content.engine import judge, produce

    ex = catalogue.exercise("q6_multi_head.merge_heads")
    case = ex.cases(0)[0]
    assert all(isinstance(a, np.ndarray) for a in case.args), "cases hold plain data"
    out = produce(lambda x: x.permute(0, 2, 1, 3).reshape(2, 5, 12), ex, case)
    assert isinstance(out["value"], np.ndarray) and judge(ex, case, out) is None
    wrong = produce(BUGS["merge_heads_interleaved"].function(), "q6_multi_head.merge_heads", case)
    assert BUGS["merge_heads_interleaved"].message in judge(ex, case, wrong)
    assert "raised ZeroDivisionError" in judge(ex, case, produce(lambda x: 1 / 0, ex, case))


def test_the_entry_a_message_points_at_honours_the_tolerance() -> None:
    ex = catalogue.exercise("q6_multi_head.multi_head_attention")  # rtol 1e-4, atol 1e-5
    case = ex.cases(0)[0]

    def nudged(*args, **kwargs):
        out, weights = attnkit.multi_head_attention(*args, **kwargs)
        out = out.clone()
        out[0, 0, 0] += 5e-6  # within atol: not wrong
        out[1, 2, 3] += 1.0  # wrong
        return out, weights
    from attnkit.grading.content.engine import judge, produce
    message = judge(ex, case, produce(nudged, dataclasses.replace(ex, forbidden=()), case))
    assert "first at index (1, 2, 3)" in message, message


def test_a_result_of_the_wrong_kind_gets_a_message_not_a_crash() -> None:
    pair = catalogue.Exercise("pair", reference=lambda x: (x, 2 * x),
                              cases=lambda seed: [catalogue.Case("x", np.ones(3))])
    with pytest.raises(AssertionError, match="wrong result.*it returned a dict"):
        check(lambda x: {"not": "an array"}, pair)
    with pytest.raises(AssertionError, match="must return 2 things"):
        check(lambda x: np.zeros(3), pair)


def test_same_compares_structure_shape_and_values() -> None:
    a = np.arange(4.0).reshape(2, 2)
    assert same((a, a), (a, torch.tensor(a)))
    assert not same((a, a), a) and not same(a, a.T) and not same(a[:1], a)
    assert same(np.array([np.nan]), np.array([np.nan])) and same(["x", "y"], ["x", "y"])


def test_patched_builtins_are_restored_exactly() -> None:
    before = "softmax" in vars(torch.Tensor), torch.softmax, attnkit.softmax
    with pytest.raises(AssertionError, match="library softmax"):
        checks.check_softmax(lambda x, axis=-1: torch.as_tensor(x).softmax(axis).numpy())
    assert ("softmax" in vars(torch.Tensor), torch.softmax, attnkit.softmax) == before


def test_a_learner_who_calls_exit_gets_a_message_not_a_dead_check():
    import sys

    from attnkit.grading.content.engine import judge, produce

    ex = catalogue.exercise("q4_qkv_math.softmax")
    case = ex.cases(0)[0]
    assert "raised SystemExit" in judge(ex, case, produce(lambda x, axis=-1: sys.exit(3), ex, case))
