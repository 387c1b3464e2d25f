"""Quiz 6, multi-head attention (torch): split a fused projection into heads, merge heads,
multi-head attention, and an attention function run inside the real MiniLM."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import torch

import attnkit
from attnkit.grading.content.catalogue import ABC, Bug, Case, Exercise, Question, change
from attnkit.grading.content.exercises.q4_qkv_math import BUILTIN_ATTENTION

__all__ = ["EXERCISES", "QUESTIONS", "inside_minilm", "additive_mask", "MINILM_SENTENCES", "split_qkv"]

SDPA_BUILTINS = ("attnkit.scaled_dot_product_attention", "attnkit.attention.scaled_dot_product_attention",
                 "torch.nn.functional.scaled_dot_product_attention")
MHA_BUILTINS = ("attnkit.multi_head_attention", "attnkit.heads.multi_head_attention",
                "attnkit.MultiHeadAttention.forward", "attnkit.heads.MultiHeadAttention.forward",
                "torch.nn.functional.multi_head_attention_forward", "torch.nn.MultiheadAttention.forward")
MINILM_SENTENCES = ["The cat sat on the mat.",
                    "Attention keeps the book open while the decoder writes each word of the translation."]


def randn(seed: int, *shape: int) -> np.ndarray:
    """torch.randn's numbers for a seed, as a float32 numpy array (cases hold plain data)."""
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed)).numpy()


