"""Quiz 4, the query-key-value math: a stable softmax and scaled dot-product attention with a mask."""
from __future__ import annotations

import numpy as np

import attnkit
from attnkit.grading.content.catalogue import ABC, Bug, Case, Exercise, Question, change
from attnkit.grading.content.exercises.q3_library import ATTENTION_BUILTINS

__all__ = ["EXERCISES", "QUESTIONS", "SOFTMAX_BUILTINS", "BUILTIN_ATTENTION"]

# the message of a ready-made attention call, in every exercise that asks for attention itself
BUILTIN_ATTENTION = ("this calls a ready-made attention function (attnkit's or torch's): the exercise is to "
                     "write the scores, the mask, the softmax and the weighted sum yourself, so it earns no credit.")
SOFTMAX_BUILTINS = ("attnkit.softmax", "attnkit.attention.softmax", "torch.softmax",
                    "torch.nn.functional.softmax", "torch.Tensor.softmax", "scipy.special.softmax")


def softmax_cases(seed: int) -> list[Case]:
    rng = np.random.default_rng(seed)
    large = np.array([[1000.0, 999.0, 0.0], [1.0, 2.0, 3.0]]) + rng.uniform(0, 1, size=(2, 3))
    return [Case("scores of shape (3, 5), axis=-1", rng.normal(size=(3, 5)) * 3),
            Case("scores of shape (3, 5), axis=0", rng.normal(size=(3, 5)) * 3, axis=0),
            Case("scores of shape (2, 3, 4), axis=1", rng.normal(size=(2, 3, 4)), axis=1),
            Case("large scores (about 1000)", large)]


def sdpa_cases(seed: int) -> list[Case]:
    rng = np.random.default_rng(seed)
    q, k, v = (rng.normal(size=(2, 4, 4)) * 1.5 for _ in range(3))
    mask = np.array([[0, 0, 0, 0], [1, 0, 1, 0], [1, 1, 0, 1], [1, 1, 1, 1]], dtype=bool)  # row 0: nothing
    big = [rng.normal(size=shape) for shape in ((2, 3, 5, 8), (2, 3, 7, 8), (2, 3, 7, 6))]
    big_mask = rng.uniform(size=(5, 7)) < 0.6
    big_mask[:, 0] = True
    return [Case("query, key, value of shape (2, 4, 4), no mask", q, k, v),
            Case("shape (2, 4, 4) with a (4, 4) mask whose first row is all False", q, k, v, mask),
            Case("query (2, 3, 5, 8), key (2, 3, 7, 8), value (2, 3, 7, 6), a (5, 7) mask", *big, big_mask),
            Case("large scores (query times 100)", q * 100, k, v)]


SOFTMAX = '''
def softmax(x, axis=-1):
    x = np.asarray(x, dtype=float)
    {body}
'''

SDPA = '''
def scaled_dot_product_attention(query, key, value, mask=None):
    d_k = query.shape[-1]
    scores = {scores}
    if mask is not None:
        scores = np.where({keep}, scores, {fill})
    row_max = np.max(scores, axis={axis}, keepdims=True)
    row_max = np.where(np.isfinite(row_max), row_max, 0.0)
    e = np.exp(scores - row_max)
    total = np.sum(e, axis={axis}, keepdims=True)
    weights = e / np.where(total > 0, total, 1.0)
    {ret}
'''
SDPA_RIGHT = dict(scores="query @ np.swapaxes(key, -1, -2) / np.sqrt(d_k)", keep="mask", fill="-np.inf",
                  axis="-1", ret="return weights @ value, weights")

