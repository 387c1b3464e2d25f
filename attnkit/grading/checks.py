"""The checks the quiz test cells call, one per exercise, plus the conceptual-answer checks.

Each ``check_<exercise>(fn, seed=0)`` runs the learner's ``fn`` on a few cases built from ``seed``
(the visible test uses the default, the hidden test another seed), compares every result with
attnkit's reference, and raises ``AssertionError`` with a message that names the mistake (see
:mod:`attnkit.grading.bugs`) or the failing case. It returns ``None``, so a test cell that ends
with a check shows nothing when the answer is right. Other exercises the function calls are
swapped for correct versions while it runs, so each exercise is graded on its own.
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np
import torch

import attnkit
from attnkit.library import retrieval
from attnkit.grading.engine import Case, quiet, run_case
from attnkit.grading.questions import check_choice, check_number

__all__ = [
    "check_rnn_forward", "check_first_word_influence",
    "check_attention_weights", "check_context_vectors", "check_alignment",
    "check_cosine_similarity", "check_top_k", "check_soft_lookup",
    "check_softmax", "check_scaled_dot_product_attention",
    "check_causal_mask", "check_self_attention", "check_causal_self_attention",
    "check_split_heads", "check_merge_heads", "check_multi_head_attention", "check_minilm_attention",
    "check_choice", "check_number",
]

ATTENTION_BUILTINS = (
    "attnkit.scaled_dot_product_attention", "attnkit.attention.scaled_dot_product_attention",
    "attnkit.multi_head_attention", "attnkit.heads.multi_head_attention", "attnkit.MultiHeadAttention.forward",
    "attnkit.library.retrieval.soft_lookup", "torch.nn.functional.scaled_dot_product_attention",
    "torch.nn.functional.multi_head_attention_forward", "torch.nn.MultiheadAttention.forward",
)
SDPA_BUILTINS = ("attnkit.scaled_dot_product_attention", "attnkit.attention.scaled_dot_product_attention",
                 "torch.nn.functional.scaled_dot_product_attention")
MHA_BUILTINS = ("attnkit.multi_head_attention", "attnkit.heads.multi_head_attention",
                "attnkit.MultiHeadAttention.forward", "torch.nn.functional.multi_head_attention_forward",
                "torch.nn.MultiheadAttention.forward")
SOFTMAX_BUILTINS = ("attnkit.softmax", "attnkit.attention.softmax", "torch.softmax",
                    "torch.nn.functional.softmax", "torch.Tensor.softmax", "scipy.special.softmax")


def _rng(seed: int) -> np.random.Generator:
    return np.random.default_rng(seed)


# q1: the RNN bottleneck -----------------------------------------------------------------------

def _rnn_forward(inputs: np.ndarray, W_xh: np.ndarray, W_hh: np.ndarray, b: np.ndarray,
                 h0: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Reference: h_t = tanh(x_t W_xh + h_{t-1} W_hh + b); returns (h_L (d_h,), states (L, d_h))."""
    h = np.zeros(W_hh.shape[0]) if h0 is None else np.asarray(h0, dtype=float)
    states = []
    for x_t in inputs:  # one word at a time: (d_in,)
        h = np.tanh(x_t @ W_xh + h @ W_hh + b)  # (d_h,)
        states.append(h)
    return h, np.stack(states)  # (d_h,), (L, d_h)


def _first_word_influence(inputs: np.ndarray, W_xh: np.ndarray, W_hh: np.ndarray, b: np.ndarray,
                          eps: float = 1e-6) -> float:
    """Reference: |h_L(inputs with inputs[0] + eps) - h_L(inputs)| / eps."""
    nudged = np.array(inputs, dtype=float)
    nudged[0] += eps
    return float(np.linalg.norm(_rnn_forward(nudged, W_xh, W_hh, b)[0]
                                - _rnn_forward(inputs, W_xh, W_hh, b)[0]) / eps)


def _rnn_cases(seed: int) -> list[Case]:
    rng = _rng(seed)
    d_in, d_h = 3, 4
    W_xh, W_hh, b = rng.normal(size=(d_in, d_h)), rng.normal(size=(d_h, d_h)) * 0.6, rng.normal(size=d_h) * 0.3
    return [Case("a 6-word sentence, h0 = None", rng.normal(size=(6, d_in)), W_xh, W_hh, b),
            Case("a 3-word sentence with a given h0", rng.normal(size=(3, d_in)), W_xh, W_hh, b,
                 h0=rng.normal(size=d_h) * 0.5)]


