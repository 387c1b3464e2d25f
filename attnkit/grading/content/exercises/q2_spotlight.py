"""Quiz 2, the spotlight, for a batch of translations: weights over padded source sentences,
batched context vectors, the alignment read off raw scores."""
from __future__ import annotations

import numpy as np

import attnkit
from attnkit.grading.content.catalogue import ABC, Bug, Case, Exercise, Question, change

__all__ = ["EXERCISES", "QUESTIONS"]

PAD = "<pad>"


def _real(lengths: np.ndarray, S: int) -> np.ndarray:
    """(B, 1, S) boolean: True on the real source words of each sentence, False on padding."""
    return (np.arange(S) < np.asarray(lengths)[:, None])[:, None, :]


def attention_weights(scores: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Reference: each output word's softmax over the real source words of its sentence; padding 0."""
    return attnkit.softmax(np.where(_real(lengths, scores.shape[-1]), scores, -np.inf), axis=-1)


def weights_cases(seed: int) -> list[Case]:
    rng = np.random.default_rng(seed)
    cases = []
    for (B, L, S), lengths in (((3, 4, 5), (5, 3, 2)), ((2, 3, 6), (4, 6))):
        scores = rng.normal(size=(B, L, S)) * 2
        cases.append(Case(f"scores ({B}, {L}, {S}) with source lengths {list(lengths)}", scores,
                          np.array(lengths)))
    return cases


def context_cases(seed: int) -> list[Case]:
    rng = np.random.default_rng(seed)
    cases = []
    for (B, L, S, d_v), lengths in (((2, 4, 4, 3), (4, 3)), ((3, 3, 5, 2), (5, 2, 4))):
        weights = attention_weights(rng.normal(size=(B, L, S)) * 2, np.array(lengths))
        cases.append(Case(f"weights ({B}, {L}, {S}) and values ({B}, {S}, {d_v})", weights,
                          rng.normal(size=(B, S, d_v))))
    return cases


def alignment(scores: np.ndarray, lengths: np.ndarray, source_words: list[list[str]]) -> list[list[str]]:
    """Reference: per sentence, each output word's highest-scoring real source word."""
    masked = np.where(_real(lengths, scores.shape[-1]), scores, -np.inf)
    return [[words[j] for j in row] for words, row in zip(source_words, np.argmax(masked, axis=-1))]


def alignment_cases(seed: int) -> list[Case]:
    rng = np.random.default_rng(seed)
    sentences = [["the", "quick", "brown", "fox", "jumps", "high"], ["a", "black", "cat", "sat"],
                 ["dogs", "bark", "loudly"]]
    lengths = np.array([len(s) for s in sentences])
    S = int(lengths.max())
    scores = rng.normal(size=(3, 3, S)) * 2
    scores = np.where(_real(lengths, S), scores, scores + 4.0)  # the network scores filler highly
    padded = [s + [PAD] * (S - len(s)) for s in sentences]
    return [Case(f"3 sentences of {', '.join(map(str, lengths.tolist()))} source words padded to {S}, "
                 f"3 output words each", scores, lengths, padded)]


WEIGHTS = '''
def attention_weights(scores, lengths):
    real = np.arange(scores.shape[-1])[None, None, :] < np.asarray(lengths)[:, None, None]
    {body}
'''
RIGHT_WEIGHTS = {"body": "return softmax(np.where(real, scores, -np.inf), axis=-1)"}

ALIGN = '''
def alignment(scores, lengths, source_words):
    out = []
    for b, words in enumerate(source_words):
        {body}
    return out
'''

EXERCISES = [
    Exercise("attention_weights", reference=attention_weights, cases=weights_cases, bugs=[
        Bug("weights_wrong_axis",
            "softmax ran over the output words: each output word's spotlight must be shared among the "
            "source words, so the weights of one output word (one row) must sum to 1.",
            change(WEIGHTS, RIGHT_WEIGHTS, body="return softmax(np.where(real, scores, -np.inf), axis=-2)")),
        Bug("weights_linear_normalisation",
            "the scores were divided by their sum instead of going through softmax: that breaks for "
            "negative or zero-sum scores and does not sharpen the spotlight; softmax exponentiates first.",
            change(WEIGHTS, RIGHT_WEIGHTS, body="s = np.where(real, scores, 0.0)\n"
                                               "    return s / s.sum(axis=-1, keepdims=True)")),
        Bug("weights_padding_not_masked",
            "padding not masked: the filler slots after a short sentence got a share of the spotlight, "
            "although they are not source words; only a sentence's real words may get weight.",
            change(WEIGHTS, RIGHT_WEIGHTS, body="return softmax(scores, axis=-1)")),
        Bug("weights_padding_zeroed_after_softmax",
            "the padding was zeroed after the softmax: the real words keep the shares computed with the "
            "filler in the competition, so a row no longer sums to 1; the filler must be out of the "
            "competition before the weights are made.",
            change(WEIGHTS, RIGHT_WEIGHTS, body="return np.where(real, softmax(scores, axis=-1), 0.0)")),
    ]),
    Exercise("context_vectors", reference=lambda weights, values: np.matmul(weights, values),
             cases=context_cases, bugs=[
        Bug("context_weights_transposed",
            "the weights were used transposed: output word i's context vector mixes the source values "
            "with row i of the weights (its weights over source words).", '''
def context_vectors(weights, values):
    return np.swapaxes(weights, -1, -2) @ values
'''),
        Bug("context_sentences_mixed",
            "the context of one sentence mixed in the source states of the other sentences in the batch "
            "(np.dot on 3-d arrays pairs every sentence's weights with every sentence's values): "
            "sentence b's spotlight reads only sentence b's own source states.", '''
def context_vectors(weights, values):
    return np.dot(weights, values)
'''),
    ]),
    Exercise("alignment", reference=alignment, cases=alignment_cases, bugs=[
        Bug("alignment_wrong_axis",
            "the argmax ran over the output words: for each output word you want the source word that "
            "gets the largest share of its spotlight (the best position in its own row).",
            change(ALIGN, {}, body="best = np.argmax(scores[b, :, :lengths[b]], axis=0)\n"
                                   "        out.append([words[j] for j in best])")),
        Bug("alignment_padding_not_masked",
            "padding not masked: an output word was aligned to a filler slot after the end of its "
            "sentence; the spotlight (and so the alignment) only ever falls on a sentence's real words.",
            change(ALIGN, {}, body="out.append([words[j] for j in np.argmax(scores[b], axis=-1)])")),
    ]),
]

QUESTIONS = [
    Question("q2_padded_weight", "revisit what the padding mask does to the scores before the softmax.",
             tolerance=0.005),
    Question("q2_reversed_order", "revisit how each output word chooses the source words it looks at.", ABC),
    Question("q2_retempered", "revisit what dividing the scores behind a spotlight by a temperature does.",
             tolerance=0.5),
    Question("q2_additive_parameters", "revisit the shapes of the additive score's parameters.", tolerance=0.5),
]
