"""Quiz 5, self-attention: the causal mask, self-attention with projections, causal self-attention."""
from __future__ import annotations

import numpy as np

import attnkit
from attnkit.grading.content.catalogue import ABC, Bug, Case, Exercise, Question, change

__all__ = ["EXERCISES", "QUESTIONS", "self_attention", "causal_self_attention"]


def self_attention(x: np.ndarray, W_q: np.ndarray, W_k: np.ndarray, W_v: np.ndarray,
                   mask: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Reference: attention of x's projections to themselves (B, L, D) -> (B, L, d_v), (B, L, L)."""
    return attnkit.scaled_dot_product_attention(x @ W_q, x @ W_k, x @ W_v, mask=mask)


def causal_self_attention(x: np.ndarray, W_q: np.ndarray, W_k: np.ndarray,
                          W_v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Reference: self-attention where query i sees keys j <= i."""
    return self_attention(x, W_q, W_k, W_v, mask=attnkit.causal_mask(x.shape[-2]))


def mask_cases(seed: int) -> list[Case]:
    return [Case(f"L = {L}", L) for L in (1, 4, 6 + seed % 3)]


def boolean(mask: np.ndarray) -> str | None:
    """A causal mask must be boolean (its values alone could be 0/1 numbers)."""
    if getattr(mask, "dtype", None) != np.bool_:
        return (f"the mask must be boolean (True = may attend), got dtype "
                f"{getattr(mask, 'dtype', type(mask).__name__)}")
    return None


def projections(seed: int) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    D, d_k, d_v = 6, 4, 3
    return (rng.normal(size=(2, 5, D)), rng.normal(size=(D, d_k)), rng.normal(size=(D, d_k)),
            rng.normal(size=(D, d_v)))


def self_attention_cases(seed: int) -> list[Case]:
    x, W_q, W_k, W_v = projections(seed)
    mask = np.random.default_rng(seed + 1).uniform(size=(5, 5)) < 0.7
    mask[:, 0] = True
    return [Case("x (2, 5, 6), W_q/W_k (6, 4), W_v (6, 3), no mask", x, W_q, W_k, W_v),
            Case("the same with a (5, 5) mask", x, W_q, W_k, W_v, mask=mask)]


def causal_cases(seed: int) -> list[Case]:
    return [Case("x (2, 5, 6), W_q/W_k (6, 4), W_v (6, 3)", *projections(seed))]


CAUSAL = '''
def causal_mask(L):
    return {body}
'''
SELF_ATTENTION = '''
def self_attention(x, W_q, W_k, W_v, mask=None):
    query, key, value = {qkv}
    return scaled_dot_product_attention(query, key, value, mask=mask)
'''

EXERCISES = [
    Exercise("causal_mask", reference=attnkit.causal_mask, cases=mask_cases, validate=boolean,
             forbidden=("attnkit.causal_mask", "attnkit.masks.causal_mask"), bugs=[
        Bug("causal_mask_future",
            "this mask lets each token see the future and hides the past: a causal mask allows a query "
            "position i to attend to key positions j <= i (on and below the diagonal).",
            change(CAUSAL, {}, body="np.triu(np.ones((L, L), dtype=bool))")),
        Bug("causal_mask_no_diagonal",
            "each token is hidden from itself: a causal mask only hides the future, a token may always "
            "attend to its own position (the diagonal).",
            change(CAUSAL, {}, body="np.tril(np.ones((L, L), dtype=bool), k=-1)")),
    ]),
    Exercise("self_attention", reference=self_attention, cases=self_attention_cases, bugs=[
        Bug("self_attention_no_projection",
            "queries, keys and values are the raw inputs: self-attention first projects x three ways "
            "(x @ W_q, x @ W_k, x @ W_v), which is what lets it learn what to look for.",
            change(SELF_ATTENTION, {}, qkv="x, x, x")),
        Bug("self_attention_shared_projection",
            "one projection was used for two roles: queries, keys and values each have their own matrix, "
            "so what a token looks for can differ from what it offers.",
            change(SELF_ATTENTION, {}, qkv="x @ W_q, x @ W_q, x @ W_v")),
    ]),
    Exercise("causal_self_attention", reference=causal_self_attention, cases=causal_cases,
             replacements={"causal_mask": "attnkit.causal_mask",
                           "self_attention": "attnkit.grading.content.exercises.q5_self_attention.self_attention"},
             bugs=[
        Bug("mask_after_softmax",
            "the mask was applied after softmax: zeroing weights afterwards leaves rows that no longer "
            "sum to 1; mask the scores before softmax so the allowed keys share all the weight.", '''
def causal_self_attention(x, W_q, W_k, W_v):
    query, key, value = x @ W_q, x @ W_k, x @ W_v
    L = x.shape[-2]
    scores = query @ np.swapaxes(key, -1, -2) / np.sqrt(query.shape[-1])
    weights = softmax(scores, axis=-1) * np.tril(np.ones((L, L), dtype=bool))
    return weights @ value, weights
'''),
    ]),
]

QUESTIONS = [
    Question("q5_score_count", "revisit which positions self-attention scores against which."),
    Question("q5_causal_rule", "revisit what a causal mask hides, and why.", ABC),
    Question("q5_shuffle", "revisit what self-attention does when the tokens are shuffled (lesson 5, section 4).",
             ABC),
]