def check_rnn_forward(fn: Callable[..., Any], seed: int = 0) -> None:
    """rnn_forward(inputs, W_xh, W_hh, b, h0=None) -> (final_state, states), against the reference."""
    __tracebackhide__ = True
    for case in _rnn_cases(seed):
        run_case(fn, "q1_bottleneck", "rnn_forward", case, _rnn_forward)


def check_first_word_influence(fn: Callable[..., Any], seed: int = 0) -> None:
    """first_word_influence(inputs, W_xh, W_hh, b) -> float, with a correct rnn_forward underneath."""
    __tracebackhide__ = True
    case = _rnn_cases(seed)[0]
    case.kwargs.pop("h0", None)
    run_case(fn, "q1_bottleneck", "first_word_influence", case, _first_word_influence,
             replacements={"rnn_forward": _rnn_forward}, rtol=1e-4)


# q2: the spotlight ---------------------------------------------------------------------------

def check_attention_weights(fn: Callable[..., Any], seed: int = 0) -> None:
    """attention_weights(scores (L_out, S)) -> softmax over the source words of each output word."""
    __tracebackhide__ = True
    rng = _rng(seed)
    for shape in ((4, 4), (3, 5)):
        run_case(fn, "q2_spotlight", "attention_weights",
                 Case(f"scores of shape {shape}", rng.normal(size=shape) * 2),
                 lambda scores: attnkit.softmax(scores, axis=-1))


def check_context_vectors(fn: Callable[..., Any], seed: int = 0) -> None:
    """context_vectors(weights (L_out, S), values (S, d_v)) -> (L_out, d_v)."""
    __tracebackhide__ = True
    rng = _rng(seed)
    for L, S, d_v in ((4, 4, 3), (3, 5, 2)):
        weights = attnkit.softmax(rng.normal(size=(L, S)) * 2, axis=-1)
        run_case(fn, "q2_spotlight", "context_vectors",
                 Case(f"weights ({L}, {S}) and values ({S}, {d_v})", weights, rng.normal(size=(S, d_v))),
                 attnkit.attend)


def _alignment(weights: np.ndarray, source_words: list[str]) -> list[str]:
    return [source_words[j] for j in np.argmax(weights, axis=-1)]


def check_alignment(fn: Callable[..., Any], seed: int = 0) -> None:
    """alignment(weights (L_out, S), source_words) -> the most-attended source word per output word."""
    __tracebackhide__ = True
    rng = _rng(seed)
    words = ["the", "quick", "brown", "fox", "jumps"]
    weights = attnkit.softmax(rng.normal(size=(3, 5)) * 3, axis=-1)
    run_case(fn, "q2_spotlight", "alignment", Case("3 output words over 5 source words", weights, words),
             _alignment)


# q3: the library -----------------------------------------------------------------------------

