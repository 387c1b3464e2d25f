"""The quizzes of the course, in one place: their ids, the lesson each follows, their titles.

Everything that lists quizzes reads :data:`QUIZZES`: the Makefile (``python -m
attnkit.grading.content.quizzes`` prints the ids), ``attnkit grade`` and ``attnkit demo-class``, the
build script and the tests. A quiz's exercises, bugs and questions are declared in its own module,
``attnkit/grading/content/exercises/<quiz_id>.py`` (see :mod:`attnkit.grading.content.catalogue`); its readable
source is ``quizzes_src/<quiz_id>.md``. Adding a quiz is one line here plus those two files.

This module imports nothing heavy, so the Makefile can ask it cheaply.
"""
from __future__ import annotations

import sys
from dataclasses import dataclass

__all__ = ["Quiz", "QUIZZES", "QUIZ_IDS", "quiz", "main"]


@dataclass(frozen=True)
class Quiz:
    """One nbgrader assignment: ``solutions/<id>/<id>.ipynb`` built from ``quizzes_src/<id>.md``.

    Attributes:
        id: the assignment id, e.g. ``"q4_qkv_math"``; also the name of its exercise module.
        lesson: the number of the lesson it follows.
        title: what it asks, in a few words.
    """

    id: str
    lesson: int
    title: str


QUIZZES: tuple[Quiz, ...] = (
    Quiz("q1_bottleneck", 1, "the RNN loop and how much of the first word survives"),
    Quiz("q2_spotlight", 2, "attention weights, context vectors, alignment"),
    Quiz("q3_library", 3, "cosine similarity, vector search and the soft lookup"),
    Quiz("q4_qkv_math", 4, "a stable softmax and scaled dot-product attention with a mask"),
    Quiz("q5_self_attention", 5, "the causal mask and (causal) self-attention"),
    Quiz("q6_multi_head", 6, "split and merge heads, multi-head attention, attention inside MiniLM"),
    Quiz("q7_transformer", 7, "sinusoidal positions, a pre-norm sublayer, the three masks, cross-attention"),
    Quiz("q8_training", 8, "the warm-up schedule, a decoder layer's arithmetic, generation and fused attention"),
)

QUIZ_IDS: tuple[str, ...] = tuple(q.id for q in QUIZZES)


def quiz(quiz_id: str) -> Quiz:
    """The quiz with this id; ``KeyError`` naming the known ids otherwise."""
    for q in QUIZZES:
        if q.id == quiz_id:
            return q
    raise KeyError(f"quiz_id is {quiz_id!r} but expected one of {', '.join(QUIZ_IDS)}")


def main() -> int:
    """Print the quiz ids on one line (the Makefile's ``QUIZ_IDS``)."""
    print(" ".join(QUIZ_IDS))
    return 0


if __name__ == "__main__":
    sys.exit(main())