def split_qkv(qkv, num_heads):
    """(B, L, 3*D) -> (q, k, v), each (B, H, L, d_k): the three blocks of D columns, split into heads."""
    B, L, three_D = qkv.shape
    D = three_D // 3
    blocks = qkv[..., :D], qkv[..., D:2 * D], qkv[..., 2 * D:]  # 3 x (B, L, D): queries, keys, values
    return tuple(t.reshape(B, L, num_heads, D // num_heads).transpose(1, 2) for t in blocks)  # (B, H, L, d_k)


def split_qkv_cases(seed: int) -> list[Case]:
    return [Case("qkv (2, 5, 36), num_heads = 3 (D = 12)", randn(seed, 2, 5, 36), 3),
            Case("qkv (1, 4, 24), num_heads = 2 (D = 8)", randn(seed + 1, 1, 4, 24), 2)]


SPLIT_QKV = '''
def split_qkv(qkv, num_heads):
    B, L, three_D = qkv.shape
    D = three_D // 3
    d_k = D // num_heads
    {body}
'''


def merge_cases(seed: int) -> list[Case]:
    return [Case("x (2, 3, 5, 4)", randn(seed, 2, 3, 5, 4))]


def mha_cases(seed: int) -> list[Case]:
    g = torch.Generator().manual_seed(seed)
    D, H = 12, 3
    query, key = torch.randn(2, 4, D, generator=g).numpy(), torch.randn(2, 6, D, generator=g).numpy()
    weights = [(torch.randn(D, D, generator=g) / D**0.5).numpy() for _ in range(4)]
    mask = np.ones((2, 1, 1, 6), dtype=bool)
    mask[1, ..., 4:] = False  # the second sequence has 2 padding keys
    return [Case("query (2, 4, 12), key = value (2, 6, 12), 3 heads", query, key, key, H, *weights),
            Case("the same with a padding mask (2, 1, 1, 6)", query, key, key, H, *weights, mask=mask)]


def additive_mask(mask: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """Hugging Face's form of a boolean mask (True = may attend): 0.0 where True, the dtype's most
    negative number where False, to be added to the scores; same shape, e.g. (B, 1, 1, S)."""
    return torch.zeros(mask.shape, dtype=dtype).masked_fill(~mask, torch.finfo(dtype).min)


def inside_minilm(attention: Callable[..., Any] | None) -> Callable[[list[str]], np.ndarray]:
    """What the minilm_attention case calls: MiniLM's sentence embeddings with ``attention`` inside,
    called as ``attention(query, key, value, mask)`` with the mask in its additive form."""
    from attnkit.transformer.minilm import load_minilm

    model = load_minilm()
    if attention is None:
        return lambda batch: model.encode(batch)  # (B, D) unit rows: attnkit's attention inside

    def additive(query, key, value, mask=None, scale=None):  # noqa: ARG001 (MiniLM's default scale)
        return attention(query, key, value, None if mask is None else additive_mask(mask, query.dtype))

    return lambda batch: model.encode(batch, attention=additive)


def minilm_cases(seed: int) -> list[Case]:
    sentences = MINILM_SENTENCES[::-1] if seed % 2 else MINILM_SENTENCES
    return [Case("a padded batch of two sentences", list(sentences))]


MHA = '''
def multi_head_attention(query, key, value, num_heads, W_q, W_k, W_v, W_o, mask=None):
    B, L, D = query.shape
    d_k = D // num_heads
    q = (query @ W_q).reshape(B, -1, num_heads, d_k).transpose(1, 2)
    k = (key @ W_k).reshape(B, -1, num_heads, d_k).transpose(1, 2)
    v = (value @ W_v).reshape(B, -1, num_heads, d_k).transpose(1, 2)
    scores = q @ k.transpose(-2, -1) / math.sqrt({width})
    if mask is not None:
        scores = scores.masked_fill(~mask, float("-inf"))
    weights = torch.softmax(scores, dim=-1)
    heads = (weights @ v).transpose(1, 2).reshape(B, L, D)
    return {ret}, weights
'''

EXERCISES = [
    Exercise("split_qkv", reference=split_qkv, cases=split_qkv_cases, backend="torch", atol=1e-6,
             forbidden=("attnkit.split_heads", "attnkit.heads.split_heads"), bugs=[
        Bug("split_qkv_straight_reshape",
            "each block was reshaped straight into (B, H, L, d_k): that fills each head with pieces of "
            "several tokens, while a head must get its own slice of every token's width (all L tokens, "
            "d_k columns).",
            change(SPLIT_QKV, {}, body="return tuple(qkv[..., i * D:(i + 1) * D].reshape(B, num_heads, L, d_k) "
                                       "for i in range(3))")),
        Bug("split_qkv_interleaved",
            "q, k and v were taken as interleaved within each head: in this layout they are three "
            "blocks of D columns (queries first, then keys, then values), and each block is split into heads.",
            change(SPLIT_QKV, {}, body="x = qkv.reshape(B, L, num_heads, 3, d_k)\n"
                                       "    return tuple(x[..., i, :].transpose(1, 2) for i in range(3))")),
        Bug("split_qkv_no_transpose",
            "the heads are not brought forward: each of q, k, v must be (B, H, L, d_k), so that each head is a "
            "separate (L, d_k) matrix for attention.",
            change(SPLIT_QKV, {}, body="return tuple(qkv[..., i * D:(i + 1) * D].reshape(B, L, num_heads, d_k) "
                                       "for i in range(3))")),
    ]),
    Exercise("merge_heads", reference=attnkit.merge_heads, cases=merge_cases, backend="torch",
             forbidden=("attnkit.merge_heads", "attnkit.heads.merge_heads"), bugs=[
        Bug("merge_heads_interleaved",
            "the heads were merged in the wrong order: head h's d_k columns must end up side by side "
            "(block h of the width), as split_heads cut them.", '''
def merge_heads(x):
    B, H, L, d_k = x.shape
    return x.permute(0, 2, 3, 1).reshape(B, L, H * d_k)
'''),
    ]),
    Exercise("multi_head_attention", reference=attnkit.multi_head_attention, cases=mha_cases, backend="torch",
             forbidden=MHA_BUILTINS, builtin_bug="mha_builtin", rtol=1e-4, atol=1e-5,
             replacements={"split_heads": "attnkit.split_heads", "merge_heads": "attnkit.merge_heads"}, bugs=[
        Bug("mha_no_output_projection",
            "the concatenated heads are returned as they are: multi-head attention ends with the output "
            "projection W_o, which mixes what the heads found.",
            change(MHA, {}, width="d_k", ret="heads")),
        Bug("mha_scale_by_d_model",
            "the scores were scaled with the model width D: each head compares d_k = D / H dimensional "
            "vectors, so the scale comes from the per-head width.",
            change(MHA, {}, width="D", ret="heads @ W_o")),
        Bug("mha_builtin",
            "this calls a ready-made multi-head attention (attnkit's or torch's): the exercise is to "
            "project, split, attend, merge and project yourself, so it earns no credit.", '''
def multi_head_attention(query, key, value, num_heads, W_q, W_k, W_v, W_o, mask=None):
    import attnkit
    return attnkit.multi_head_attention(query, key, value, num_heads, W_q, W_k, W_v, W_o, mask=mask)
'''),
    ]),
    # reference None: the adapter runs MiniLM with its own attention (attnkit's) inside
    Exercise("minilm_attention", reference=None, cases=minilm_cases, adapter=f"{__name__}.inside_minilm",
             forbidden=SDPA_BUILTINS, builtin_bug="builtin_attention_inside_minilm", rtol=1e-3, atol=1e-4,
             bugs=[
        Bug("padding_mask_ignored",
            "the mask is ignored: in a padded batch the real tokens then attend to [PAD] tokens, and the "
            "embeddings of shorter sentences change. Add the mask to the scores before the softmax.", '''
def minilm_attention(query, key, value, mask=None):
    scores = query @ key.transpose(-2, -1) / math.sqrt(query.shape[-1])
    weights = torch.softmax(scores, dim=-1)
    return weights @ value, weights
'''),
        Bug("additive_mask_multiplied",
            "the mask was multiplied with the scores: this mask is additive, 0.0 where a key may be attended "
            "and a huge negative number where not, so it is added to the scores (0 leaves a score as it is).", '''
def minilm_attention(query, key, value, mask=None):
    scores = query @ key.transpose(-2, -1) / math.sqrt(query.shape[-1])
    if mask is not None:
        scores = scores * mask
    weights = torch.softmax(scores, dim=-1)
    return weights @ value, weights
'''),
        Bug("additive_mask_after_softmax",
            "the mask was added after the softmax: the padding has already taken its share of the weights "
            "by then; add the mask to the scores, so that the softmax gives the padding weight 0.", '''
def minilm_attention(query, key, value, mask=None):
    scores = query @ key.transpose(-2, -1) / math.sqrt(query.shape[-1])
    weights = torch.softmax(scores, dim=-1)
    if mask is not None:
        weights = (weights + mask).clamp(min=0.0)
    return weights @ value, weights
'''),
        Bug("builtin_attention_inside_minilm",
            BUILTIN_ATTENTION, '''
def minilm_attention(query, key, value, mask=None):
    import attnkit
    return attnkit.scaled_dot_product_attention(query, key, value, mask=None if mask is None else mask == 0)
'''),
    ]),
]

QUESTIONS = [
    Question("q6_attention_parameters", "revisit lesson 6, section 2: how the heads share the four projections.",
             tolerance=0.5),
    Question("q6_weights_shape", "revisit the shapes in lesson 6's table of the layer.", ABC),
    Question("q6_crossover_length", "revisit lesson 6's count of multiply-adds and solve for L.", tolerance=0.5),
]
