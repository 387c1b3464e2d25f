"""Quiz 3, the library: cosine similarity, vector search (top k), a soft lookup over the k best books."""
from __future__ import annotations

import numpy as np

from attnkit.grading.content.catalogue import ABC, Bug, Case, Exercise, Question
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


TOP_K = "attnkit.library.retrieval.top_k"  # the correct version soft_top_k gets


def soft_top_k(query: np.ndarray, keys: np.ndarray, values: np.ndarray, k: int,
               temperature: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """Reference: a soft lookup over the k best books only: (output (d_v,), weights (S,)), 0 outside."""
    indices, scores = retrieval.top_k(query, keys, k)  # (k,), (k,): vector search first
    e = np.exp((scores - scores.max()) / temperature)
    weights = np.zeros(len(keys))
    weights[indices] = e / e.sum()  # (S,): the k best share 1, the others get 0
    return weights @ values, weights  # (S,) @ (S, d_v) -> (d_v,)


def soft_top_k_cases(seed: int) -> list[Case]:
    query, keys, values = library(seed)
    return [Case("k = 3 of 6 books, temperature = 0.5", query, keys, values, 3, 0.5),
            Case("k = 2 of 6 books, temperature = 2", query, keys, values, 2, 2.0),
            Case("k = 6 of 6 books (a plain soft lookup), temperature = 1", query, keys, values, 6, 1.0)]


SOFT_TOP_K = """
def soft_top_k(query, keys, values, k, temperature=1.0):
    {keep}
    weights = np.zeros(len(keys))
    weights[indices] = shares
    return weights @ values, weights
"""


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
    Exercise("soft_top_k", reference=soft_top_k, cases=soft_top_k_cases, forbidden=ATTENTION_BUILTINS,
             replacements={"cosine_similarity": COSINE, "top_k": TOP_K}, bugs=[
        Bug("soft_top_k_not_renormalised",
            "the kept weights do not sum to 1: the softmax ran over all the books and the others were "
            "zeroed afterwards. Run the softmax over the k kept books only.", SOFT_TOP_K.format(
                keep="""indices, _ = top_k(query, keys, k)
    scores = cosine_similarity(query, keys) / temperature
    e = np.exp(scores - scores.max())
    shares = (e / e.sum())[indices]""")),
        Bug("soft_top_k_temperature_multiplied",
            "the scores were multiplied by the temperature: a low temperature must make the lookup "
            "sharper (closer to picking one book), so the scores are divided by it.", SOFT_TOP_K.format(
                keep="""indices, scores = top_k(query, keys, k)
    e = np.exp((scores - scores.max()) * temperature)
    shares = e / e.sum()""")),
        Bug("soft_top_k_worst_books",
            "these are the k least similar books: the lookup keeps the k best matches, as vector search does.",
            SOFT_TOP_K.format(keep="""scores = cosine_similarity(query, keys)
    indices = np.argsort(scores, kind="stable")[:k]
    e = np.exp((scores[indices] - scores[indices].max()) / temperature)
    shares = e / e.sum()""")),
        Bug("soft_top_k_weights_of_k",
            "the weights have one entry per kept book: return one weight per book, (S,), with 0 for the "
            "books outside the k best, so that they line up with the rows of the values.", """
def soft_top_k(query, keys, values, k, temperature=1.0):
    indices, scores = top_k(query, keys, k)
    e = np.exp((scores - scores.max()) / temperature)
    shares = e / e.sum()
    return shares @ values[indices], shares
"""),
    ]),
]

QUESTIONS = [
    Question("q3_soft_price", "revisit what soft retrieval reads: the keys decide the weights, the values what is "
                              "read.", tolerance=0.01),
    Question("q3_cosine_or_dot", "revisit what cosine similarity divides out of the dot product.", ABC),
    Question("q3_entropy", "revisit lesson 3's entropy of a spotlight.", tolerance=0.01),
]
