"""Fast tests of the quiz checks, without nbgrader: right answers pass, every catalogued bug is
named, built-ins are refused, stderr is swallowed, conceptual answers get their misconception, and
the answer key of the questions is only in the hidden tests, never in the package or the release."""
from __future__ import annotations

import ast
import functools
import json
import math
import re
import sys
import warnings
from collections import Counter

import nbformat
import numpy as np
import pytest
import torch

import attnkit
from attnkit.grading import checks
from attnkit.grading.cells import meta, nbgrader_metadata
from attnkit.grading.content.answers import answer_key as read_answer_key
from attnkit.grading.content.bugs import BUGS, buggy_function, bugs_for, inject
from attnkit.grading.content.questions import QUESTIONS, check_choice, check_number
from attnkit.grading.content.quizzes import QUIZ_IDS
from attnkit.grading.course.demo import catalogued_wrong_answers
from attnkit.grading.course.feedback import HIDDEN_PLACEHOLDER, HideHiddenTests, strip_hidden_region
from attnkit.grading.course.nbgrader_cli import REPO_ROOT

_nbgrader = meta
QUIZ_BUGS = [b.id for b in BUGS.values() if b.quiz in QUIZ_IDS]


def solution(quiz: str) -> nbformat.NotebookNode:
    return nbformat.read(REPO_ROOT / "solutions" / quiz / f"{quiz}.ipynb", as_version=4)


@functools.cache
def solution_namespace(quiz: str) -> dict:
    """The quiz's setup and solution cells run in one namespace, as in a kernel."""
    namespace: dict = {}
    for cell in solution(quiz).cells:
        meta = _nbgrader(cell)
        if cell.cell_type == "code" and (meta.get("solution") or meta.get("grade_id", "").startswith("setup")):
            exec(compile(cell.source, f"<{quiz}:{meta['grade_id']}>", "exec"), namespace)  # noqa: S102
    return namespace


def run_test_cells(quiz: str, namespace: dict) -> None:
    """Run every test cell, hidden tests included, as nbgrader's autograde does."""
    for cell in solution(quiz).cells:
        if _nbgrader(cell).get("grade"):
            exec(compile(cell.source, f"<{quiz}:{_nbgrader(cell)['grade_id']}>", "exec"), namespace)  # noqa: S102


@pytest.mark.parametrize("quiz", QUIZ_IDS)
def test_the_solution_passes_every_test_cell(quiz: str) -> None:
    run_test_cells(quiz, dict(solution_namespace(quiz)))


@pytest.mark.parametrize("bug_id", QUIZ_BUGS)
def test_each_catalogued_bug_fails_its_check_with_its_message(bug_id: str) -> None:
    bug = BUGS[bug_id]
    namespace = dict(solution_namespace(bug.quiz))
    exec(compile(bug.source, bug_id, "exec"), namespace)  # noqa: S102 (as the injected cell would)
    check = getattr(checks, f"check_{bug.exercise}")
    for seed in (0, 7):
        with pytest.raises(AssertionError) as caught:
            check(namespace[bug.exercise], seed=seed)
        assert bug.message in str(caught.value), f"{bug_id} (seed {seed}) got: {caught.value}"


def test_catalogue_has_at_least_fifteen_bugs_in_every_quiz() -> None:
    assert len(BUGS) >= 15
    for quiz in QUIZ_IDS:
        assert bugs_for(quiz), quiz
    named = {"sdpa_no_scale", "mha_scale_by_d_model", "sdpa_softmax_wrong_axis", "softmax_no_max_subtraction",
             "mask_polarity_flipped", "mask_finite_fill", "weights_transposed", "merge_heads_interleaved",
             "mha_no_output_projection", "returns_weights_as_output", "builtin_attention"}
    assert named <= set(BUGS)


def test_bug_sources_define_their_exercise_and_inject_into_the_solution() -> None:
    for bug in (BUGS[b] for b in QUIZ_BUGS):
        assert callable(buggy_function(bug.id)), bug.id
        nb = inject(solution(bug.quiz), [bug.id])
        cell = next(c for c in nb.cells if _nbgrader(c).get("grade_id") == bug.exercise)
        assert cell.source == bug.source.strip("\n")
    with pytest.raises(KeyError):
        inject(solution("q4_qkv_math"), ["sdpa_no_scale", "mask_finite_fill"])  # one exercise, two bugs