def _library(seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = _rng(seed)
    keys = rng.normal(size=(6, 5)) * rng.uniform(0.3, 3.0, size=(6, 1))  # books of very different lengths
    return rng.normal(size=5), keys, rng.normal(size=(6, 3))


def check_cosine_similarity(fn: Callable[..., Any], seed: int = 0) -> None:
    """cosine_similarity(query (D,), keys (S, D)) -> (S,)."""
    __tracebackhide__ = True
    query, keys, _ = _library(seed)
    run_case(fn, "q3_library", "cosine_similarity", Case("a query and 6 keys of different lengths", query, keys),
             retrieval.cosine_similarity, forbidden=("attnkit.library.retrieval.cosine_similarity",))


def check_top_k(fn: Callable[..., Any], seed: int = 0) -> None:
    """top_k(query, keys, k) -> (indices (k,), scores (k,)), best first."""
    __tracebackhide__ = True
    query, keys, _ = _library(seed)
    run_case(fn, "q3_library", "top_k", Case("k = 3 of 6 keys", query, keys, 3), retrieval.top_k,
             forbidden=("attnkit.library.retrieval.top_k",),
             replacements={"cosine_similarity": retrieval.cosine_similarity})


def check_soft_lookup(fn: Callable[..., Any], seed: int = 0) -> None:
    """soft_lookup(query, keys, values, temperature) -> (output (d_v,), weights (S,))."""
    __tracebackhide__ = True
    query, keys, values = _library(seed)
    for temperature in (0.5, 2.0):
        run_case(fn, "q3_library", "soft_lookup", Case(f"temperature = {temperature}", query, keys, values, temperature),
                 retrieval.soft_lookup, forbidden=ATTENTION_BUILTINS,
                 replacements={"cosine_similarity": retrieval.cosine_similarity})


# q4: the query-key-value math ----------------------------------------------------------------

def check_softmax(fn: Callable[..., Any], seed: int = 0) -> None:
    """softmax(x, axis=-1) against attnkit.softmax on 2-D and 3-D inputs, any axis, large scores."""
    __tracebackhide__ = True
    rng = _rng(seed)
    large = np.array([[1000.0, 999.0, 0.0], [1.0, 2.0, 3.0]]) + rng.uniform(0, 1, size=(2, 3))
    cases = [Case("scores of shape (3, 5), axis=-1", rng.normal(size=(3, 5)) * 3),
             Case("scores of shape (3, 5), axis=0", rng.normal(size=(3, 5)) * 3, axis=0),
             Case("scores of shape (2, 3, 4), axis=1", rng.normal(size=(2, 3, 4)), axis=1),
             Case("large scores (about 1000)", large)]
    for case in cases:
        run_case(fn, "q4_qkv_math", "softmax", case, attnkit.softmax, forbidden=SOFTMAX_BUILTINS,
                 builtin_bug="softmax_builtin")


def check_scaled_dot_product_attention(fn: Callable[..., Any], seed: int = 0) -> None:
    """scaled_dot_product_attention(query, key, value, mask=None) -> (output, weights), numpy."""
    __tracebackhide__ = True
    rng = _rng(seed)
    q, k, v = (rng.normal(size=(2, 4, 4)) * 1.5 for _ in range(3))
    mask = np.array([[0, 0, 0, 0], [1, 0, 1, 0], [1, 1, 0, 1], [1, 1, 1, 1]], dtype=bool)  # row 0: nothing
    big = [rng.normal(size=shape) for shape in ((2, 3, 5, 8), (2, 3, 7, 8), (2, 3, 7, 6))]
    big_mask = rng.uniform(size=(5, 7)) < 0.6
    big_mask[:, 0] = True
    cases = [Case("query, key, value of shape (2, 4, 4), no mask", q, k, v),
             Case("shape (2, 4, 4) with a (4, 4) mask whose first row is all False", q, k, v, mask),
             Case("query (2, 3, 5, 8), key (2, 3, 7, 8), value (2, 3, 7, 6), a (5, 7) mask", *big, big_mask),
             Case("large scores (query times 100)", q * 100, k, v)]
    for case in cases:
        run_case(fn, "q4_qkv_math", "scaled_dot_product_attention", case, attnkit.scaled_dot_product_attention,
                 forbidden=ATTENTION_BUILTINS, builtin_bug="builtin_attention",
                 replacements={"softmax": attnkit.softmax})


# q5: self-attention ---------------------------------------------------------------------------

def _self_attention(x: np.ndarray, W_q: np.ndarray, W_k: np.ndarray, W_v: np.ndarray,
                    mask: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Reference: attention of x's projections to themselves (B, L, D) -> (B, L, d_v), (B, L, L)."""
    return attnkit.scaled_dot_product_attention(x @ W_q, x @ W_k, x @ W_v, mask=mask)


def _causal_self_attention(x: np.ndarray, W_q: np.ndarray, W_k: np.ndarray, W_v: np.ndarray):
    return _self_attention(x, W_q, W_k, W_v, mask=attnkit.causal_mask(x.shape[-2]))


def check_causal_mask(fn: Callable[..., Any], seed: int = 0) -> None:
    """causal_mask(L) -> boolean (L, L), True on and below the diagonal."""
    __tracebackhide__ = True
    for L in (1, 4, 6 + seed % 3):
        run_case(fn, "q5_self_attention", "causal_mask", Case(f"L = {L}", L),
                 lambda n: attnkit.causal_mask(n), forbidden=("attnkit.causal_mask", "attnkit.masks.causal_mask"))
    with quiet():
        mask = fn(3)
    if getattr(mask, "dtype", None) not in (bool, np.bool_, torch.bool):
        raise AssertionError(f"causal_mask: the mask must be boolean (True = may attend), got dtype "
                             f"{getattr(mask, 'dtype', type(mask).__name__)}")


def _projections(seed: int) -> tuple[np.ndarray, ...]:
    rng = _rng(seed)
    D, d_k, d_v = 6, 4, 3
    return (rng.normal(size=(2, 5, D)), rng.normal(size=(D, d_k)), rng.normal(size=(D, d_k)),
            rng.normal(size=(D, d_v)))


def check_self_attention(fn: Callable[..., Any], seed: int = 0) -> None:
    """self_attention(x (B, L, D), W_q, W_k (D, d_k), W_v (D, d_v), mask=None) -> (output, weights)."""
    __tracebackhide__ = True
    x, W_q, W_k, W_v = _projections(seed)
    mask = _rng(seed + 1).uniform(size=(5, 5)) < 0.7
    mask[:, 0] = True
    for case in (Case("x (2, 5, 6), W_q/W_k (6, 4), W_v (6, 3), no mask", x, W_q, W_k, W_v),
                 Case("the same with a (5, 5) mask", x, W_q, W_k, W_v, mask=mask)):
        run_case(fn, "q5_self_attention", "self_attention", case, _self_attention)


def check_causal_self_attention(fn: Callable[..., Any], seed: int = 0) -> None:
    """causal_self_attention(x, W_q, W_k, W_v) -> (output, weights) where no token sees the future."""
    __tracebackhide__ = True
    run_case(fn, "q5_self_attention", "causal_self_attention",
             Case("x (2, 5, 6), W_q/W_k (6, 4), W_v (6, 3)", *_projections(seed)), _causal_self_attention,
             replacements={"causal_mask": attnkit.causal_mask, "self_attention": _self_attention})


# q6: multi-head attention (torch) ------------------------------------------------------------

def check_split_heads(fn: Callable[..., Any], seed: int = 0) -> None:
    """split_heads(x (B, L, H*d_k), num_heads) -> (B, H, L, d_k), head h = columns h*d_k:(h+1)*d_k."""
    __tracebackhide__ = True
    x = torch.randn(2, 5, 12, generator=torch.Generator().manual_seed(seed))
    for H in (3, 4):
        run_case(fn, "q6_multi_head", "split_heads", Case(f"x (2, 5, 12), num_heads = {H}", x, H),
                 attnkit.split_heads, atol=1e-6, forbidden=("attnkit.split_heads", "attnkit.heads.split_heads"))


def check_merge_heads(fn: Callable[..., Any], seed: int = 0) -> None:
    """merge_heads(x (B, H, L, d_k)) -> (B, L, H*d_k), the inverse of split_heads."""
    __tracebackhide__ = True
    x = torch.randn(2, 3, 5, 4, generator=torch.Generator().manual_seed(seed))
    run_case(fn, "q6_multi_head", "merge_heads", Case("x (2, 3, 5, 4)", x), attnkit.merge_heads,
             forbidden=("attnkit.merge_heads", "attnkit.heads.merge_heads"))


def check_multi_head_attention(fn: Callable[..., Any], seed: int = 0) -> None:
    """multi_head_attention(query, key, value, num_heads, W_q, W_k, W_v, W_o, mask=None), torch."""
    __tracebackhide__ = True
    g = torch.Generator().manual_seed(seed)
    D, H = 12, 3
    query, key = torch.randn(2, 4, D, generator=g), torch.randn(2, 6, D, generator=g)
    weights = [torch.randn(D, D, generator=g) / D**0.5 for _ in range(4)]
    mask = torch.ones(2, 1, 1, 6, dtype=torch.bool)
    mask[1, ..., 4:] = False  # the second sequence has 2 padding keys
    for case in (Case("query (2, 4, 12), key = value (2, 6, 12), 3 heads", query, key, key, H, *weights),
                 Case("the same with a padding mask (2, 1, 1, 6)", query, key, key, H, *weights, mask=mask)):
        run_case(fn, "q6_multi_head", "multi_head_attention", case, attnkit.multi_head_attention,
                 forbidden=MHA_BUILTINS, builtin_bug="mha_builtin", rtol=1e-4, atol=1e-5,
                 replacements={"split_heads": attnkit.split_heads, "merge_heads": attnkit.merge_heads})


MINILM_SENTENCES = ["The cat sat on the mat.",
                    "Attention keeps the book open while the decoder writes each word of the translation."]


def check_minilm_attention(fn: Callable[..., Any], seed: int = 0) -> None:
    """minilm_attention(query, key, value, mask=None) run inside MiniLM gives MiniLM's embeddings."""
    __tracebackhide__ = True
    from attnkit.transformer.minilm import load_minilm

    model = load_minilm()
    sentences = MINILM_SENTENCES[::-1] if seed % 2 else MINILM_SENTENCES

    def inside_minilm(attention: Callable[..., Any] | None) -> Callable[[list[str]], np.ndarray]:
        return lambda batch: model.encode(batch, attention=attention)  # (B, D) unit rows

    run_case(fn, "q6_multi_head", "minilm_attention", Case("a padded batch of two sentences", sentences),
             inside_minilm(None), forbidden=SDPA_BUILTINS, builtin_bug="builtin_attention",
             rtol=1e-3, atol=1e-4, adapter=inside_minilm)
