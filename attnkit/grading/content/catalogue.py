"""Every graded exercise, declared once: its reference, cases, catalogued bugs and what it may not call.

The declarations live in one module per quiz, ``attnkit/grading/content/exercises/<quiz_id>.py`` (lesson
activities: ``exercises/lesson<N>_<topic>.py``). A module declares, side by side::

    QUIZ = "lesson4"            # optional; the module's name by default (q4_qkv_math.py -> "q4_qkv_math")
    EXERCISES = [Exercise("softmax", reference=attnkit.softmax, cases=softmax_cases,
                          forbidden=("attnkit.softmax", ...), builtin_bug="softmax_builtin",
                          bugs=[Bug("softmax_global_sum", "the exponentials were divided by ...",
                                    source=change(SOFTMAX, RIGHT, body="...")), ...]), ...]
    QUESTIONS = [Question("q4_softmax_axis", "revisit ...", options=ABC), ...]

and nothing else needs editing: the checks (``check_softmax`` in :mod:`attnkit.grading.checks`),
``attnkit bugs``, the bug table in docs/grading.md (a test compares it), the demo class and the
tests all read this registry. Adding a catalogued bug is one ``Bug(...)`` in one file; adding a
coding exercise is one ``Exercise(...)`` here plus its cells in ``quizzes_src/<quiz_id>.md``.

Inputs and the learner's outputs cross a plain-data boundary (see :mod:`attnkit.grading.content.engine`):
``Case`` arguments are numpy arrays, numbers, strings and lists of them (``backend="torch"`` turns
arrays into tensors at call time); ``replacements`` and ``adapter`` are dotted paths to public
functions, so the kernel that runs the learner's code needs none of the references.

The answer key of the conceptual questions is NOT here: this package ships to learners. It lives
in the quizzes' hidden tests; :func:`attnkit.grading.content.answers.answer_key` is its one reader.
"""
from __future__ import annotations

import functools
import importlib
import math
import pkgutil
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from attnkit.grading.content.engine import Case
from attnkit.grading.content.questions import ABC, Question
from attnkit.grading.content.quizzes import QUIZ_IDS

__all__ = ["Bug", "Exercise", "Case", "Question", "ABC", "change", "resolve", "exercises", "exercise",
           "bugs", "questions", "quiz_of", "declared"]

EXERCISE_PACKAGE = "attnkit.grading.content.exercises"


@dataclass(frozen=True)
class Bug:
    """One typical mistake in one exercise.

    Attributes:
        id: short unique name, e.g. ``"sdpa_no_scale"``.
        message: the feedback: names the misconception, does not reveal the answer.
        source: a complete buggy definition of the exercise's function, as a learner would write
            it (it replaces the solution cell when the tests inject the bug). It may use ``np``,
            ``torch``, ``math`` and the exercise's ``replacements`` by name.
        quiz, exercise: filled in by the registry from the declaring module and exercise.
    """

    id: str
    message: str
    source: str
    quiz: str = ""
    exercise: str = ""

    def function(self, namespace: Mapping[str, Any] | None = None) -> Callable[..., Any]:
        """Define the buggy function and return it (``namespace``: extra globals it may use)."""
        scope: dict[str, Any] = {"np": np, "math": math, **_default_scope(), **(namespace or {})}
        exec(compile(self.source, f"<bug {self.id}>", "exec"), scope)  # noqa: S102 (our own catalogue)
        return scope[self.exercise]


def _default_scope() -> dict[str, Any]:
    import torch

    from attnkit.attention import scaled_dot_product_attention, softmax

    return {"torch": torch, "softmax": softmax, "scaled_dot_product_attention": scaled_dot_product_attention}


@dataclass(frozen=True)
class Exercise:
    """A function the learner writes, and how it is graded.

    Attributes:
        name: the function's name, also the nbgrader ``grade_id`` of its solution cell.
        reference: the right answer, called on the same case (grader side only); with an
            ``adapter``, what the adapter wraps (``None``: the adapter's own default).
        cases: ``cases(seed) -> [Case]``: the visible test uses seed 0, the hidden test another.
        bugs: the catalogued mistakes, each recognised by running it on the same case.
        forbidden: dotted paths of built-ins that raise while the learner's code runs; every path
            must resolve (a test checks it; ``engine.forbid`` raises otherwise).
        builtin_bug: the id of the bug whose message a forbidden call earns (else a generic one).
        replacements: name -> dotted path of a correct function put in the learner's globals while
            it runs (the other exercises it calls), so each exercise is graded on its own.
        adapter: dotted path of ``adapter(fn) -> callable``, what the case calls (e.g. a model
            that runs ``fn`` inside); ``None`` calls ``fn`` itself.
        backend: ``"numpy"``, or ``"torch"``: numpy arrays of a case become tensors when called.
        rtol, atol: tolerance of every comparison and of the message that points at an entry.
        validate: ``validate(output) -> problem or None``, an extra check of a right-valued output
            (e.g. the dtype of a mask), grader side.
        quiz: filled in by the registry.
    """

    name: str
    reference: Callable[..., Any]
    cases: Callable[[int], Sequence[Case]]
    bugs: Sequence[Bug] = ()
    forbidden: Sequence[str] = ()
    builtin_bug: str | None = None
    replacements: Mapping[str, str] = field(default_factory=dict)
    adapter: str | None = None
    backend: str = "numpy"
    rtol: float = 1e-5
    atol: float = 1e-7
    validate: Callable[[Any], str | None] | None = None
    quiz: str = ""

    @property
    def id(self) -> str:
        """``"<quiz>.<name>"``, unique across the course."""
        return f"{self.quiz}.{self.name}"

    def bug(self, bug_id: str) -> Bug:
        return next(b for b in self.bugs if b.id == bug_id)