@pytest.mark.parametrize("how", ["module attribute", "imported name", "torch fused kernel"])
def test_calling_a_builtin_attention_earns_nothing(how: str) -> None:
    namespace = {"np": np, "torch": torch, "attnkit": attnkit,
                 "sdpa": attnkit.scaled_dot_product_attention}
    body = {"module attribute": "attnkit.scaled_dot_product_attention(query, key, value, mask=mask)",
            "imported name": "sdpa(query, key, value, mask)",
            "torch fused kernel": "torch.nn.functional.scaled_dot_product_attention("
                                  "torch.as_tensor(query), torch.as_tensor(key), torch.as_tensor(value))"}[how]
    exec(f"def scaled_dot_product_attention(query, key, value, mask=None):\n    return {body}\n", namespace)  # noqa: S102
    with pytest.raises(AssertionError, match="ready-made attention"):
        checks.check_scaled_dot_product_attention(namespace["scaled_dot_product_attention"])
    assert namespace["sdpa"] is attnkit.scaled_dot_product_attention  # restored afterwards
    assert attnkit.scaled_dot_product_attention.__module__ == "attnkit.attention"


def test_torch_fused_attention_is_refused_inside_minilm() -> None:
    def minilm_attention(query, key, value, mask=None):
        out = torch.nn.functional.scaled_dot_product_attention(query, key, value, attn_mask=mask)
        return out, out
    with pytest.raises(AssertionError, match="ready-made attention"):
        checks.check_minilm_attention(minilm_attention)
    assert torch.nn.functional.scaled_dot_product_attention.__name__ == "scaled_dot_product_attention"


def test_stderr_and_warnings_of_the_learner_do_not_reach_the_cell(capfd: pytest.CaptureFixture) -> None:
    right = solution_namespace("q4_qkv_math")["softmax"]

    def softmax(x, axis=-1):
        print("debugging", file=sys.stderr)
        warnings.warn("learner warning", stacklevel=1)
        import os
        os.write(2, b"fd-level\n")
        return right(x, axis)

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # any warning that escaped would raise here
        assert checks.check_softmax(softmax) is None
    assert capfd.readouterr().err == ""


def test_other_exercises_are_swapped_for_correct_ones_while_grading() -> None:
    namespace = dict(solution_namespace("q1_bottleneck"))
    exec(BUGS["rnn_no_recurrence"].source, namespace)  # noqa: S102 (exercise 1 wrong...)
    checks.check_first_word_influence(namespace["first_word_influence"])  # ...exercise 2 still earns its points
    assert namespace["rnn_forward"].__code__.co_filename == "<string>"  # and the learner's own is put back


def test_conceptual_answers_form_and_misconceptions() -> None:
    axis_wrong = {"a": "each key's column", "c": "queries compete"}
    check_choice(" B ", "q4_softmax_axis", expected="b", wrong=axis_wrong)
    with pytest.raises(AssertionError, match="one of 'a', 'b', 'c'"):
        check_choice("d", "q4_softmax_axis")
    with pytest.raises(AssertionError, match="each key's column"):
        check_choice("a", "q4_softmax_axis", expected="b", wrong=axis_wrong)
    with pytest.raises(AssertionError, match="not quite: revisit"):
        check_choice("a", "q4_softmax_axis", expected="b")
    check_number(66.7, "q4_third_weight", expected=100 * float(attnkit.softmax(np.array([1.0, 2.0, 3.0]))[2]))
    with pytest.raises(AssertionError, match="the scores divided by their sum"):
        check_number(50, "q4_third_weight", expected=66.5, wrong={50: "the scores divided by their sum"})
    with pytest.raises(AssertionError, match="finite number"):
        check_number(True, "q4_scale_divisor")
    with pytest.raises(AssertionError, match="not quite: a sharper hint"):
        check_number(5, "q4_scale_divisor", expected=8, wrong={64: "too much"}, hint="a sharper hint")
    for q in QUESTIONS.values():
        assert q.hint and set(vars(q)) == {"id", "hint", "options", "tolerance", "quiz"}, q.id


@functools.cache
def answer_key(quiz: str) -> dict[str, dict]:
    return read_answer_key(solution(quiz))


def full_answer_key() -> dict[str, dict]:
    return {qid: entry for quiz in QUIZ_IDS for qid, entry in answer_key(quiz).items()}


def test_every_question_has_its_answer_key_in_its_hidden_test() -> None:
    assert set(full_answer_key()) == set(QUESTIONS)
    for quiz in QUIZ_IDS:
        catalogue = catalogued_wrong_answers(solution(quiz))  # what the demo class answers
        for qid, entry in answer_key(quiz).items():
            q, wrong = QUESTIONS[qid], entry["wrong"]
            assert wrong and entry["expected"] not in wrong, qid
            if q.options:
                assert set(wrong) == set(q.options) - {entry["expected"]}, f"{qid}: each wrong option needs a message"
            assert catalogue[entry["cell"]] == (qid, *next(iter(wrong.items()))), qid
            check = check_choice if q.options else check_number
            kwargs = {k: v for k, v in entry.items() if k != "cell"}
            check(entry["expected"], qid, **kwargs)
            for answer, message in wrong.items():
                with pytest.raises(AssertionError) as caught:
                    check(answer, qid, **kwargs)
                assert str(caught.value) == f"{qid}: {message}"


