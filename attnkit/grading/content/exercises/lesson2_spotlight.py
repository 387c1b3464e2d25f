"""Lesson 2's activities: re-temper a spotlight, guess the weight on "black", find the temperature
that halves it.

Declared like a quiz's exercises (see :mod:`attnkit.grading.content.catalogue`); the lesson calls them
through :mod:`attnkit.activities`.
"""
from __future__ import annotations

import numpy as np

from attnkit.activities import Prediction
from attnkit.attention import softmax
from attnkit.grading.content.catalogue import Bug, Case, Exercise, change

QUIZ = "lesson2"


def retemper(weights, temperature):
    """Spotlight weights (..., S) after dividing the scores behind them by ``temperature``."""
    scores = np.log(weights) / temperature  # the scores, up to a constant per row, divided by T
    scores = scores - scores.max(axis=-1, keepdims=True)  # softmax ignores a constant: avoid overflow
    e = np.exp(scores)
    return e / e.sum(axis=-1, keepdims=True)  # each row sums to 1 again


def retemper_cases(seed: int) -> list[Case]:
    rng = np.random.default_rng(seed)
    row = softmax(rng.normal(size=4) * 2)
    rows = softmax(rng.normal(size=(3, 5)) * 2, axis=-1)
    return [Case("one spotlight of 4 words, T = 2 (flatter)", row, 2.0),
            Case("one spotlight of 4 words, T = 0.5 (sharper)", row, 0.5),
            Case("3 spotlights over 5 words, T = 3", rows, 3.0)]


_RETEMPER = '''
def retemper(weights, temperature):
    scores = {scores}
    scores = scores - scores.max(axis=-1, keepdims=True)
    e = np.exp(scores)
    return {ret}
'''
_RIGHT = {"scores": "np.log(weights) / temperature", "ret": "e / e.sum(axis=-1, keepdims=True)"}

EXERCISES = [
    Exercise(
        "retemper", reference=retemper, cases=retemper_cases,
        bugs=[
            Bug("retemper_multiplied",
                "the scores were multiplied by the temperature: T > 1 must flatten the spotlight and T < 1 "
                "sharpen it, so the scores are divided by T.",
                change(_RETEMPER, _RIGHT, scores="np.log(weights) * temperature")),
            Bug("retemper_no_log",
                "softmax ran on the weights themselves: weights are scores that softmax already "
                "exponentiated. Go back to the scores first (which function undoes exp?).",
                change(_RETEMPER, _RIGHT, scores="weights / temperature")),
            Bug("retemper_not_normalised",
                "the new weights do not sum to 1: after exponentiating, divide by the sum over the "
                "source words, as softmax does.",
                change(_RETEMPER, _RIGHT, ret="e")),
            Bug("retemper_wrong_axis",
                "the normalisation ran over the output words (axis 0): each output word's spotlight (one "
                "row) must sum to 1 over the source words.",
                change(_RETEMPER, _RIGHT, ret="e / e.sum(axis=0, keepdims=True)")),
        ]),
]

PREDICTIONS = [
    Prediction("lesson2.noir_weight",
               'the weight, in percent, on "black" when the model writes "noir" (the newsletter drew 80%)',
               "The encoder is bidirectional, so the key at 'black' already knows its neighbours: one "
               "key in context can take nearly the whole spotlight.",
               unit="%", tolerance=10.0, solved=80.0),
    Prediction("lesson2.half_temperature",
               'the temperature T at which writing "noir" puts only half of its weight on "black"',
               "Softmax turns a score gap into a weight ratio exp(gap / T): the gap here is large, so it "
               "takes a T well above 1 to flatten the spotlight to 50%.",
               tolerance=0.15, relative=True, solved=5.7, knob=True),
]
