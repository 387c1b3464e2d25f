"""Conceptual questions: the form each answer takes, and a hint that does not give it away.

A quiz asks a question in Markdown and the learner stores the answer in a variable (``answer_<x>``
for question ``q<N>_<x>``). The questions are declared with their quiz's exercises, in
``attnkit/grading/content/exercises/<quiz_id>.py`` (``QUESTIONS = [Question(...), ...]``).

The visible test calls ``check_choice(answer, question_id)`` or ``check_number(answer,
question_id)`` without an expected value: that only checks the answer's form (one of the options,
a finite number) and says so. The hidden test passes the answer key: ``expected=``, and ``wrong=``,
the typical wrong answers mapped to the misconception each reveals (and, optionally, ``hint=``, a
sharper hint than the declared one). A wrong answer then fails with its misconception, or with
the hint.

This package ships to learners, so no declaration holds anything that tells the right answer from a
wrong one: only the question ids, the options, how exact a number must be, and a hint that says
what to revisit. The answer key lives only in the hidden tests (its one reader:
:func:`attnkit.grading.content.answers.answer_key`).

>>> check_choice("d", "q4_softmax_axis")  # a visible test checks the form only
Traceback (most recent call last):
attnkit.grading.content.engine.CheckFailed: q4_softmax_axis: answer with one of 'a', 'b', 'c' (a string), not 'd'
>>> check_number("many", "q5_causal_count")
Traceback (most recent call last):
attnkit.grading.content.engine.CheckFailed: q5_causal_count: answer with a finite number, not 'many'
"""
from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from attnkit.grading.content.engine import NOT_ANSWERED, fail

__all__ = ["Question", "QUESTIONS", "ABC", "check_choice", "check_number",  # noqa: F822 (QUESTIONS: module __getattr__)
           "answer_id"]

ABC = ("a", "b", "c")
FORM_ONLY = ("{id}: the form of your answer is right; its value is graded by `attnkit grade` "
             "(and by your instructor's nbgrader), not here.")


@dataclass(frozen=True)
class Question:
    """A conceptual question: what form its answer takes and what to revisit if it is wrong.

    Attributes:
        id: ``q<N>_<x>``; the learner answers in the variable ``answer_<x>``.
        hint: what a wrong answer is told by default (never the answer).
        options: the option letters of a multiple-choice question; ``()`` for a number.
        tolerance: how far from the answer a number may be.
        quiz: filled in by the registry.
    """

    id: str
    hint: str
    options: tuple[str, ...] = ()
    tolerance: float = 0.0
    quiz: str = ""

    @property
    def variable(self) -> str:
        """The name of the answer variable, ``answer_<x>`` for ``q<N>_<x>``."""
        return "answer_" + self.id.split("_", 1)[1]

    @property
    def form(self) -> str:
        """The answer's form in words, e.g. ``'"a", "b" or "c"'`` or ``"a number"``."""
        if not self.options:
            return "a number"
        quoted = [f'"{o}"' for o in self.options]
        return ", ".join(quoted[:-1]) + " or " + quoted[-1]


def __getattr__(name: str) -> Any:
    if name == "QUESTIONS":  # read from the exercise modules on first use
        return _questions()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _questions() -> dict[str, Question]:
    from attnkit.grading.content.catalogue import questions

    return questions()


def _fail(message: str, misconception: str | None = None) -> None:
    __tracebackhide__ = True
    fail(message, misconception)


def answer_id(question_id: str, wrong_answer: Any) -> str:
    """The misconception id of a typical wrong answer (a key of ``wrong=``): ``"q4_softmax_axis=a"``,
    ``"q4_true_softmax=75"``. It names the learner's own answer, never the expected one."""
    if isinstance(wrong_answer, (int, float)) and not isinstance(wrong_answer, bool):
        return f"{question_id}={float(wrong_answer):g}"
    return f"{question_id}={wrong_answer}"


def _unanswered(answer: Any) -> bool:
    """The answer cell as handed out (``answer_x = ...``); judged grading fetches ``...`` from the
    learner's kernel as an opaque value of kind ``ellipsis``."""
    return answer is ... or answer is None or (type(answer).__name__ == "Opaque"
                                                 and getattr(answer, "kind", None) == "ellipsis")


def check_choice(answer: Any, question_id: str, expected: str | None = None,
                 wrong: Mapping[str, str] | None = None, hint: str | None = None) -> None:
    """Check a multiple-choice answer: its form always, its value when ``expected`` is given.

    Args:
        answer: the learner's answer, one of the question's option letters (case and spaces ignored).
        question_id: a declared question's id.
        expected: the right option (hidden tests only); ``None`` checks only the form.
        wrong: wrong options mapped to the misconception each reveals (hidden tests only).
        hint: what a wrong answer outside ``wrong`` is told; the question's own hint by default.

    Raises:
        CheckFailed: (an AssertionError) the answer is not an option, or not ``expected``.
    """
    __tracebackhide__ = True
    q = _questions()[question_id]
    given = answer.strip().lower() if isinstance(answer, str) else answer
    if given not in q.options:
        _fail(f"{question_id}: answer with one of {', '.join(repr(o) for o in q.options)} (a string), "
              f"not {answer!r}", NOT_ANSWERED if _unanswered(answer) else None)
    if expected is None:
        print(FORM_ONLY.format(id=question_id))
        return
    if given != expected:
        known = given in (wrong or {})
        _fail(f"{question_id}: {(wrong or {}).get(given, 'not quite: ' + (hint or q.hint))}",
              answer_id(question_id, given) if known else None)


def check_number(answer: Any, question_id: str, expected: float | None = None,
                 wrong: Mapping[float, str] | None = None, hint: str | None = None,
                 tolerance: float | None = None) -> None:
    """Check a numeric answer: a finite number always, within the tolerance of ``expected`` when given.

    Args:
        answer: the learner's answer, a number (a bool is not one).
        question_id: a declared question's id.
        expected: the right value (hidden tests only); ``None`` checks only the form.
        wrong: typical wrong values mapped to the misconception each reveals (hidden tests only);
            an answer within the tolerance of one gets its message.
        hint: what any other wrong answer is told; the question's own hint by default.
        tolerance: the absolute tolerance; the question's own by default.

    Raises:
        CheckFailed: (an AssertionError) the answer is not a finite number, or not close to ``expected``.
    """
    __tracebackhide__ = True
    q = _questions()[question_id]
    try:
        value = float(answer)
    except (TypeError, ValueError):
        value = math.nan
    if isinstance(answer, bool) or not math.isfinite(value):
        _fail(f"{question_id}: answer with a finite number, not {answer!r}",
              NOT_ANSWERED if _unanswered(answer) else None)
    if expected is None:
        print(FORM_ONLY.format(id=question_id))
        return
    tol = q.tolerance if tolerance is None else tolerance

    def close(target: float) -> bool:
        return abs(value - float(target)) <= max(tol, 1e-9 * abs(float(target)))

    if not close(expected):
        near = [(number, msg) for number, msg in (wrong or {}).items() if close(number)]
        _fail(f"{question_id}: {near[0][1] if near else 'not quite: ' + (hint or q.hint)}",
              answer_id(question_id, near[0][0]) if near else None)
