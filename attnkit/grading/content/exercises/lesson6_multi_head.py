"""Lesson 6's activities: split the width into heads, guess how many heads park on [CLS], find the
layer that leans on [CLS] most, write the attention that runs inside MiniLM, guess what ignoring
the padding does to a batch.

Declared like a quiz's exercises (see :mod:`attnkit.grading.content.catalogue`); the lesson calls them
through :mod:`attnkit.activities`.
"""
from __future__ import annotations

import math

import torch

from attnkit.activities import Prediction
from attnkit.grading.content.catalogue import Bug, Case, Exercise, change
from attnkit.grading.content.exercises.q6_multi_head import randn

QUIZ = "lesson6"

SDPA_BUILTINS = ("attnkit.scaled_dot_product_attention", "attnkit.attention.scaled_dot_product_attention",
                 "torch.nn.functional.scaled_dot_product_attention")


def split_heads(x, num_heads):
    """(B, L, H*d_k) -> (B, H, L, d_k): head h gets columns h*d_k .. (h+1)*d_k - 1."""
    B, L, D = x.shape
    x = x.reshape(B, L, num_heads, D // num_heads)  # (B, L, H*d_k) -> (B, L, H, d_k): cut the width
    return x.transpose(1, 2)  # (B, L, H, d_k) -> (B, H, L, d_k): heads forward


def split_cases(seed: int) -> list[Case]:
    return [Case("x (1, 5, 12), num_heads = 3", randn(seed, 1, 5, 12), 3),
            Case("x (2, 4, 12), num_heads = 4", randn(seed + 1, 2, 4, 12), 4)]


_SPLIT = '''
def split_heads(x, num_heads):
    B, L, D = x.shape
    return {ret}
'''
_SPLIT_RIGHT = dict(ret="x.reshape(B, L, num_heads, D // num_heads).transpose(1, 2)")


def my_attention(query, key, value, mask=None):
    """Attention in torch for one sentence: (output (B, H, L, d_k), weights (B, H, L, L)).

    ``mask`` is not needed here: one sentence at a time has no padding (a padded batch needs it)."""
    # (B, H, L, d_k) @ (B, H, d_k, L) -> (B, H, L, L)
    scores = query @ key.transpose(-2, -1) / math.sqrt(query.shape[-1])
    weights = torch.softmax(scores, dim=-1)  # each row (one query) sums to 1
    return weights @ value, weights  # (B, H, L, L) @ (B, H, L, d_k) -> (B, H, L, d_k)


def attention_cases(seed: int) -> list[Case]:
    return [Case("query, key, value (1, 2, 5, 4)", *(randn(seed + i, 1, 2, 5, 4) for i in range(3))),
            Case("query, key, value (2, 3, 6, 8), scores times 3", randn(seed + 3, 2, 3, 6, 8) * 3,
                 randn(seed + 4, 2, 3, 6, 8), randn(seed + 5, 2, 3, 6, 8))]


_ATTENTION = '''
def my_attention(query, key, value, mask=None):
    scores = {scores}
    weights = torch.softmax(scores, dim={dim})
    return {ret}
'''
_RIGHT = dict(scores="query @ key.transpose(-2, -1) / math.sqrt(query.shape[-1])", dim="-1",
              ret="weights @ value, weights")

EXERCISES = [
    Exercise("split_heads", reference=split_heads, cases=split_cases, backend="torch",
             forbidden=("attnkit.split_heads", "attnkit.heads.split_heads"), bugs=[
        Bug("l6_split_straight_reshape",
            "a straight reshape to (B, H, L, d_k) has the right shape but mixes positions: the memory holds "
            "one position's whole width after another, so cut the width first and move the heads forward after.",
            change(_SPLIT, _SPLIT_RIGHT, ret="x.reshape(B, num_heads, L, D // num_heads)")),
        Bug("l6_split_interleaved",
            "each head got every H-th column: head h must get a contiguous block of d_k columns, "
            "h*d_k to (h+1)*d_k - 1 (the picture above).",
            change(_SPLIT, _SPLIT_RIGHT, ret="x.reshape(B, L, D // num_heads, num_heads).permute(0, 3, 1, 2)")),
        Bug("l6_split_no_transpose",
            "the heads are not brought forward: the result must be (B, H, L, d_k), so that each head is a "
            "separate (L, d_k) matrix for attention.",
            change(_SPLIT, _SPLIT_RIGHT, ret="x.reshape(B, L, num_heads, D // num_heads)")),
    ]),
    Exercise("my_attention", reference=my_attention, cases=attention_cases, backend="torch",
             forbidden=SDPA_BUILTINS, builtin_bug="l6_builtin_attention", rtol=1e-4, atol=1e-6, bugs=[
        Bug("l6_no_scale",
            "the scores are not scaled: MiniLM was trained with scores divided by the square root of the "
            "head width, d_k = 32.", change(_ATTENTION, _RIGHT, scores="query @ key.transpose(-2, -1)")),
        Bug("l6_scale_by_d_k",
            "the scores were divided by d_k: the scale is one over its square root.",
            change(_ATTENTION, _RIGHT, scores="query @ key.transpose(-2, -1) / query.shape[-1]")),
        Bug("l6_softmax_over_queries",
            "the softmax ran over the queries (dim -2): each query's weights over the keys, one row, must "
            "sum to 1.", change(_ATTENTION, _RIGHT, dim="-2")),
        Bug("l6_pair_swapped",
            "the pair comes back in the wrong order: MiniLM expects (output, weights), output first.",
            change(_ATTENTION, _RIGHT, ret="weights, weights @ value")),
        Bug("l6_builtin_attention",
            "this calls a ready-made attention (attnkit's or torch's): the activity is to write it yourself, "
            "so that your own code runs the model.", '''
def my_attention(query, key, value, mask=None):
    import attnkit
    return attnkit.scaled_dot_product_attention(query, key, value)
'''),
    ]),
]

PREDICTIONS = [
    Prediction("lesson6.cls_heads",
               "in how many of MiniLM's 72 heads [CLS] gets the largest weight from most words",
               "Most heads, in every layer, put their largest weight on [CLS] and almost none on [SEP]: the "
               "sink is one token, not two. Why they do is a reading (see the text), not a measurement.",
               tolerance=8.0, solved=64.0),
    Prediction("lesson6.cls_layer",
               "the layer (0 to 5) whose twelve heads, on average, put the most weight on [CLS]",
               "The sink is weakest in the first layer, where heads still read neighbouring words, and "
               "peaks higher up, in layer {measured:.0f}; the last layer leans on it less again.",
               tolerance=0.0, solved=4.0, knob=True),
    Prediction("lesson6.padded_cosine",
               "the lowest cosine, in percent, between a phrase's embedding and the reference when the five "
               "phrases run as one padded batch and the mask is ignored",
               "Without the mask the short phrases' words also attend to the padding tokens at the end, so "
               "their vectors drift; the longest phrase has no padding and stays right.",
               unit="%", tolerance=5.0, solved=76.5),
]
