"""Conceptual questions: the form each answer takes, and a hint that does not give it away.

A quiz asks a question in Markdown and the learner stores the answer in a variable. The visible
test calls ``check_choice(answer, question_id)`` or ``check_number(answer, question_id)`` without
an expected value: that only checks the answer's form (one of the options, a finite number). The
hidden test passes the answer key: ``expected=``, and ``wrong=``, the typical wrong answers mapped
to the misconception each reveals (and, optionally, ``hint=``, a sharper hint than the one here).
A wrong answer then fails with its misconception, or with the hint.

This module ships with the package a learner installs, so it holds nothing that tells the right
answer from a wrong one: only the question ids, the options, how exact a number must be, and a
hint that says what to revisit. The answer key lives only in the hidden tests.

>>> check_choice("d", "q4_softmax_axis")  # a visible test checks the form only
Traceback (most recent call last):
AssertionError: q4_softmax_axis: answer with one of 'a', 'b', 'c' (a string), not 'd'
>>> check_number("many", "q5_score_count")
Traceback (most recent call last):
AssertionError: q5_score_count: answer with a finite number, not 'many'
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Mapping

__all__ = ["Question", "QUESTIONS", "check_choice", "check_number"]

ABC = ("a", "b", "c")


@dataclass(frozen=True)
class Question:
    """A conceptual question: what form its answer takes and what to revisit if it is wrong."""

    id: str
    hint: str
    options: tuple[str, ...] = ()
    tolerance: float = 0.0


_QUESTIONS = [
    # q1
    Question("q1_decoder_numbers", "revisit what a plain encoder hands over to its decoder."),
    Question("q1_sequential_steps", "revisit how an RNN walks through a sentence."),
    Question("q1_why_fade", "revisit what the encoder does to its state as a long sentence is read.", ABC),
    # q2
    Question("q2_weights_sum", "revisit how the spotlight weights are made from the scores."),
    Question("q2_word_order", "revisit how each output word chooses the source words it looks at.", ABC),
    Question("q2_weights_origin", "revisit where the scores behind the weights come from.", ABC),
    # q3
    Question("q3_cold_limit", "divide the scores by a tiny temperature and look at what softmax does.", ABC),
    Question("q3_hot_limit", "divide the scores by a huge temperature and look at what softmax does.", ABC),
    Question("q3_cosine_scaled", "revisit the formula of cosine similarity.", tolerance=1e-6),
    # q4
    Question("q4_true_softmax", "softmax(s)_i = exp(s_i) / sum_j exp(s_j); compute it, do not estimate it.",
             tolerance=0.5),
    Question("q4_softmax_axis", "revisit which weights one softmax makes sum to 1 in attention.", ABC),
    Question("q4_scale_divisor", "revisit why scaled dot-product attention scales the scores.", tolerance=1e-6),
    # q5
    Question("q5_score_count", "revisit which positions self-attention scores against which."),
    Question("q5_causal_rule", "revisit what a causal mask hides, and why.", ABC),
    Question("q5_parallel_steps", "revisit which computations of self-attention wait for others."),
    # q6
    Question("q6_num_heads", "read num_attention_heads in MiniLM's config.json."),
    Question("q6_head_width", "d_k = D / H, with D = hidden_size in the config (the model width d_model)."),
    Question("q6_combine_heads", "revisit the last step of multi-head attention.", ABC),
]

QUESTIONS: dict[str, Question] = {q.id: q for q in _QUESTIONS}


def _fail(message: str) -> None:
    __tracebackhide__ = True
    raise AssertionError(message)


def check_choice(answer: Any, question_id: str, expected: str | None = None,
                 wrong: Mapping[str, str] | None = None, hint: str | None = None) -> None:
    """Check a multiple-choice answer: its form always, its value when ``expected`` is given.

    Args:
        answer: the learner's answer, one of the question's option letters (case and spaces ignored).
        question_id: a key of ``QUESTIONS``.
        expected: the right option (hidden tests only); ``None`` checks only the form.
        wrong: wrong options mapped to the misconception each reveals (hidden tests only).
        hint: what a wrong answer outside ``wrong`` is told; the question's own hint by default.

    Raises:
        AssertionError: the answer is not an option, or not ``expected``.
    """
    __tracebackhide__ = True
    q = QUESTIONS[question_id]
    given = answer.strip().lower() if isinstance(answer, str) else answer
    if given not in q.options:
        _fail(f"{question_id}: answer with one of {', '.join(repr(o) for o in q.options)} (a string), "
              f"not {answer!r}")
    if expected is not None and given != expected:
        _fail(f"{question_id}: {(wrong or {}).get(given, 'not quite: ' + (hint or q.hint))}")


def check_number(answer: Any, question_id: str, expected: float | None = None,
                 wrong: Mapping[float, str] | None = None, hint: str | None = None,
                 tolerance: float | None = None) -> None:
    """Check a numeric answer: a finite number always, within the tolerance of ``expected`` when given.

    Args:
        answer: the learner's answer, a number (a bool is not one).
        question_id: a key of ``QUESTIONS``.
        expected: the right value (hidden tests only); ``None`` checks only the form.
        wrong: typical wrong values mapped to the misconception each reveals (hidden tests only);
            an answer within the tolerance of one gets its message.
        hint: what any other wrong answer is told; the question's own hint by default.
        tolerance: the absolute tolerance; the question's own by default.

    Raises:
        AssertionError: the answer is not a finite number, or not close to ``expected``.
    """
    __tracebackhide__ = True
    q = QUESTIONS[question_id]
    try:
        value = float(answer)
    except (TypeError, ValueError):
        value = math.nan
    if isinstance(answer, bool) or not math.isfinite(value):
        _fail(f"{question_id}: answer with a finite number, not {answer!r}")
    if expected is None:
        return
    tol = q.tolerance if tolerance is None else tolerance

    def close(target: float) -> bool:
        return abs(value - float(target)) <= max(tol, 1e-9 * abs(float(target)))

    if not close(expected):
        near = [msg for number, msg in (wrong or {}).items() if close(number)]
        _fail(f"{question_id}: {near[0] if near else 'not quite: ' + (hint or q.hint)}")
