"""Lesson 2's activities: guess the weight on "black", re-temper a spotlight, find the temperature at
which a translation breaks, write the padding mask of a batch.

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

def padding_mask(lengths, S):
    """Boolean (B, 1, S): True where source position j < the sentence's length (a real word)."""
    lengths = np.asarray(lengths)  # (B,)
    positions = np.arange(S)  # (S,)
    return positions[None, None, :] < lengths[:, None, None]  # (1, 1, S) < (B, 1, 1) -> (B, 1, S)


def padding_cases(seed: int) -> list[Case]:
    rng = np.random.default_rng(seed)
    return [Case("lengths [3, 1, 4], S = 4", [3, 1, 4], 4),
            Case("lengths [2, 5] as a numpy array, S = 6", np.array([2, 5]), 6),
            Case("5 random lengths, S = 7", rng.integers(1, 8, size=5), 7)]


def _boolean(mask) -> str | None:
    dtype = getattr(mask, "dtype", None)
    if dtype is None or np.dtype(dtype) != np.bool_:
        return f"the mask must be boolean (True = may attend), but its dtype is {dtype}: compare, don't multiply."
    return None


_PADDING = '''
def padding_mask(lengths, S):
    lengths = np.asarray(lengths)
    positions = np.arange(S)
    return {ret}
'''
_PAD_RIGHT = dict(ret="positions[None, None, :] < lengths[:, None, None]")

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
    Exercise("padding_mask", reference=padding_mask, cases=padding_cases, validate=_boolean,
             forbidden=("attnkit.padding_mask", "attnkit.masks.padding_mask"), bugs=[
        Bug("l2_padding_polarity",
            "the mask is True on the padding: True means 'this source word may be looked at', so it must "
            "be True on the real words, the positions below the length.",
            change(_PADDING, _PAD_RIGHT, ret="positions[None, None, :] >= lengths[:, None, None]")),
        Bug("l2_padding_off_by_one",
            "one padding position too many is allowed: a sentence of length n has its real words at "
            "positions 0 .. n-1.",
            change(_PADDING, _PAD_RIGHT, ret="positions[None, None, :] <= lengths[:, None, None]")),
        Bug("l2_padding_no_query_axis",
            "the mask has shape (B, S): it must broadcast against the scores (B, L, S), so it needs an axis "
            "of size 1 for the output words: (B, 1, S).",
            change(_PADDING, _PAD_RIGHT, ret="positions[None, :] < lengths[:, None]")),
    ]),
]

PREDICTIONS = [
    Prediction("lesson2.noir_weight",
               'the weight, in percent, on "black" when the model writes "noir" (the newsletter drew 80%)',
               "The encoder is bidirectional, so its state at 'black' already knows its neighbours: one "
               "word in context can take nearly the whole spotlight.",
               unit="%", tolerance=10.0, solved=80.0),
    Prediction("lesson2.first_wrong_temperature",
               'the lowest temperature T (one decimal) at which the translation of "the small white mouse '
               'slept under a big table" goes wrong',
               "A flatter spotlight blends the neighbours' states into the context; from T = {measured:.1f} "
               "the blend makes the decoder pick a wrong word, and greedy decoding cannot take it back.",
               tolerance=0.1, relative=True, solved=4.2, knob=True),
]