EXERCISES = [
    Exercise("softmax", reference=attnkit.softmax, cases=softmax_cases, forbidden=SOFTMAX_BUILTINS,
             builtin_bug="softmax_builtin", bugs=[
        Bug("softmax_no_max_subtraction",
            "exp overflows for large scores (exp(1000) is inf, and inf / inf is NaN): softmax does not "
            "change when the same number is subtracted from every entry, so shift the scores before "
            "exponentiating.",
            change(SOFTMAX, {}, body="e = np.exp(x)\n    return e / np.sum(e, axis=axis, keepdims=True)")),
        Bug("softmax_global_sum",
            "the exponentials were divided by the sum over the whole array: softmax normalises along one "
            "axis, so every slice along `axis` sums to 1 on its own.",
            change(SOFTMAX, {}, body="e = np.exp(x - np.max(x))\n    return e / np.sum(e)")),
        Bug("softmax_ignores_axis",
            "the `axis` argument is ignored: softmax(x, axis=0) must normalise along axis 0.",
            change(SOFTMAX, {}, body="e = np.exp(x - np.max(x, axis=-1, keepdims=True))\n"
                                     "    return e / np.sum(e, axis=-1, keepdims=True)")),
        Bug("softmax_not_normalised",
            "the exponentials were not divided by their sum: softmax turns scores into shares, so every "
            "slice along `axis` must sum to 1.",
            change(SOFTMAX, {}, body="return np.exp(x - np.max(x, axis=axis, keepdims=True))")),
        Bug("softmax_builtin",
            "this calls a library softmax (attnkit's, torch's or scipy's): the exercise is to write the "
            "exponentials and the normalisation yourself, so it earns no credit.", '''
def softmax(x, axis=-1):
    import attnkit
    return attnkit.softmax(x, axis=axis)
'''),
    ]),
    Exercise("scaled_dot_product_attention", reference=attnkit.scaled_dot_product_attention, cases=sdpa_cases,
             forbidden=ATTENTION_BUILTINS, builtin_bug="builtin_attention",
             replacements={"softmax": "attnkit.softmax"}, bugs=[
        Bug("sdpa_no_scale",
            "the scores are not scaled: dot products of d_k-dimensional vectors grow with d_k, and "
            "unscaled scores push softmax towards one-hot weights. Which quantity keeps their spread near 1?",
            change(SDPA, SDPA_RIGHT, scores="query @ np.swapaxes(key, -1, -2)")),
        Bug("sdpa_scale_by_d_k",
            "the scores were divided by d_k itself: a dot product of d_k unit-variance terms has variance "
            "d_k, so dividing by d_k over-shrinks them and flattens the weights. Think of the standard "
            "deviation.",
            change(SDPA, SDPA_RIGHT, scores="query @ np.swapaxes(key, -1, -2) / d_k")),
        Bug("sdpa_softmax_wrong_axis",
            "softmax ran over the queries (axis -2): each query distributes its attention over the keys, "
            "so each row of the weights (one query, all keys) must sum to 1.",
            change(SDPA, SDPA_RIGHT, axis="-2")),
        Bug("mask_polarity_flipped",
            "the mask polarity is flipped: True in the mask means 'this query may attend to this key', so "
            "the positions to block are where the mask is False.",
            change(SDPA, SDPA_RIGHT, keep="~np.asarray(mask, dtype=bool)")),
        Bug("mask_finite_fill",
            "masked keys still get weight when a query's keys are all masked: a finite fill such as -1e9 "
            "leaves softmax something to spread (uniform weights over masked keys). Fill with -inf and "
            "give an all-masked row zero weights and a zero output.",
            change(SDPA, SDPA_RIGHT, fill="-1e9")),
        Bug("weights_transposed",
            "the weights come out transposed: rows are queries (L) and columns are keys (S), so "
            "weights[i, j] is how much query i attends to key j, and output = weights @ value.",
            change(SDPA, SDPA_RIGHT, ret="weights = np.swapaxes(weights, -1, -2)\n"
                                         "    return weights @ value, weights")),
        Bug("returns_weights_as_output",
            "the pair is in the wrong order: attention returns (output, weights), output first: the "
            "weighted sum of the values is the result, the weights explain it.",
            change(SDPA, SDPA_RIGHT, ret="return weights, weights @ value")),
        Bug("builtin_attention",
            BUILTIN_ATTENTION, '''
def scaled_dot_product_attention(query, key, value, mask=None):
    import attnkit
    return attnkit.scaled_dot_product_attention(query, key, value, mask=mask)
'''),
    ]),
]

QUESTIONS = [
    Question("q4_true_softmax", "softmax(s)_i = exp(s_i) / sum_j exp(s_j); compute it, do not estimate it.",
             tolerance=0.5),
    Question("q4_softmax_axis", "revisit which weights one softmax makes sum to 1 in attention.", ABC),
    Question("q4_scale_divisor", "revisit why scaled dot-product attention scales the scores.", tolerance=1e-6),
    Question("q4_temperature", "revisit what dividing the scores by a temperature does to the order of the weights.",
             ABC),
]
