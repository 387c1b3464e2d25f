"""Quiz 5, self-attention: a sliding-window causal mask, self-attention with projections for a batch,
and the last token's causal attention computed from its one query row (what a decoder needs to write
the next word)."""
from __future__ import annotations

import numpy as np

import attnkit
from attnkit.grading.content.catalogue import ABC, Bug, Case, Exercise, Question, change

__all__ = ["EXERCISES", "QUESTIONS", "self_attention", "window_mask", "last_token_attention"]


def self_attention(x: np.ndarray, W_q: np.ndarray, W_k: np.ndarray, W_v: np.ndarray,
                   mask: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Reference: attention of x's projections to themselves (B, L, D) -> (B, L, d_v), (B, L, L)."""
    return attnkit.scaled_dot_product_attention(x @ W_q, x @ W_k, x @ W_v, mask=mask)


def window_mask(L: int, window: int) -> np.ndarray:
    """Reference: (L, L) boolean, True where i - window < j <= i (the last `window` tokens, itself included)."""
    i, j = np.arange(L)[:, None], np.arange(L)[None, :]  # (L, 1), (1, L)
    return (j <= i) & (i - j < window)  # (L, L)


def last_token_attention(x: np.ndarray, W_q: np.ndarray, W_k: np.ndarray,
                         W_v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Reference: the last token's row of causal self-attention, (output (B, d_v), weights (B, L))."""
    query = x[:, -1:] @ W_q  # (B, 1, d_k): one query, the last token's
    output, weights = attnkit.scaled_dot_product_attention(query, x @ W_k, x @ W_v)  # it may see every key
    return output[:, 0], weights[:, 0]  # (B, d_v), (B, L)


def mask_cases(seed: int) -> list[Case]:
    return [Case(f"L = {L}, window = {w}", L, w) for L, w in ((5, 2), (6, 1), (4, 10), (7 + seed % 2, 3))]


def boolean(mask: np.ndarray) -> str | None:
    """A mask must be boolean (its values alone could be 0/1 numbers)."""
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


def last_token_cases(seed: int) -> list[Case]:
    x, W_q, W_k, W_v = projections(seed)
    return [Case("x (2, 5, 6), W_q/W_k (6, 4), W_v (6, 3)", x, W_q, W_k, W_v),
            Case("a sentence of one token: x (2, 1, 6)", x[:, :1], W_q, W_k, W_v)]


WINDOW = '''
def window_mask(L, window):
    i, j = np.arange(L)[:, None], np.arange(L)[None, :]
    return {body}
'''
SELF_ATTENTION = '''
def self_attention(x, W_q, W_k, W_v, mask=None):
    query, key, value = {qkv}
    return scaled_dot_product_attention(query, key, value, mask=mask)
'''
LAST = '''
def last_token_attention(x, W_q, W_k, W_v):
    query = {query}
    key, value = x @ W_k, x @ W_v
    scores = np.einsum("bd,bsd->bs", query, key) / {scale}
    weights = softmax(scores, axis={axis})
    return np.einsum("bs,bsv->bv", weights, value), weights
'''
LAST_RIGHT = dict(query="x[:, -1] @ W_q", scale="np.sqrt(key.shape[-1])", axis="-1")

EXERCISES = [
    Exercise("window_mask", reference=window_mask, cases=mask_cases, validate=boolean, bugs=[
        Bug("window_sees_future",
            "the window reaches forward too: a sliding-window mask is still causal, so query i may see "
            "key j only when j <= i, and then only the last `window` of them.",
            change(WINDOW, {}, body="np.abs(i - j) < window")),
        Bug("window_one_too_wide",
            "each query sees window + 1 keys: the window counts the token itself, so query i sees keys "
            "i - window + 1 .. i.",
            change(WINDOW, {}, body="(j <= i) & (i - j <= window)")),
        Bug("window_ignored",
            "this is the plain causal mask: the window is ignored, so a query still sees every earlier key.",
            change(WINDOW, {}, body="j <= i")),
        Bug("window_polarity_flipped",
            "the mask is True where attention is forbidden: True means 'this query may attend to this key'.",
            change(WINDOW, {}, body="~((j <= i) & (i - j < window))")),
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
    Exercise("last_token_attention", reference=last_token_attention, cases=last_token_cases,
             replacements={"softmax": "attnkit.softmax"}, bugs=[
        Bug("last_token_first_query",
            "the query is the first token's: the output a decoder needs next is the last token's, so its "
            "one query row is x[:, -1] @ W_q.",
            change(LAST, LAST_RIGHT, query="x[:, 0] @ W_q")),
        Bug("last_token_no_scale",
            "the scores are not divided by sqrt(d_k): one query row is still scaled dot-product attention.",
            change(LAST, LAST_RIGHT, scale="1.0")),
        Bug("last_token_softmax_over_batch",
            "the softmax ran over the batch (axis 0): the last token shares its attention among the L "
            "tokens of its own sentence, so each row of the (B, L) weights sums to 1.",
            change(LAST, LAST_RIGHT, axis="0")),
        Bug("last_token_sees_only_itself",
            "the last token attended only to itself: under the causal mask it may see every token up to "
            "and including itself, which for the last token is all of them.", '''
def last_token_attention(x, W_q, W_k, W_v):
    value = x @ W_v
    weights = np.zeros(x.shape[:2])
    weights[:, -1] = 1.0
    return value[:, -1], weights
'''),
    ]),
]

QUESTIONS = [
    Question("q5_causal_count", "revisit which keys each query may see under a causal mask.", tolerance=0.5),
    Question("q5_first_output", "revisit the causal rule for the first query.", ABC),
    Question("q5_repeated_word", "revisit what each row of causal self-attention may see.", ABC),
]
