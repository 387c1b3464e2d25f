"""Lesson 4's activities: guess softmax's weight on "cat", guess how peaked an unscaled softmax gets,
find the width at which it passes one half, write attention yourself.

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
]

PREDICTIONS = [
    Prediction("lesson4.cat_weight",
               'the weight, in percent, that softmax gives "cat" for the scores 0.2, 0.9, 0.1 '
               "(the newsletter says 75%)",
               "The scores differ by less than 1 and e^0.7 is only about 2, so softmax keeps the weights "
               "close together: about half on \"cat\", not three quarters.",
               unit="%", tolerance=5.0, solved=51.4),
    Prediction("lesson4.unscaled_max_weight",
               "the mean largest softmax weight, in percent, of 16 random keys at d_k = 1024 without "
               "the 1/sqrt(d_k) (uniform would be 6.25%)",
               "Unscaled scores have a spread of sqrt(1024) = 32, so the top key's score is tens above the "
               "next one and exp gives it nearly everything: the softmax is almost one-hot.",
               unit="%", tolerance=10.0, solved=96.5),
    Prediction("lesson4.half_weight_width",
               "the smallest width d_k (a power of 2) at which, without the 1/sqrt(d_k), the largest of 16 "
               "weights averages more than 50%",
               "Unscaled scores spread like sqrt(d_k): already at d_k = {measured:.0f} the top key's lead is "
               "large enough for softmax to give it more than half, while the scaled version stays near "
               "a quarter at every width.",
               solved=8.0, knob=True),
]
