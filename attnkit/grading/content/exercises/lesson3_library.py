"""Lesson 3's activities: measure how spread out a spotlight is (entropy), guess the top weight at
T = 1, find how many books it takes before the best gets under 10%.

Declared like a quiz's exercises (see :mod:`attnkit.grading.content.catalogue`); the lesson calls them
through :mod:`attnkit.activities`.
"""
from __future__ import annotations

import numpy as np

from attnkit.activities import Prediction
from attnkit.attention import softmax
from attnkit.grading.content.catalogue import Bug, Case, Exercise, change

QUIZ = "lesson3"


def entropy(weights):
    """H(w) = -sum_s w_s ln w_s over the last axis, in nats; a zero weight adds nothing (0 ln 0 = 0)."""
    w = np.asarray(weights, dtype=float)
    logs = np.log(np.where(w > 0, w, 1.0))  # ln 1 = 0 where the weight is 0
    return -(w * logs).sum(axis=-1)


def entropy_cases(seed: int) -> list[Case]:
    rng = np.random.default_rng(seed)
    rows = softmax(rng.normal(size=(3, 6)) * 2, axis=-1)
    rows[0] = np.eye(6)[seed % 6]  # one book takes everything: hard retrieval
    return [Case("uniform weights over 4 books", np.full(4, 0.25)),
            Case("a spotlight of 5 books", softmax(rng.normal(size=5) * 2)),
            Case("3 spotlights over 6 books, the first one-hot (zero weights)", rows)]


_ENTROPY = '''
def entropy(weights):
    w = np.asarray(weights, dtype=float)
    logs = {logs}
    return {ret}
'''
_RIGHT = {"logs": "np.log(np.where(w > 0, w, 1.0))", "ret": "-(w * logs).sum(axis=-1)"}

EXERCISES = [
    Exercise(
        "entropy", reference=entropy, cases=entropy_cases,
        bugs=[
            Bug("entropy_bits",
                "this is in bits (logarithm base 2): the lesson measures entropy in nats, with the natural "
                "logarithm, so uniform weights over S books give ln S.",
                change(_ENTROPY, _RIGHT, logs="np.log2(np.where(w > 0, w, 1.0))")),
            Bug("entropy_no_minus",
                "the result is negative: every ln w_s is at most 0 (weights are at most 1), so entropy "
                "carries a minus sign to come out >= 0.",
                change(_ENTROPY, _RIGHT, ret="(w * logs).sum(axis=-1)")),
            Bug("entropy_zero_weight_nan",
                "a zero weight gives NaN (0 * ln 0 is 0 * -inf in floating point): a book with no weight "
                "adds no uncertainty, so count 0 ln 0 as 0.",
                change(_ENTROPY, _RIGHT, logs="np.log(w)")),
            Bug("entropy_summed_everything",
                "the sum ran over every weight of every row: entropy is one number per spotlight, summed "
                "over the books (the last axis).",
                change(_ENTROPY, _RIGHT, ret="-(w * logs).sum()")),
        ]),
]

PREDICTIONS = [
    Prediction("lesson3.plain_top_weight",
               "the largest weight, in percent, that any of the S books gets with plain softmax (T = 1)",
               "The cosines span only a few tenths and softmax turns a gap into a ratio exp(gap / T): at "
               "T = 1 that ratio is close to 1, so every book gets about 1/S.",
               unit="%", tolerance=3.0, solved=8.0),
    Prediction("lesson3.books_under_10",
               "the smallest number of books (the first n of the library) in which, at T = 1, even the best "
               "book gets less than 10% of the weight",
               "The cosines differ by a few tenths, so at T = 1 every book gets close to 1/n and the best one "
               "a little more: it takes {measured:.0f} books before it drops under 10%.",
               solved=13.0, knob=True),
]
