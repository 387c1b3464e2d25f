"""Lesson 4's activities: guess softmax's weight on "cat", find the temperature that gives 90%,
guess how peaked an unscaled softmax gets, write attention yourself, write a padding mask.

Declared like a quiz's exercises (see :mod:`attnkit.grading.content.catalogue`); the lesson calls them
through :mod:`attnkit.activities`.
"""
from __future__ import annotations

import numpy as np

from attnkit.activities import Prediction
from attnkit.grading.content.catalogue import Bug, Case, Exercise, change
from attnkit.grading.content.exercises.q3_library import ATTENTION_BUILTINS

QUIZ = "lesson4"


def my_attention(query, key, value):
    """Scaled dot-product attention, numpy: (output (..., L, d_v), weights (..., L, S))."""
    d_k = query.shape[-1]
    scores = query @ np.swapaxes(key, -1, -2) / np.sqrt(d_k)  # (..., L, d_k) @ (..., d_k, S) -> (..., L, S)
    exps = np.exp(scores - scores.max(axis=-1, keepdims=True))  # stable: the largest exp is 1
    weights = exps / exps.sum(axis=-1, keepdims=True)  # (..., L, S), each row sums to 1
    return weights @ value, weights  # (..., L, S) @ (..., S, d_v) -> (..., L, d_v)


def attention_cases(seed: int) -> list[Case]:
    rng = np.random.default_rng(seed)
    q, k, v = rng.normal(size=(2, 5, 8)), rng.normal(size=(2, 5, 8)), rng.normal(size=(2, 5, 3))
    return [Case("query, key (2, 5, 8) and value (2, 5, 3)", q, k, v),
            Case("4 queries, 6 keys, no batch: (4, 8), (6, 8), (6, 2)", rng.normal(size=(4, 8)),
                 rng.normal(size=(6, 8)), rng.normal(size=(6, 2))),
            Case("large scores (query times 1000)", q * 1000, k, v)]


_ATTENTION = '''
def my_attention(query, key, value):
    d_k = query.shape[-1]
    scores = {scores}
    exps = {exps}
    weights = exps / exps.sum(axis={axis}, keepdims=True)
    return {ret}
'''
_RIGHT = dict(scores="query @ np.swapaxes(key, -1, -2) / np.sqrt(d_k)",
              exps="np.exp(scores - scores.max(axis=-1, keepdims=True))", axis="-1",
              ret="weights @ value, weights")


def padding_mask(lengths, S):
    """Boolean (B, 1, S): True where key position j < the sequence's length (a real token)."""
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
    Exercise("my_attention", reference=my_attention, cases=attention_cases, forbidden=ATTENTION_BUILTINS,
             builtin_bug="l4_builtin_attention", bugs=[
        Bug("l4_no_scale",
            "the scores are not scaled: the dot product of d_k-wide vectors grows with d_k, and section 3 "
            "showed what unscaled scores do to softmax. Divide them by the right quantity.",
            change(_ATTENTION, _RIGHT, scores="query @ np.swapaxes(key, -1, -2)")),
        Bug("l4_scale_by_d_k",
            "the scores were divided by d_k: their variance is d_k, so the right divisor is their typical "
            "size, the standard deviation.",
            change(_ATTENTION, _RIGHT, scores="query @ np.swapaxes(key, -1, -2) / d_k",
                   exps="np.exp(scores - scores.max(axis=-1, keepdims=True))")),
        Bug("l4_softmax_over_queries",
            "the softmax ran over the queries (axis -2), the slip of section 2: each query shares its "
            "attention among the keys, so each row must sum to 1.",
            change(_ATTENTION, _RIGHT, exps="np.exp(scores - scores.max(axis=-2, keepdims=True))", axis="-2")),
        Bug("l4_overflow",
            "exp overflows on large scores (exp(1000) is inf, inf / inf is NaN): subtract each row's largest "
            "score before exponentiating; softmax does not change.",
            change(_ATTENTION, _RIGHT, exps="np.exp(scores)")),
        Bug("l4_pair_swapped",
            "the pair comes back in the wrong order: attention returns (output, weights), the weighted sum "
            "first.", change(_ATTENTION, _RIGHT, ret="weights, weights @ value")),
        Bug("l4_builtin_attention",
            "this calls a ready-made attention (attnkit's or torch's): the activity is to write the scores, "
            "the softmax and the weighted sum yourself.", '''
def my_attention(query, key, value):
    import attnkit
    return attnkit.scaled_dot_product_attention(query, key, value)
'''),
    ]),
    Exercise("padding_mask", reference=padding_mask, cases=padding_cases, validate=_boolean,
             forbidden=("attnkit.padding_mask", "attnkit.masks.padding_mask"), bugs=[
        Bug("l4_padding_polarity",
            "the mask is True on the padding: True means 'this query may attend to this key', so it must "
            "be True on the real tokens, the positions below the length.",
            change(_PADDING, _PAD_RIGHT, ret="positions[None, None, :] >= lengths[:, None, None]")),
        Bug("l4_padding_off_by_one",
            "one padding position too many is allowed: a sequence of length n has its real tokens at "
            "positions 0 .. n-1.",
            change(_PADDING, _PAD_RIGHT, ret="positions[None, None, :] <= lengths[:, None, None]")),
        Bug("l4_padding_no_query_axis",
            "the mask has shape (B, S): it must broadcast against the scores (B, L, S), so it needs an axis "
            "of size 1 for the queries: (B, 1, S).",
            change(_PADDING, _PAD_RIGHT, ret="positions[None, :] < lengths[:, None]")),
    ]),
]

PREDICTIONS = [
    Prediction("lesson4.cat_weight",
               'the weight, in percent, that softmax gives "cat" for the scores 0.2, 0.9, 0.1 '
               "(the newsletter says 75%)",
               "The scores differ by less than 1 and e^0.7 is only about 2, so softmax keeps the weights "
               "close together: about half on \"cat\", not three quarters.",
               unit="%", tolerance=5.0, solved=51.4),
    Prediction("lesson4.temperature_for_90",
               'the temperature T at which "cat" gets 90% of the weight',
               "A temperature below 1 multiplies the score gaps; it takes T of about {measured:.2f} "
               "(scores multiplied by about 4) to push \"cat\" to 90%.",
               tolerance=0.1, relative=True, solved=0.258, knob=True),
    Prediction("lesson4.unscaled_max_weight",
               "the mean largest softmax weight, in percent, of 16 random keys at d_k = 1024 without "
               "the 1/sqrt(d_k) (uniform would be 6.25%)",
               "Unscaled scores have a spread of sqrt(1024) = 32, so the top key's score is tens above the "
               "next one and exp gives it nearly everything: the softmax is almost one-hot.",
               unit="%", tolerance=10.0, solved=96.5),
]
