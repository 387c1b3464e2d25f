"""Quiz 4, the query-key-value math: a softmax that survives masks (-inf entries, all -inf slices) and
scaled dot-product attention for a padded batch, with padding and causal masks combined."""
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
    masked = rng.normal(size=(3, 4)) * 2
    masked[0, 1] = masked[1, 2:] = -np.inf  # masked scores
    masked[2] = -np.inf  # a query that may see no key
    columns = rng.normal(size=(4, 3))
    columns[:, 1] = -np.inf  # an all -inf slice along axis 0
    columns[2, 0] = -np.inf
    return [Case("scores of shape (3, 5), axis=-1", rng.normal(size=(3, 5)) * 3),
            Case("scores of shape (2, 3, 4), axis=1", rng.normal(size=(2, 3, 4)), axis=1),
            Case("large scores (about 1000)", large),
            Case("scores (3, 4) with -inf entries, row 2 all -inf", masked),
            Case("scores (4, 3), axis=0, column 1 all -inf", columns, axis=0)]


def _padding(lengths: list[int], S: int) -> np.ndarray:
    """(B, 1, S) boolean: True below each sequence's length."""
    return np.arange(S)[None, None, :] < np.asarray(lengths)[:, None, None]


def sdpa_cases(seed: int) -> list[Case]:
    rng = np.random.default_rng(seed)
    q, k, v = rng.normal(size=(3, 4, 8)) * 1.5, rng.normal(size=(3, 5, 8)) * 1.5, rng.normal(size=(3, 5, 2))
    padding = _padding([5, 3, 1], 5)  # (B, 1, S): sentence 2 has one real key
    causal = np.tril(np.ones((4, 4), dtype=bool))
    x = rng.normal(size=(2, 4, 6))
    both = _padding([4, 2], 4) & causal  # (B, L, S): padding and causal combined
    empty = both.copy()
    empty[1, 3] = False  # a query whose keys are all masked
    heads = [rng.normal(size=shape) for shape in ((2, 3, 5, 8), (2, 3, 7, 8), (2, 3, 7, 6))]
    head_mask = _padding([7, 4], 7)[:, None]  # (B, 1, 1, S): broadcast over heads and queries
    square = [rng.normal(size=(2, 4, 6)) * 1.5 for _ in range(3)]
    return [Case("query, key, value of shape (2, 4, 6), no mask", *square),
            Case("query (3, 4, 8), key (3, 5, 8), value (3, 5, 2), no mask", q, k, v),
            Case("the same batch with a padding mask (3, 1, 5), lengths [5, 3, 1]", q, k, v, padding),
            Case("self-attention x (2, 4, 6) with padding & causal (2, 4, 4), one query with no key left",
                 x, x, x, empty),
            Case("heads: query (2, 3, 5, 8), key (2, 3, 7, 8), value (2, 3, 7, 6), mask (2, 1, 1, 7)",
                 *heads, head_mask),
            Case("large scores (query times 100) with the padding mask", q * 100, k, v, padding)]


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
        Bug("softmax_all_masked_nan",
            "a slice whose entries are all -inf gives NaN: its maximum is -inf, and -inf - (-inf) is NaN. "
            "A query that may see no key must get all-zero weights: shift such a slice by 0 instead, and "
            "do not divide by a zero sum.",
            change(SOFTMAX, {}, body="e = np.exp(x - np.max(x, axis=axis, keepdims=True))\n"
                                     "    return e / np.sum(e, axis=axis, keepdims=True)")),
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
    Question("q4_third_weight", "softmax(s)_i = exp(s_i) / sum_j exp(s_j); compute it, do not estimate it.",
             tolerance=0.5),
    Question("q4_softmax_axis", "revisit which weights one softmax makes sum to 1 in attention.", ABC),
    Question("q4_scale_divisor", "revisit why scaled dot-product attention scales the scores, and what sets the "
                                 "variance of a dot product.", tolerance=1e-6),
    Question("q4_masked_weight", "a masked key drops out of the softmax; compute the weights of the keys left.",
             tolerance=0.5),
]
