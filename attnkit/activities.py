"""Learner activities inside the lessons: write a function, predict a number, turn a knob.

Three kinds, each declared once in the lesson's exercise module
``attnkit/grading/content/exercises/lesson<N>.py`` (next to the quizzes' exercises, with the same checks
engine and the same catalogue of misconception messages) and used from a lesson cell:

1. **Write a function** (5-15 lines), checked on the spot::

       def scaled_scores(query, key):
           # YOUR CODE HERE
           raise NotImplementedError

       scaled_scores = check("lesson4.scaled_scores", scaled_scores)

   ``check`` prints ``✓ ...`` when the function is right, ``✗ <what is wrong>`` naming the
   misconception when it matches a catalogued bug, and "not done yet" while it still raises
   ``NotImplementedError``. It returns the learner's function when right and attnkit's reference
   otherwise, so the cells below work either way. It never raises.
2. **Predict, then look**: the learner writes a guess in a variable before the cell that measures
   it, then ``reveal("lesson2.noir_weight", my_guess, measured)`` prints both and one sentence why.
3. **Change a knob**: a parameter cell, then a question answered in a variable;
   ``reveal(activity_id, answer, measured)`` compares it with the measurement, within the
   activity's tolerance.

``solution(activity_id)`` shows the worked solution of a coding activity on request: it lives in
the exercise module, outside the notebook. Cells that hold an activity carry the tag
``activity:<id>`` in their metadata, so tests can run a lesson as shipped, with every activity
solved, and with a catalogued wrong answer in each coding activity
(``tests/test_lesson_activities.py``). :func:`last_result` tells those tests what a check said.
"""
from __future__ import annotations

import inspect
import math
import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

__all__ = ["check", "solution", "reveal", "last_result", "Prediction", "Result", "activity", "predictions",
           "TAG_PREFIX"]

TAG_PREFIX = "activity:"  # a lesson cell holding activity <id> carries the tag "activity:<id>"
NOT_DONE = "not done yet: the lesson continues with attnkit's version"


@dataclass(frozen=True)
class Prediction:
    """A number the learner guesses (or finds with a knob) before the lesson measures it.

    Attributes:
        id: ``"lesson<N>.<name>"``.
        question: what the guess is, as the lesson asks it (shown back in the reveal).
        why: one sentence on why the measurement comes out as it does; may use ``{measured}``.
        unit: ``"%"`` when guess and measurement are percentages, else ``""``.
        tolerance: a guess within this distance of the measurement counts as right (for a knob:
            the answer a learner finds by turning it).
        relative: ``tolerance`` is a fraction of the measurement rather than an absolute distance.
        solved: an answer the tests put in the cell when they run the lesson "solved".
        knob: True for a change-a-knob question, False for a prediction.
    """

    id: str
    question: str
    why: str
    unit: str = ""
    tolerance: float = 0.0
    relative: bool = False
    solved: float = 0.0
    knob: bool = False

    def close_enough(self, guess: float, measured: float) -> bool:
        allowed = self.tolerance * abs(measured) if self.relative else self.tolerance
        return abs(guess - measured) <= allowed + 1e-12


@dataclass(frozen=True)
class Result:
    """What the last ``check`` or ``reveal`` of one activity found.

    Attributes:
        status: ``"right"``, ``"wrong"``, ``"not done"`` (or ``"no guess"`` for a prediction).
        message: the line shown to the learner.
    """

    status: str
    message: str


_RESULTS: dict[str, Result] = {}


def last_result(activity_id: str) -> Result | None:
    """The result of the last ``check``/``reveal`` of ``activity_id`` in this kernel, or None."""
    return _RESULTS.get(activity_id)


def predictions(lesson: str | None = None) -> dict[str, Prediction]:
    """The declared predictions and knob questions by id (of one lesson, e.g. ``"lesson2"``, if given)."""
    from attnkit.grading.content.catalogue import declared

    return {p.id: p for p in declared("PREDICTIONS", lesson)}


