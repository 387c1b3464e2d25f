"""Lesson 7's activities: write the position-wise feed-forward network, multi-head attention, the
encoder layer and the decoder layer (each run inside a module whose weights the check sets), turn
the width of the positional encoding, predict what a short training run reaches.

Declared like a quiz's exercises (see :mod:`attnkit.grading.content.catalogue`); the lesson calls them
through :mod:`attnkit.activities`.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from attnkit.activities import Prediction
from attnkit.grading.content.catalogue import Bug, Case, Exercise, change
from attnkit.grading.content.exercises.lesson6_multi_head import SDPA_BUILTINS
from attnkit.grading.content.exercises.q6_multi_head import randn
from attnkit.masks import padding_mask
from attnkit.transformer.layers import DecoderLayer, EncoderLayer, LayerAttention, decoder_layer, encoder_layer

QUIZ = "lesson7"
D, H, D_FF = 8, 2, 16  # the layers the checks build: small, so a wrong entry is easy to point at


def feed_forward(x, W_1, b_1, W_2, b_2):
    """FFN(x) = max(0, x W_1 + b_1) W_2 + b_2, the same two maps at every position: (B, L, D) -> (B, L, D)."""
    hidden = np.maximum(0.0, x @ W_1 + b_1)  # (B, L, D) -> (B, L, d_ff)
    return hidden @ W_2 + b_2  # (B, L, d_ff) -> (B, L, D)


def feed_forward_cases(seed: int) -> list[Case]:
    rng = np.random.default_rng(seed)
    D, d_ff = 4, 8
    weights = (rng.normal(size=(D, d_ff)), rng.normal(size=d_ff), rng.normal(size=(d_ff, D)), rng.normal(size=D))
    return [Case("x (2, 3, 4), W_1 (4, 8), b_1 (8,), W_2 (8, 4), b_2 (4,)", rng.normal(size=(2, 3, D)), *weights),
            Case("one position, x (1, 1, 4)", rng.normal(size=(1, 1, D)), *weights)]


_FFN = '''
def feed_forward(x, W_1, b_1, W_2, b_2):
    hidden = {hidden}
    return {output}
'''
_RIGHT = {"hidden": "np.maximum(0.0, x @ W_1 + b_1)", "output": "hidden @ W_2 + b_2"}

def multi_head_attention(attention, query, key, value, mask):
    """Multi-head attention with the projections of ``attention`` (q_proj, k_proj, v_proj, out_proj, num_heads).

    query (B, L, D), key and value (B, S, D), mask boolean (True = may attend) broadcastable to
    (B, H, L, S) -> (output (B, L, D), weights (B, H, L, S))."""
    B, L, D = query.shape
    H = attention.num_heads
    d_k = D // H
    # project, then cut the width into H heads: (B, L|S, D) -> (B, L|S, H, d_k) -> (B, H, L|S, d_k)
    q = attention.q_proj(query).reshape(B, L, H, d_k).transpose(1, 2)
    k = attention.k_proj(key).reshape(B, -1, H, d_k).transpose(1, 2)
    v = attention.v_proj(value).reshape(B, -1, H, d_k).transpose(1, 2)
    scores = q @ k.transpose(-2, -1) / d_k ** 0.5  # (B, H, L, S)
    if mask is not None:
        scores = scores.masked_fill(~mask, float("-inf"))  # a key it may not see gets weight 0
    weights = torch.softmax(scores, dim=-1)  # each query's row sums to 1
    heads = weights @ v  # (B, H, L, S) @ (B, H, S, d_k) -> (B, H, L, d_k)
    merged = heads.transpose(1, 2).reshape(B, L, D)  # heads side by side again: (B, L, H * d_k)
    return attention.out_proj(merged), weights


def _layer(cls: type, seed: int, *sizes: int) -> Any:
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        layer = cls(*(sizes or (D, H, D_FF)))
    for k, p in enumerate(layer.parameters()):  # norms' gains and shifts away from 1 and 0, each its own
        p.data += 0.3 * torch.randn(p.shape, generator=torch.Generator().manual_seed(1000 * seed + k))
    return layer.eval()


def in_attention(fn: Callable[..., Any] | None) -> Callable[..., Any]:
    """What the multi_head_attention cases call: ``fn`` plugged into a seeded :class:`LayerAttention`
    (``attention.use(fn)``), called as the layers call it, so a 3-D mask arrives with its head axis."""
    fn = multi_head_attention if fn is None else fn

    def run(query, key, value, mask, seed):
        attention = _layer(LayerAttention, seed, D, H)
        attention.use(fn)
        with torch.no_grad():
            return attention(query, key, value, mask)
    return run


def attention_cases(seed: int) -> list[Case]:
    causal = np.tril(np.ones((4, 4), dtype=bool))
    x = randn(seed + 3, 1, 4, D) * 2
    return [Case("cross-attention: query (2, 3, 8), key and value (2, 5, 8) (different), source lengths [5, 2] "
                 "(padding mask (2, 1, 5)), 2 heads",
                 randn(seed, 2, 3, D) * 2, randn(seed + 1, 2, 5, D) * 2, randn(seed + 2, 2, 5, D),
                 padding_mask([5, 2], 5), seed),
            Case("causal self-attention: x (1, 4, 8) as query, key and value, causal mask (4, 4)",
                 x, x, x, causal, seed + 1)]


def in_encoder_layer(fn: Callable[..., Any] | None) -> Callable[..., Any]:
    """What the encoder_layer cases call: ``fn(layer, x, mask)`` on an :class:`EncoderLayer` seeded by the case."""
    fn = encoder_layer if fn is None else fn

    def run(x, mask, seed):
        with torch.no_grad():
            return fn(_layer(EncoderLayer, seed), x, mask)
    return run


def in_decoder_layer(fn: Callable[..., Any] | None) -> Callable[..., Any]:
    """What the decoder_layer cases call: ``fn(layer, y, memory, self_mask, memory_mask)`` on a seeded
    :class:`DecoderLayer`."""
    fn = decoder_layer if fn is None else fn

    def run(y, memory, self_mask, memory_mask, seed):
        with torch.no_grad():
            return fn(_layer(DecoderLayer, seed), y, memory, self_mask, memory_mask)
    return run


def encoder_cases(seed: int) -> list[Case]:
    return [Case("x (2, 5, 8), sentence lengths [5, 3] (padding mask (2, 1, 5))",
                 randn(seed, 2, 5, D) * 2, padding_mask([5, 3], 5), seed),
            Case("x (1, 4, 8), no padding", randn(seed + 1, 1, 4, D), padding_mask([4], 4), seed + 1)]


def decoder_cases(seed: int) -> list[Case]:
    causal = np.tril(np.ones((4, 4), dtype=bool))
    return [Case("y (2, 4, 8), memory (2, 4, 8), source lengths [4, 2], causal mask (4, 4)",
                 randn(seed, 2, 4, D), randn(seed + 1, 2, 4, D) * 2, causal, padding_mask([4, 2], 4), seed),
            Case("y (1, 4, 8), memory (1, 6, 8), source length 5",
                 randn(seed + 2, 1, 4, D), randn(seed + 3, 1, 6, D), causal, padding_mask([5], 6), seed + 2)]


_ATTENTION = '''
def multi_head_attention(attention, query, key, value, mask):
    B, L, D = query.shape
    H = attention.num_heads
    d_k = D // H
    q = attention.q_proj(query).reshape(B, L, H, d_k).transpose(1, 2)
    k = attention.{k_proj}({k_in}).reshape(B, -1, H, d_k).transpose(1, 2)
    v = attention.{v_proj}({v_in}).reshape(B, -1, H, d_k).transpose(1, 2)
    scores = {scores}
    {masked}
    weights = {weights}
    heads = weights @ v
    merged = {merged}
    return attention.out_proj(merged), weights
'''
_ATT_RIGHT = {"k_proj": "k_proj", "k_in": "key", "v_proj": "v_proj", "v_in": "value",
              "scores": "q @ k.transpose(-2, -1) / d_k ** 0.5",
              "masked": "scores = scores.masked_fill(~mask, float('-inf')) if mask is not None else scores",
              "weights": "torch.softmax(scores, dim=-1)", "merged": "heads.transpose(1, 2).reshape(B, L, D)"}

_ENCODER = '''
def encoder_layer(layer, x, mask):
    attended, weights = layer.self_attention({attend_in}, {attend_in}, {attend_in}, {mask})
    x = {first}
    x = {second}
    return x, weights
'''
_ENC_RIGHT = {"attend_in": "x", "mask": "mask", "first": "layer.self_attention_norm(x + attended)",
              "second": "layer.feed_forward_norm(x + layer.feed_forward(x))"}
_DECODER = '''
def decoder_layer(layer, y, memory, self_mask, memory_mask):
    attended, self_weights = layer.self_attention(y, y, y, {self_mask})
    y = {first}
    attended, cross_weights = layer.cross_attention(y, {kv}, {kv}, {memory_mask})
    y = {second}
    y = layer.feed_forward_norm(y + layer.feed_forward(y))
    return y, (self_weights, cross_weights)
'''
_DEC_RIGHT = {"self_mask": "self_mask", "memory_mask": "memory_mask", "kv": "memory",
              "first": "layer.self_attention_norm(y + attended)", "second": "layer.cross_attention_norm(y + attended)"}

EXERCISES = [
    Exercise(
        "feed_forward", reference=feed_forward, cases=feed_forward_cases,
        bugs=[
            Bug("ffn_no_relu",
                "there is no ReLU between the two linear maps: two linear maps in a row are one linear map, "
                "so the block could learn nothing a single matrix could not.",
                change(_FFN, _RIGHT, hidden="x @ W_1 + b_1")),
            Bug("ffn_relu_on_output",
                "the ReLU was applied to the block's output: then no output entry can be negative. The "
                "ReLU sits between the two maps, on the d_ff-wide hidden layer.",
                change(_FFN, _RIGHT, output="np.maximum(0.0, hidden @ W_2 + b_2)")),
            Bug("ffn_no_bias",
                "a bias is missing: each linear map is x W + b, with b_1 (d_ff,) and b_2 (D,).",
                change(_FFN, _RIGHT, hidden="np.maximum(0.0, x @ W_1)")),
        ]),
    Exercise(
        "multi_head_attention", reference=multi_head_attention, cases=attention_cases,
        adapter=f"{__name__}.in_attention", backend="torch", rtol=1e-4, atol=1e-5,
        forbidden=SDPA_BUILTINS + ("attnkit.multi_head_attention", "attnkit.heads.multi_head_attention",
                                   "torch.nn.functional.multi_head_attention_forward"),
        builtin_bug="l7_mha_builtin",
        bugs=[
            Bug("l7_mha_no_scale",
                "the scores are not scaled: divide q . k by sqrt(d_k), the width of one head (lesson 4), or the "
                "softmax saturates as the heads widen.",
                change(_ATTENTION, _ATT_RIGHT, scores="q @ k.transpose(-2, -1)")),
            Bug("l7_mha_scale_by_model_width",
                "the scores were divided by sqrt(D), the model's width: each head's dot product runs over its "
                "own d_k = D / H numbers, so the scale is 1 / sqrt(d_k).",
                change(_ATTENTION, _ATT_RIGHT, scores="q @ k.transpose(-2, -1) / D ** 0.5")),
            Bug("l7_mha_mask_after_softmax",
                "the mask was applied after the softmax: zeroing weights leaves each row summing to less than 1. "
                "Set the scores of keys a query may not see to -inf before the softmax (lesson 4).",
                change(_ATTENTION, _ATT_RIGHT, masked="pass",
                       weights="torch.softmax(scores, dim=-1).masked_fill(~mask, 0.0)")),
            Bug("l7_mha_mask_fill_zero",
                "masked scores were set to 0, not -inf: exp(0) = 1, so a hidden key still gets weight. A key a "
                "query may not see needs the score -inf, so that its weight is exactly 0.",
                change(_ATTENTION, _ATT_RIGHT, masked="scores = scores.masked_fill(~mask, 0.0)")),
            Bug("l7_mha_merge_without_transpose",
                "the heads were merged without moving them back: (B, H, L, d_k) reshaped straight to (B, L, D) "
                "mixes positions. Transpose to (B, L, H, d_k) first, then put the heads side by side (lesson 6).",
                change(_ATTENTION, _ATT_RIGHT, merged="heads.reshape(B, L, D)")),
            Bug("l7_mha_keys_values_swapped",
                "keys and values are swapped: the scores compare the queries with the keys (key @ W_k), and the "
                "weights mix the values (value @ W_v).",
                change(_ATTENTION, _ATT_RIGHT, k_proj="v_proj", k_in="value", v_proj="k_proj", v_in="key")),
            Bug("l7_mha_softmax_over_queries",
                "the softmax ran over the queries (dim -2): each query's weights over the keys, one row, must "
                "sum to 1.", change(_ATTENTION, _ATT_RIGHT, weights="torch.softmax(scores, dim=-2)")),
            Bug("l7_mha_builtin",
                "this calls a ready-made attention (attnkit's or torch's): the activity is to write it from its "
                "pieces, so that your own attention runs your layers.", '''
def multi_head_attention(attention, query, key, value, mask):
    import torch.nn.functional as F
    B, L, D = query.shape
    H = attention.num_heads
    q = attention.q_proj(query).reshape(B, L, H, D // H).transpose(1, 2)
    k = attention.k_proj(key).reshape(B, -1, H, D // H).transpose(1, 2)
    v = attention.v_proj(value).reshape(B, -1, H, D // H).transpose(1, 2)
    heads = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
    return attention.out_proj(heads.transpose(1, 2).reshape(B, L, D)), None
'''),
        ]),
    Exercise(
        "encoder_layer", reference=encoder_layer, cases=encoder_cases, adapter=f"{__name__}.in_encoder_layer",
        backend="torch", rtol=1e-4, atol=1e-5,
        bugs=[
            Bug("encoder_pre_norm",
                "this is the pre-norm layer, x + Sublayer(LayerNorm(x)): it normalises each sublayer's input and "
                "adds the raw residual. The paper and torch's default (norm_first=False) are post-norm: add "
                "first, then normalise, LayerNorm(x + Sublayer(x)).", '''
def encoder_layer(layer, x, mask):
    h = layer.self_attention_norm(x)
    attended, weights = layer.self_attention(h, h, h, mask)
    x = x + attended
    x = x + layer.feed_forward(layer.feed_forward_norm(x))
    return x, weights
'''),
            Bug("encoder_no_residual",
                "a residual connection is missing: each norm takes x + Sublayer(x), the sublayer's input added "
                "to its output, not the sublayer's output alone.",
                change(_ENCODER, _ENC_RIGHT, first="layer.self_attention_norm(attended)")),
            Bug("encoder_mask_ignored",
                "the padding mask is not passed to the self-attention: real words then attend to the padding "
                "of shorter sentences. Pass mask as attention's fourth argument.",
                change(_ENCODER, _ENC_RIGHT, mask="None")),
            Bug("encoder_norm_swapped",
                "the two norms are swapped: each sublayer has its own LayerNorm (self_attention_norm after "
                "the attention, feed_forward_norm after the feed-forward network), with its own gain and shift.",
                change(_ENCODER, _ENC_RIGHT, first="layer.feed_forward_norm(x + attended)",
                       second="layer.self_attention_norm(x + layer.feed_forward(x))")),
        ]),
    Exercise(
        "decoder_layer", reference=decoder_layer, cases=decoder_cases, adapter=f"{__name__}.in_decoder_layer",
        backend="torch", rtol=1e-4, atol=1e-5,
        bugs=[
            Bug("decoder_masks_swapped",
                "the masks are on the wrong attentions: the causal mask belongs to the decoder's "
                "self-attention (word t must not read the words after it), the source padding mask to "
                "cross-attention (no word reads the source's padding).",
                change(_DECODER, _DEC_RIGHT, self_mask="memory_mask", memory_mask="self_mask")),
            Bug("decoder_cross_from_decoder",
                "cross-attention takes its keys and values from the decoder: that is a second "
                "self-attention, and the source never reaches the decoder. Queries come from the decoder, "
                "keys and values from the encoder's memory.",
                change(_DECODER, _DEC_RIGHT, kv="y")),
            Bug("decoder_pre_norm",
                "this is the pre-norm layer, y + Sublayer(LayerNorm(y)); the paper and torch's default add "
                "first, then normalise: LayerNorm(y + Sublayer(y)).", '''
def decoder_layer(layer, y, memory, self_mask, memory_mask):
    h = layer.self_attention_norm(y)
    attended, self_weights = layer.self_attention(h, h, h, self_mask)
    y = y + attended
    attended, cross_weights = layer.cross_attention(layer.cross_attention_norm(y), memory, memory, memory_mask)
    y = y + attended
    y = y + layer.feed_forward(layer.feed_forward_norm(y))
    return y, (self_weights, cross_weights)
'''),
            Bug("decoder_causal_transposed",
                "the causal mask is on the wrong side of the diagonal: word t reads itself and the words "
                "after it, which it will not have when generating. True = may attend, keys j <= t.",
                change(_DECODER, _DEC_RIGHT, self_mask="self_mask.T")),
            Bug("decoder_no_cross_residual",
                "the residual connection around cross-attention is missing: the norm takes y + attended, "
                "so what the decoder had written survives next to what it read from the source.",
                change(_DECODER, _DEC_RIGHT, second="layer.cross_attention_norm(attended)")),
        ]),
]

PREDICTIONS = [
    Prediction("lesson7.half_cosine_distance",
               "with D_knob = 16: the smallest distance k at which the cosine between two positions' "
               "encodings, PE[p] and PE[p + k], falls below 0.5",
               "The cosine is the mean of cos(k w_i) over the D/2 frequencies; a narrow encoding has few "
               "slow hands, so its positions stop looking alike sooner ({measured:.0f} words at D = 16).",
               tolerance=0.0, solved=9.0, knob=True),
    Prediction("lesson7.live_accuracy",
               "your Transformer's token accuracy, in percent, on the 10-word test sentences after the "
               "short training run of section 5",
               "A few hundred steps teach the model the word-for-word part of the task; the shipped model, "
               "trained on the same pairs for many more steps, shows where longer training goes.",
               unit="%", tolerance=15.0, solved=84.0),
]