def _is_answer(value, expected, tolerance: float) -> bool:
    if isinstance(expected, str) or isinstance(value, str):
        return value == expected
    return (isinstance(value, (int, float)) and not isinstance(value, bool)
            and math.isclose(value, expected, rel_tol=1e-9, abs_tol=tolerance))


def _has_number(text: str, expected, tolerance: float) -> bool:
    numbers = re.findall(r"(?<![\w.])-?\d+(?:\.\d+)?(?:e-?\d+)?(?![\w.])", text)
    return any(_is_answer(float(n), expected, tolerance) for n in numbers)


def answer_key_leaks(files: dict[str, str], key: dict[str, dict]) -> list[str]:
    """What of the answer key the given files (name: text) give away.

    A leak is: a wrong-answer message or sharper hint of a hidden test, in the raw text or in a
    string literal of Python code (so a message split over two literals counts); a literal
    ``expected=`` answer; or, in Python code, a call that names a question id (a record such as
    ``Question("q4_...", ...)``) and holds that question's answer (a number, or a number in its
    text) or lists its option letters unevenly (singling out the right one, or only the wrong ones).
    """
    leaks = []
    secrets = {qid: [*entry["wrong"].values(), *([entry["hint"]] if "hint" in entry else [])]
               for qid, entry in key.items()}
    for name, text in files.items():
        tree = ast.parse(text) if name.endswith(".py") else None
        strings = [n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)] \
            if tree else []
        for qid, messages in secrets.items():
            for message in messages:
                if message in text or any(message in s for s in strings):
                    leaks.append(f"{name}: the message of {qid}: {message[:40]}...")
        for match in re.finditer(r"expected\s*=\s*(\"\w\"|'\w'|-?\d[\d.e]*)", text):
            literal = ast.literal_eval(match[1])
            if any(_is_answer(literal, e["expected"], QUESTIONS[q].tolerance) for q, e in key.items()):
                leaks.append(f"{name}: an expected answer: {match[0]}")
        for call in (n for n in ast.walk(tree) if isinstance(n, ast.Call)) if tree else ():
            named = {a.value for a in [*call.args, *(k.value for k in call.keywords)]
                     if isinstance(a, ast.Constant) and isinstance(a.value, str) and a.value in key}
            for qid in named:
                q, expected = QUESTIONS[qid], key[qid]["expected"]
                values = [n.value for n in ast.walk(call) if isinstance(n, ast.Constant) and n.value != qid]
                if q.options:
                    counts = Counter(v for v in values if v in q.options)
                    if counts and len({counts[o] for o in q.options}) > 1:
                        leaks.append(f"{name}: the record of {qid} singles out options: {dict(counts)}")
                elif any(_has_number(v, expected, q.tolerance) if isinstance(v, str) else
                         _is_answer(v, expected, q.tolerance) for v in values):
                    leaks.append(f"{name}: the record of {qid} holds its answer {expected}")
    return leaks


