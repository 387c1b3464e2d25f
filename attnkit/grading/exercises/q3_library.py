"""Quiz 3, the library: cosine similarity, vector search (top k), the soft lookup with a temperature."""
from __future__ import annotations

import numpy as np

from attnkit.grading.catalogue import ABC, Bug, Case, Exercise, Question
from attnkit.library import retrieval

__all__ = ["EXERCISES", "QUESTIONS", "ATTENTION_BUILTINS"]

# ready-made attention: forbidden wherever an exercise asks for attention itself (quizzes 3, 4)
ATTENTION_BUILTINS = (
    "attnkit.scaled_dot_product_attention", "attnkit.attention.scaled_dot_product_attention",
    "attnkit.multi_head_attention", "attnkit.heads.multi_head_attention", "attnkit.MultiHeadAttention.forward",
    "attnkit.soft_lookup", "attnkit.library.retrieval.soft_lookup",
    "torch.nn.functional.scaled_dot_product_attention", "torch.nn.functional.multi_head_attention_forward",
    "torch.nn.MultiheadAttention.forward",
)
COSINE = "attnkit.library.retrieval.cosine_similarity"  # the correct version top_k and soft_lookup get


def library(seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A query (D,), keys (S, D) of very different lengths and values (S, d_v)."""
    rng = np.random.default_rng(seed)
    keys = rng.normal(size=(6, 5)) * rng.uniform(0.3, 3.0, size=(6, 1))  # books of very different lengths
    return rng.normal(size=5), keys, rng.normal(size=(6, 3))


def cosine_cases(seed: int) -> list[Case]:
    query, keys, _ = library(seed)
    return [Case("a query and 6 keys of different lengths", query, keys)]


def top_k_cases(seed: int) -> list[Case]:
    query, keys, _ = library(seed)
    return [Case("k = 3 of 6 keys", query, keys, 3)]


def soft_lookup_cases(seed: int) -> list[Case]:
    query, keys, values = library(seed)
    return [Case(f"temperature = {t}", query, keys, values, t) for t in (0.5, 2.0)]


EXERCISES = [
    Exercise("cosine_similarity", reference=retrieval.cosine_similarity, cases=cosine_cases,
             forbidden=("attnkit.cosine_similarity", "attnkit.library.retrieval.cosine_similarity"), bugs=[
        Bug("cosine_not_normalised",
            "this is a raw dot product: cosine similarity divides by both vectors' lengths, so a long "
            "vector does not win just by being long and the result stays in [-1, 1].", '''
def cosine_similarity(query, keys):
    return keys @ query
'''),
    ]),
    Exercise("top_k", reference=retrieval.top_k, cases=top_k_cases,
             forbidden=("attnkit.top_k", "attnkit.library.retrieval.top_k"),
             replacements={"cosine_similarity": COSINE}, bugs=[
        Bug("top_k_ascending",
            "these are the least similar keys: vector search wants the k highest scores, best first.", '''
def top_k(query, keys, k):
    scores = cosine_similarity(query, keys)
    order = np.argsort(scores, kind="stable")[:k]
    return order, scores[order]
'''),
    ]),
    Exercise("soft_lookup", reference=retrieval.soft_lookup, cases=soft_lookup_cases,
             forbidden=ATTENTION_BUILTINS, replacements={"cosine_similarity": COSINE}, bugs=[
        Bug("temperature_multiplied",
            "the scores were multiplied by the temperature: a low temperature must make the lookup "
            "sharper (closer to picking one book), so the scores are divided by it.", '''
def soft_lookup(query, keys, values, temperature=1.0):
    scores = cosine_similarity(query, keys) * temperature
    e = np.exp(scores - scores.max())
    weights = e / e.sum()
    return weights @ values, weights
'''),
    ]),
]

QUESTIONS = [
    Question("q3_cold_limit", "divide the scores by a tiny temperature and look at what softmax does.", ABC),
    Question("q3_hot_limit", "divide the scores by a huge temperature and look at what softmax does.", ABC),
    Question("q3_cosine_scaled", "revisit the formula of cosine similarity.", tolerance=1e-6),
]