def activity(activity_id: str) -> Any:
    """The declaration of ``activity_id``: a :class:`Prediction`, or the coding activity's
    :class:`attnkit.grading.content.catalogue.Exercise` (its reference, cases and catalogued bugs)."""
    lesson, _, name = activity_id.partition(".")
    if not lesson.startswith("lesson") or not name:
        raise ValueError(f"activity_id is {activity_id!r} but expected 'lesson<N>.<name>', "
                         f"e.g. 'lesson4.scaled_scores'")
    found = predictions(lesson).get(activity_id)
    if found is not None:
        return found
    from attnkit.grading.content.catalogue import exercise

    return exercise(activity_id)


def _record(activity_id: str, status: str, message: str) -> None:
    _RESULTS[activity_id] = Result(status, message)
    print(message)


def _unfinished(fn: Callable[..., Any], entry: Any) -> bool:
    """Whether ``fn`` still raises NotImplementedError on the exercise's first case (with correct
    versions of the other functions it may call, as the check gives it)."""
    from attnkit.grading.content.catalogue import resolve
    from attnkit.grading.content.engine import isolate, quiet

    case = entry.cases(0)[0]
    run = resolve(entry.adapter)(fn) if entry.adapter else fn  # e.g. fn inside a layer the check builds
    with quiet(), isolate(fn, {name: resolve(path) for name, path in entry.replacements.items()}):
        try:
            case.call(run, entry.backend)
        except NotImplementedError:
            return True
        except Exception:  # a real attempt that fails: the check below names it
            return False
    return False


def check(activity_id: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    """Check the learner's function for a coding activity; print what the check found.

    Args:
        activity_id: ``"lesson<N>.<name>"``, declared in ``attnkit/grading/content/exercises/lesson<N>_<topic>.py``.
        fn: the function the learner wrote in the cell.

    Returns:
        ``fn`` when it passes every case, else the exercise's reference, so that the lesson's
        later cells run either way. Never raises: a wrong or unfinished activity never stops a lesson.
    """
    entry = activity(activity_id)
    reference = entry.reference
    try:
        if _unfinished(fn, entry):
            _record(activity_id, "not done", f"… {activity_id}: {NOT_DONE}.")
            return reference
        from attnkit.grading.content.engine import check as run_check

        run_check(fn, entry)
    except AssertionError as failed:
        _record(activity_id, "wrong", f"✗ {failed}\n  (the lesson continues with attnkit's version; "
                                      f"fix the cell and run it again, or call solution({activity_id!r}))")
        return reference
    except Exception as error:  # the checks engine itself broke: say so, keep the lesson going
        _record(activity_id, "wrong", f"✗ {activity_id}: the check could not run ({type(error).__name__}: {error})")
        return reference
    _record(activity_id, "right", f"✓ {activity_id}: right on every case; the lesson continues with your function.")
    return fn


def solution(activity_id: str) -> None:
    """Print the worked solution of a coding activity (it is kept outside the notebook)."""
    entry = activity(activity_id)
    source = textwrap.dedent(inspect.getsource(entry.reference))
    print(f"A worked solution for {activity_id}:\n\n{source}")


def _as_number(value: Any) -> float | None:
    if value is Ellipsis or value is None or isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def reveal(activity_id: str, guess: Any, measured: float) -> None:
    """Put the learner's guess (or knob answer) next to the measurement, and say why.

    Args:
        activity_id: a :class:`Prediction` declared in the lesson's exercise module.
        guess: the number the learner wrote (``...`` while they have not).
        measured: what the lesson measured, in the same unit as the guess.

    Prints ``✓`` when the guess is within the activity's tolerance, ``✗`` when not, and records
    it for :func:`last_result`. Returns nothing (a cell ending with it shows only the printout)
    and never raises.
    """
    entry = activity(activity_id)
    unit = entry.unit
    why = entry.why.format(measured=measured)
    number = _as_number(guess)
    shown = f"{measured:.3g}{unit}"
    if number is None:
        _record(activity_id, "no guess", f"… {activity_id}: no answer written yet ({entry.question}). "
                                         f"Measured: {shown}. {why}")
        return
    right = entry.close_enough(number, measured)
    mark = "✓" if right else "✗"
    verdict = "close" if right else "off"
    _record(activity_id, "right" if right else "wrong",
            f"{mark} {activity_id}: you said {number:.3g}{unit}, measured {shown} ({verdict}). {why}")