def _package_files() -> dict[str, str]:
    files = {}
    for path in sorted((REPO_ROOT / "attnkit").rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            try:
                files[str(path.relative_to(REPO_ROOT))] = path.read_text()
            except UnicodeDecodeError:
                continue  # checkpoints: weights, not text
    return files


def test_the_answer_key_is_in_neither_the_package_nor_the_release() -> None:
    key, files = full_answer_key(), _package_files()
    assert "attnkit/grading/content/questions.py" in files and len(files) > 20
    for quiz in QUIZ_IDS:
        path = REPO_ROOT / "quizzes" / quiz / f"{quiz}.ipynb"
        files[f"quizzes/{quiz}"] = path.read_text()
        code = {_nbgrader(c).get("grade_id"): c.source for c in nbformat.read(path, as_version=4).cells
                if c.cell_type == "code"}
        for qid, entry in answer_key(quiz).items():  # the released answer cell and test cell: no answer literal
            for cell in (entry["cell"], "test_" + entry["cell"]):
                assert not any(_is_answer(n.value, entry["expected"], QUESTIONS[qid].tolerance)
                               for n in ast.walk(ast.parse(code[cell])) if isinstance(n, ast.Constant)), cell
                files[f"quizzes/{quiz}:{cell}.py"] = code[cell]
    assert answer_key_leaks(files, key) == []


def test_the_answer_key_scan_sees_the_old_kind_of_leak() -> None:
    """The scan above catches a catalogue like the one questions.py used to ship."""
    key = full_answer_key()
    axis, decoder = key["q4_softmax_axis"], key["q1_attention_numbers"]
    letter, message = next(iter(axis["wrong"].items()))
    leaky = (f"Question('q4_softmax_axis', 'h', options=('a', 'b', 'c'),\n"
             f"         wrong={{{letter!r}: {message[:20]!r}\n {message[20:]!r}}})\n"
             f"Question('q1_attention_numbers', 'the states have {decoder['expected']} numbers')\n"
             f"Question('q5_first_output', 'h', options=('a', 'b', 'c'), default='a')\n"
             f"check(x, 'q2_reversed_order', expected={json.dumps(key['q2_reversed_order']['expected'])})\n")
    leaks = " | ".join(answer_key_leaks({"leaky.py": leaky}, key))
    for leak in ("the message of q4_softmax_axis", "the record of q4_softmax_axis singles out",
                 "the record of q1_attention_numbers holds", "the record of q5_first_output singles out",
                 "the record of q2_reversed_order singles out", "an expected answer: expected="):
        assert leak in leaks, leaks
    assert answer_key_leaks({"old.md": f"wrong: {decoder['wrong'][512]}"}, key)


def test_every_question_in_a_quiz_is_catalogued_and_answered_in_a_variable() -> None:
    for quiz in QUIZ_IDS:
        ids = {_nbgrader(c).get("grade_id") for c in solution(quiz).cells}
        for q in QUESTIONS.values():
            if q.id.startswith(quiz[:3]):
                assert "answer_" + q.id.split("_", 1)[1] in ids, q.id


@pytest.mark.parametrize("quiz", QUIZ_IDS)
def test_no_test_cell_ends_in_a_bare_expression_other_than_a_check(quiz: str) -> None:
    """nbgrader gives full credit to a test cell whose last expression is False."""
    for cell in solution(quiz).cells:
        if _nbgrader(cell).get("grade"):
            last = ast.parse(cell.source).body[-1]
            assert isinstance(last, ast.Expr) and isinstance(last.value, ast.Call), cell.source
            assert last.value.func.id.startswith("check_"), cell.source
            assert "### BEGIN HIDDEN TESTS" in cell.source, f"{_nbgrader(cell)['grade_id']} has no hidden tests"


def test_checks_return_none_on_right_answers() -> None:
    namespace = solution_namespace("q2_spotlight")
    assert checks.check_alignment(namespace["alignment"]) is None
    assert check_choice("b", "q2_reversed_order", expected="b") is None


def test_feedback_strips_hidden_regions_and_tracebacks() -> None:
    source = "check(x)\n    ### BEGIN HIDDEN TESTS\n    secret(x, seed=3)\n    ### END HIDDEN TESTS\ndone()"
    assert strip_hidden_region(source) == f"check(x)\n    {HIDDEN_PLACEHOLDER}\ndone()"
    cell = nbformat.v4.new_code_cell(source)
    cell.metadata["nbgrader"] = nbgrader_metadata("t", grade=True, points=1)
    cell.outputs = [nbformat.v4.new_output("error", ename="AssertionError", evalue="f: a misconception",
                                           traceback=["Traceback", "secret(x, seed=3)", "AssertionError"])]
    cell, _ = HideHiddenTests().preprocess_cell(cell, {}, 0)
    assert "secret" not in cell.source and "secret" not in str(cell.outputs)
    assert cell.outputs[0].traceback == ["AssertionError: f: a misconception"]


def test_the_q6_reference_agrees_with_torch_multihead_attention() -> None:
    """The oracle behind check_multi_head_attention, against torch.nn.MultiheadAttention."""
    torch.manual_seed(0)
    D, H = 12, 3
    mha = torch.nn.MultiheadAttention(D, H, bias=False, batch_first=True)
    x = torch.randn(2, 5, D)
    W_q, W_k, W_v = (w.T for w in mha.in_proj_weight.detach().chunk(3))  # torch: x @ W.T
    ours, weights = attnkit.multi_head_attention(x, x, x, H, W_q, W_k, W_v, mha.out_proj.weight.detach().T)
    theirs, their_weights = mha(x, x, x, average_attn_weights=False)
    torch.testing.assert_close(ours, theirs.detach(), atol=1e-5, rtol=1e-4)
    torch.testing.assert_close(weights, their_weights.detach(), atol=1e-5, rtol=1e-4)
