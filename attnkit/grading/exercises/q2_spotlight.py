"""Quiz 2, the spotlight: attention weights over source words, context vectors, alignment."""
from __future__ import annotations

import numpy as np

import attnkit
from attnkit.grading.catalogue import ABC, Bug, Case, Exercise, Question, change

__all__ = ["EXERCISES", "QUESTIONS"]


def weights_cases(seed: int) -> list[Case]:
    rng = np.random.default_rng(seed)
    return [Case(f"scores of shape {shape}", rng.normal(size=shape) * 2) for shape in ((4, 4), (3, 5))]


def context_cases(seed: int) -> list[Case]:
    rng = np.random.default_rng(seed)
    cases = []
    for L, S, d_v in ((4, 4, 3), (3, 5, 2)):
        weights = attnkit.softmax(rng.normal(size=(L, S)) * 2, axis=-1)
        cases.append(Case(f"weights ({L}, {S}) and values ({S}, {d_v})", weights, rng.normal(size=(S, d_v))))
    return cases


def alignment(weights: np.ndarray, source_words: list[str]) -> list[str]:
    """Reference: the most-attended source word of each output word (row)."""
    return [source_words[j] for j in np.argmax(weights, axis=-1)]


def alignment_cases(seed: int) -> list[Case]:
    rng = np.random.default_rng(seed)
    weights = attnkit.softmax(rng.normal(size=(3, 5)) * 3, axis=-1)
    return [Case("3 output words over 5 source words", weights, ["the", "quick", "brown", "fox", "jumps"])]


WEIGHTS = '''
def attention_weights(scores):
    {body}
'''

EXERCISES = [
    Exercise("attention_weights", reference=lambda scores: attnkit.softmax(scores, axis=-1), cases=weights_cases,
             bugs=[
        Bug("weights_wrong_axis",
            "softmax ran over the output words: each output word's spotlight must be shared among the "
            "source words, so the weights of one output word (one row) must sum to 1.",
            change(WEIGHTS, {}, body="e = np.exp(scores - scores.max(axis=0, keepdims=True))\n"
                                     "    return e / e.sum(axis=0, keepdims=True)")),
        Bug("weights_linear_normalisation",
            "the scores were divided by their sum instead of going through softmax: that breaks for "
            "negative or zero-sum scores and does not sharpen the spotlight; softmax exponentiates first.",
            change(WEIGHTS, {}, body="return scores / scores.sum(axis=-1, keepdims=True)")),
    ]),
    Exercise("context_vectors", reference=attnkit.attend, cases=context_cases, bugs=[
        Bug("context_weights_transposed",
            "the weights were used transposed: output word i's context vector mixes the source values "
            "with row i of the weights (its weights over source words).", '''
def context_vectors(weights, values):
    return weights.T @ values
'''),
    ]),
    Exercise("alignment", reference=alignment, cases=alignment_cases, bugs=[
        Bug("alignment_wrong_axis",
            "the argmax ran over the output words: for each output word you want the source word that "
            "gets the largest share of its spotlight (the best position in its own row).", '''
def alignment(weights, source_words):
    return [source_words[j] for j in np.argmax(weights, axis=0)]
'''),
    ]),
]

QUESTIONS = [
    Question("q2_weights_sum", "revisit how the spotlight weights are made from the scores."),
    Question("q2_word_order", "revisit how each output word chooses the source words it looks at.", ABC),
    Question("q2_weights_origin", "revisit where the scores behind the weights come from.", ABC),
    Question("q2_flat_spotlight", "revisit what lesson 2 measured on long sentences at each temperature.", ABC),
]
