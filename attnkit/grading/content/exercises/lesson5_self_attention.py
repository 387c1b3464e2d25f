"""Lesson 5's activities: write self-attention from its three projections, guess how many of
MiniLM's heads find "animal", find the word whose replacement moves the last word's causal output
most, guess what shuffling the words does.

Declared like a quiz's exercises (see :mod:`attnkit.grading.content.catalogue`); the lesson calls them
through :mod:`attnkit.activities`.
"""
from __future__ import annotations

import numpy as np

from attnkit.activities import Prediction
from attnkit.attention import softmax
from attnkit.grading.content.catalogue import Bug, Case, Exercise, change
from attnkit.grading.content.exercises.q3_library import ATTENTION_BUILTINS

QUIZ = "lesson5"


def self_attention(X, W_q, W_k, W_v):
    """Self-attention of one sentence X (L, D): (output (L, d_v), weights (L, L))."""
    Q, K, V = X @ W_q, X @ W_k, X @ W_v  # (L, D) @ (D, d_k) -> (L, d_k); V: (L, d_v)
    scores = Q @ np.swapaxes(K, -1, -2) / np.sqrt(K.shape[-1])  # (L, d_k) @ (d_k, L) -> (L, L)
    weights = softmax(scores, axis=-1)  # (L, L): row i is word i's attention over all words
    return weights @ V, weights  # (L, L) @ (L, d_v) -> (L, d_v)


def self_attention_cases(seed: int) -> list[Case]:
    rng = np.random.default_rng(seed)
    cases = []
    for L, D, d_k, d_v in ((6, 8, 4, 4), (5, 6, 3, 2)):
        cases.append(Case(f"X ({L}, {D}), W_q and W_k ({D}, {d_k}), W_v ({D}, {d_v})", rng.normal(size=(L, D)),
                          rng.normal(size=(D, d_k)), rng.normal(size=(D, d_k)), rng.normal(size=(D, d_v))))
    return cases


_SELF = '''
def self_attention(X, W_q, W_k, W_v):
    Q, K, V = {qkv}
    scores = {scores}
    weights = softmax(scores, axis={axis})
    return weights @ V, weights
'''
_RIGHT = dict(qkv="X @ W_q, X @ W_k, X @ W_v", scores="Q @ K.T / np.sqrt(K.shape[-1])", axis="-1")

EXERCISES = [
    Exercise("self_attention", reference=self_attention, cases=self_attention_cases, forbidden=ATTENTION_BUILTINS,
             builtin_bug="l5_builtin_attention", replacements={"softmax": "attnkit.softmax"}, bugs=[
        Bug("l5_keys_from_queries",
            "the keys were made with W_q: a word asks with its query (X W_q) and is found by its key "
            "(X W_k); with one matrix for both, every word's score with itself is a square and tends to win.",
            change(_SELF, _RIGHT, qkv="X @ W_q, X @ W_q, X @ W_v")),
        Bug("l5_values_not_projected",
            "the values are the embeddings X themselves: like queries and keys, values are a projection of "
            "X, V = X W_v, which is why the output has width d_v.",
            change(_SELF, _RIGHT, qkv="X @ W_q, X @ W_k, X")),
        Bug("l5_no_scale",
            "the scores are not scaled: lesson 4 showed why they are divided by the square root of the "
            "query/key width.", change(_SELF, _RIGHT, scores="Q @ K.T")),
        Bug("l5_softmax_over_queries",
            "the softmax ran down the columns (axis 0): each word's row of weights (its attention over "
            "all words) must sum to 1.", change(_SELF, _RIGHT, axis="0")),
        Bug("l5_builtin_attention",
            "this calls a ready-made attention: write the projections, the scores, the softmax and the "
            "weighted sum yourself.", '''
def self_attention(X, W_q, W_k, W_v):
    import attnkit
    return attnkit.scaled_dot_product_attention(X @ W_q, X @ W_k, X @ W_v)
'''),
    ]),
]

PREDICTIONS = [
    Prediction("lesson5.animal_heads",
               "how many of MiniLM's 72 heads put at least half of \"it\"'s weight on \"animal\"",
               "The newsletter's picture exists, but in a couple of heads: most heads of a real model do "
               "something else with \"it\".",
               tolerance=2.0, solved=2.0),
    Prediction("lesson5.moves_mat_most",
               'the position of the word whose replacement moves the output of the last word, "mat", the '
               "most, with the causal mask",
               "The last word sees every word, and how far a replacement moves it depends on how much weight "
               "it puts there and on the value that changes, not on distance: here word {measured:.0f}.",
               tolerance=0.0, solved=1.0, knob=True),
    Prediction("lesson5.shuffle_change",
               "the largest change of any word's output vector when the words are shuffled "
               "(0 = every word keeps exactly its output)",
               "Nothing in softmax(QK^T / sqrt(d_k)) V knows where a row sits: each word keeps its output "
               "vector, only the order of the rows changes (up to rounding, {measured:.0e}).",
               tolerance=1e-6, solved=0.0),
]
