"""What the quiz test cells call: ``check_<exercise>(fn, seed=0)`` and the conceptual-answer checks.

``check_softmax(fn, seed)`` is :func:`attnkit.grading.content.engine.check` for the exercise named
``softmax`` (declared in ``attnkit/grading/content/exercises/``): it runs the learner's ``fn`` on the
cases built from ``seed`` (the visible test uses the default, the hidden test another seed),
compares every result with the reference, and raises :class:`~attnkit.grading.content.engine.CheckFailed`
(an ``AssertionError``) with a message that names the mistake or the failing case. It returns
``None``, so a test cell that ends with a check shows nothing when the answer is right. Other
exercises the function calls are swapped for correct versions while it runs, so each exercise is
graded on its own. ``check(fn, "q4_qkv_math.softmax", seed)`` does the same by id.

Every declared exercise has its ``check_<name>``; nothing here needs editing when one is added.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from attnkit.grading.content.engine import CheckFailed, check
from attnkit.grading.content.questions import check_choice, check_number

__all__ = ["check", "check_choice", "check_number", "CheckFailed"]  # + check_<exercise> for each exercise


def _checker(name: str) -> Callable[..., None]:
    from attnkit.grading.content.catalogue import exercise

    ex = exercise(name)  # KeyError (as AttributeError below) if no such exercise is declared

    def check_exercise(fn: Callable[..., Any], seed: int = 0) -> None:
        __tracebackhide__ = True
        check(fn, ex, seed)

    check_exercise.__name__ = check_exercise.__qualname__ = f"check_{ex.name}"
    check_exercise.__doc__ = (f"Check the learner's ``{ex.name}`` ({ex.quiz}) against its reference on the "
                              f"cases of ``seed``; raise CheckFailed naming the mistake.")
    return check_exercise


def __getattr__(name: str) -> Any:
    if name.startswith("check_"):
        try:
            checker = _checker(name.removeprefix("check_"))
        except KeyError as missing:
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}: {missing}") from None
        globals()[name] = checker
        return checker
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    from attnkit.grading.content.catalogue import exercises

    return sorted({*globals(), *(f"check_{e.name}" for e in exercises())})