def change(template: str, right: Mapping[str, str], **edits: str) -> str:
    """A buggy source as a small change to the right one: ``template`` filled with ``right``,
    except the fields given in ``edits``."""
    return template.format(**{**right, **edits})


def resolve(path: str) -> Any:
    """The object at a dotted path such as ``"attnkit.library.retrieval.cosine_similarity"``.

    Raises:
        LookupError: nothing is found there (a renamed module or function).
    """
    parts = path.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for name in parts[cut:]:
            if not hasattr(obj, name):
                raise LookupError(f"{path!r} does not resolve: {'.'.join(parts[:cut])} has no {name!r} "
                                  f"on the way")
            obj = getattr(obj, name)
        return obj
    raise LookupError(f"{path!r} does not resolve: no module {parts[0]!r} can be imported")


@functools.cache
def _modules() -> tuple[tuple[str, Any], ...]:
    """(quiz or lesson id, module) of every exercise module, quizzes in course order."""
    package = importlib.import_module(EXERCISE_PACKAGE)
    names = [m.name for m in pkgutil.iter_modules(package.__path__) if not m.name.startswith("_")]
    order = {q: i for i, q in enumerate(QUIZ_IDS)}
    modules = []
    for module_name in sorted(names, key=lambda n: (order.get(n, len(order)), n)):
        module = importlib.import_module(f"{EXERCISE_PACKAGE}.{module_name}")
        modules.append((getattr(module, "QUIZ", module_name), module))
    return tuple(modules)


def declared(attribute: str, quiz: str | None = None) -> list[Any]:
    """Every item the exercise modules (of one quiz or lesson if given) list under ``attribute``,
    e.g. the lessons' ``PREDICTIONS`` (see :mod:`attnkit.activities`)."""
    return [item for owner, module in _modules() if quiz in (None, owner)
            for item in getattr(module, attribute, ())]


@functools.cache
def _registry() -> tuple[tuple[Exercise, ...], tuple[Question, ...]]:
    found: list[Exercise] = []
    asked: list[Question] = []
    for quiz, module in _modules():
        for ex in getattr(module, "EXERCISES", ()):
            found.append(replace(ex, quiz=quiz, bugs=tuple(replace(b, quiz=quiz, exercise=ex.name) for b in ex.bugs)))
        asked.extend(replace(q, quiz=quiz) for q in getattr(module, "QUESTIONS", ()))
    _check_unique([e.id for e in found], "exercise")
    _check_unique([b.id for e in found for b in e.bugs], "bug")
    _check_unique([q.id for q in asked], "question")
    return tuple(found), tuple(asked)


def _check_unique(ids: list[str], what: str) -> None:
    seen: set[str] = set()
    for i in ids:
        if i in seen:
            raise ValueError(f"the {what} id {i!r} is declared twice in {EXERCISE_PACKAGE}")
        seen.add(i)


def exercises(quiz: str | None = None) -> list[Exercise]:
    """The declared exercises (of one quiz or lesson if given), quizzes in course order."""
    return [e for e in _registry()[0] if quiz in (None, e.quiz)]


def exercise(name: str, quiz: str | None = None) -> Exercise:
    """One exercise by id (``"q4_qkv_math.softmax"``) or by name (``"softmax"``, with ``quiz`` or
    unique among the quizzes; quizzes win over lesson activities of the same name)."""
    if "." in name:
        quiz, name = name.split(".", 1)
    matches = [e for e in exercises(quiz) if e.name == name]
    if len(matches) > 1:
        matches = [e for e in matches if e.quiz in QUIZ_IDS] or matches
    if len(matches) != 1:
        known = ", ".join(e.id for e in exercises())
        raise KeyError(f"exercise {name!r}{f' of {quiz}' if quiz else ''} is "
                       f"{'ambiguous' if matches else 'not declared'}; known: {known}")
    return matches[0]


def bugs(quiz: str | None = None, exercise_name: str | None = None) -> dict[str, Bug]:
    """The catalogued bugs by id, in declaration order (of one quiz and exercise if given)."""
    return {b.id: b for e in exercises(quiz) if exercise_name in (None, e.name) for b in e.bugs}


def questions(quiz: str | None = None) -> dict[str, Question]:
    """The conceptual questions by id (their form and hint; never their answer)."""
    return {q.id: q for q in _registry()[1] if quiz in (None, q.quiz)}


def quiz_of(item_id: str) -> str:
    """The quiz (or lesson) that declares a bug or question id."""
    for b in bugs().values():
        if b.id == item_id:
            return b.quiz
    return questions()[item_id].quiz
