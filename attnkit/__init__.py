"""attnkit: the helper package of a course on attention mechanisms.

Shape legend, everywhere: B batch, H heads, L query length, S key/value length, D model width,
d_k / d_v per-head widths. Functions take numpy arrays or torch tensors and return the same kind.
"""
from attnkit.attention import (additive_scores, attend, attention_output, dot_product_scores,
                               scaled_dot_product_attention, softmax)
from attnkit.errors import AttentionShapeError
from attnkit.heads import MultiHeadAttention, merge_heads, multi_head_attention, split_heads
from attnkit.masks import causal_mask, padding_mask
from attnkit.plotting import plot_attention, plot_spotlight
from attnkit.transformer.embeddings import embed
from attnkit.library.retrieval import cosine_similarity, hard_lookup, soft_lookup, top_k
from attnkit.transformer.minilm import MiniLM, load_minilm
from attnkit.transformer.params import transformer_parameter_count

__version__ = "0.1.0"

__all__ = [
    "AttentionShapeError",
    "MultiHeadAttention",
    "additive_scores",
    "attend",
    "attention_output",
    "causal_mask",
    "dot_product_scores",
    "merge_heads",
    "multi_head_attention",
    "padding_mask",
    "plot_attention",
    "plot_spotlight",
    "scaled_dot_product_attention",
    "softmax",
    "split_heads",
    "embed",
    "cosine_similarity",
    "hard_lookup",
    "soft_lookup",
    "top_k",
    "MiniLM",
    "load_minilm",
    "transformer_parameter_count",
]
