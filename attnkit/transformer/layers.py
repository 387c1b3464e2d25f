"""The Transformer's two layers, as in Figure 1 of "Attention Is All You Need" (lesson 7).

Every sublayer is wrapped the same way, "Add & Norm" (post-layer-norm, as in the paper)::

    x = LayerNorm(x + Sublayer(x))

    encoder layer                                   decoder layer
    x = AddNorm(x, SelfAttention(x, x, x,           y = AddNorm(y, SelfAttention(y, y, y, causal mask))
                 padding mask))                     y = AddNorm(y, CrossAttention(query=y,
    x = AddNorm(x, FeedForward(x))                               key=memory, value=memory, padding mask))
                                                    y = AddNorm(y, FeedForward(y))

``memory`` is the encoder's output: the decoder's *cross-attention* reads the source through it,
exactly as lesson 2's GRU decoder did with its spotlight. Attention is attnkit's
:class:`~attnkit.heads.MultiHeadAttention`; masks are boolean, True = may attend. No dropout, so
a layer and ``torch.nn.TransformerEncoderLayer(dropout=0)`` with copied weights agree exactly.

What a layer computes is one plain function of the layer and its inputs, :func:`encoder_layer` and
:func:`decoder_layer`, the functions a learner writes in lesson 7; ``layer.use(fn)`` runs a
learner's version inside the model instead. A layer's attention (:class:`LayerAttention`) returns
its weights while ``need_weights`` is on and otherwise takes torch's fused kernel
(``torch.nn.functional.scaled_dot_product_attention``), which never materialises the (L, S) weights;
``attention.use(fn)`` (or :func:`use_attention` on a whole layer or model) makes it compute with a
learner's multi-head attention instead, on every path.
Shape legend: B batch, H heads, L target length, S source length, D model width, d_ff inner width.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import torch
import torch.nn.functional as F
from torch import nn

from attnkit.errors import check_shape
from attnkit.heads import MultiHeadAttention, merge_heads, split_heads

__all__ = ["add_and_norm", "FeedForward", "LayerAttention", "encoder_layer", "decoder_layer", "EncoderLayer",
           "DecoderLayer", "DecoderWeights", "copy_from_torch", "set_need_weights", "use_attention"]


def add_and_norm(x: torch.Tensor, sublayer_output: torch.Tensor, weight: torch.Tensor | None = None,
                 bias: torch.Tensor | None = None, eps: float = 1e-5) -> torch.Tensor:
    """The residual connection and layer norm around every sublayer: ``LayerNorm(x + sublayer(x))``.

    z = x + sublayer_output;  LayerNorm(z) = (z - mean(z)) / sqrt(var(z) + eps) * weight + bias

    mean and (biased) variance are taken over the last axis, D: each position is normalised on
    its own, never across positions or the batch.

    Args:
        x: (B, L, D) the sublayer's input; sublayer_output: (B, L, D).
        weight, bias: (D,) the norm's gain and shift (``nn.LayerNorm.weight`` / ``.bias``);
            ``None`` means 1 and 0.

    Returns:
        (B, L, D); equals ``torch.nn.functional.layer_norm(x + sublayer_output, (D,), weight, bias, eps)``.
    """
    sizes = check_shape("x", x, ("B", "L", "D"), hint="the sublayer's input")
    check_shape("sublayer_output", sublayer_output, ("B", "L", "D"), sizes,
                hint="a sublayer maps (B, L, D) to the same shape, so it can be added to its input")
    z = x + sublayer_output  # the residual connection
    mean = z.mean(dim=-1, keepdim=True)  # (B, L, 1): one mean per position
    variance = z.var(dim=-1, unbiased=False, keepdim=True)  # (B, L, 1)
    z = (z - mean) / torch.sqrt(variance + eps)
    if weight is not None:
        z = z * weight
    return z if bias is None else z + bias


class FeedForward(nn.Module):
    """The position-wise feed-forward network: ``FFN(x) = max(0, x W_1 + b_1) W_2 + b_2``.

    The same two linear maps applied to every position separately: (B, L, D) -> (B, L, d_ff) ->
    (B, L, D). Unlike attention, no position reads another here.
    """

    def __init__(self, d_model: int, d_ff: int) -> None:
        super().__init__()
        self.linear1, self.linear2 = nn.Linear(d_model, d_ff), nn.Linear(d_ff, d_model)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear2(torch.relu(self.linear1(x)))  # (B, L, D) -> (B, L, d_ff) -> (B, L, D)


class LayerAttention(MultiHeadAttention):
    """attnkit's :class:`~attnkit.heads.MultiHeadAttention` with a fused path for when nobody reads the weights.

    ``need_weights`` True (the default): attnkit's attention, returning ``(output (B, L, D),
    weights (B, H, L, S))``. False: the same projections, split and merge, but the heads go through
    ``torch.nn.functional.scaled_dot_product_attention``, one fused kernel that never stores the
    (B, H, L, S) weights; it returns ``(output, None)``. Both compute the same output (to float
    precision); the fused one is what a training step should use.

    :meth:`use` replaces both paths with one function, ``fn(attention, query, key, value, mask) ->
    (output (B, L, D), weights (B, H, L, S))``, called with this module (its ``q_proj``, ``k_proj``,
    ``v_proj``, ``out_proj`` and ``num_heads``) and a boolean mask broadcastable to (B, H, L, S)
    (a 3-D mask gets its head axis here): a learner's attention runs the layer, in training too.
    """

    need_weights: bool = True
    compute: Callable[..., Any] | None = None  # set by use(): a learner's multi-head attention

    def use(self, fn: Callable[..., Any] | None) -> None:
        """Compute this attention with ``fn(attention, query, key, value, mask)``; None restores attnkit's."""
        self.compute = fn

    def forward(self, query: torch.Tensor, key: torch.Tensor | None = None, value: torch.Tensor | None = None,
                mask: Any = None, attention: Any = None) -> tuple[torch.Tensor, torch.Tensor | None]:
        key = query if key is None else key
        value = key if value is None else value
        if mask is not None and (self.compute is not None or not self.need_weights):
            mask = torch.as_tensor(mask, device=query.device)
            mask = mask[:, None] if mask.ndim == 3 else mask  # (B, L|1, S) -> (B, 1, L|1, S): every head
        if self.compute is not None and attention is None:
            return self.compute(self, query, key, value, mask)
        if self.need_weights or attention is not None:
            return super().forward(query, key, value, mask=mask, attention=attention)
        q = split_heads(self.q_proj(query), self.num_heads)  # (B, L, D) -> (B, H, L, d_k)
        k = split_heads(self.k_proj(key), self.num_heads)  # (B, S, D) -> (B, H, S, d_k)
        v = split_heads(self.v_proj(value), self.num_heads)  # (B, S, D) -> (B, H, S, d_k)
        heads = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)  # bool mask: True = may attend, as ours
        return self.out_proj(merge_heads(heads)), None  # (B, H, L, d_k) -> (B, L, D)


def encoder_layer(layer, x, mask=None):  # no annotations: lesson 7 shows it as the worked solution
    """One encoder layer, post-norm as in the paper: self-attention, then the feed-forward network,
    each followed by Add & Norm.

    Args:
        layer: an :class:`EncoderLayer`, whose modules are the pieces: ``layer.self_attention(q, k, v,
            mask) -> (output, weights)``, ``layer.self_attention_norm``, ``layer.feed_forward``,
            ``layer.feed_forward_norm`` (``nn.LayerNorm``).
        x: (B, S, D); mask: broadcastable to (B, H, S, S), e.g. the padding mask (B, 1, S).

    Returns:
        x (B, S, D) and the self-attention weights (B, H, S, S) (None on the fused path).
    """
    attended, weights = layer.self_attention(x, x, x, mask)  # (B, S, D), (B, H, S, S)
    x = layer.self_attention_norm(x + attended)  # Add & Norm
    x = layer.feed_forward_norm(x + layer.feed_forward(x))  # Add & Norm
    return x, weights


def decoder_layer(layer, y, memory, self_mask=None, memory_mask=None):  # shown as lesson 7's solution
    """One decoder layer, post-norm: causal self-attention, cross-attention to the encoder's memory,
    the feed-forward network, each followed by Add & Norm.

    Args:
        layer: a :class:`DecoderLayer`: ``self_attention``, ``cross_attention``, ``feed_forward`` and
            their norms ``self_attention_norm``, ``cross_attention_norm``, ``feed_forward_norm``.
        y: (B, L, D) the target so far; memory: (B, S, D) the encoder's output.
        self_mask: (L, L) causal; memory_mask: broadcastable to (B, H, L, S), e.g. (B, 1, S).

    Returns:
        y (B, L, D) and the weights ``(self (B, H, L, L), cross (B, H, L, S))``.
    """
    attended, self_weights = layer.self_attention(y, y, y, self_mask)  # (B, L, D), (B, H, L, L)
    y = layer.self_attention_norm(y + attended)
    # queries from the decoder, keys and values from the encoder: lesson 2's spotlight
    attended, cross_weights = layer.cross_attention(y, memory, memory, memory_mask)  # (B, H, L, S)
    y = layer.cross_attention_norm(y + attended)
    y = layer.feed_forward_norm(y + layer.feed_forward(y))
    return y, (self_weights, cross_weights)


class EncoderLayer(nn.Module):
    """Self-attention over the source, then the feed-forward network, each with Add & Norm.

    ``forward`` runs :func:`encoder_layer` on this layer's modules, or the function given to :meth:`use`.
    """

    def __init__(self, d_model: int, num_heads: int, d_ff: int, eps: float = 1e-5) -> None:
        super().__init__()
        self.self_attention = LayerAttention(d_model, num_heads)
        self.self_attention_norm = nn.LayerNorm(d_model, eps=eps)
        self.feed_forward = FeedForward(d_model, d_ff)
        self.feed_forward_norm = nn.LayerNorm(d_model, eps=eps)
        self.compute: Callable[..., Any] = encoder_layer

    def use(self, fn: Callable[..., Any] | None) -> None:
        """Compute this layer with ``fn(layer, x, mask)`` (e.g. a learner's); None restores :func:`encoder_layer`."""
        self.compute = encoder_layer if fn is None else fn

    def forward(self, x: torch.Tensor, mask: Any = None) -> tuple[torch.Tensor, Any]:
        """Args: x (B, S, D); mask broadcastable to (B, H, S, S), e.g. the padding mask (B, 1, S).
        Returns: x (B, S, D) and the self-attention weights (B, H, S, S), None on the fused path."""
        check_shape("x", x, ("B", "S", "D"), {"D": self.self_attention.d_model}, hint="the encoder's input")
        return self.compute(self, x, mask)


class DecoderWeights(NamedTuple):
    """The attention weights of one decoder layer (None on the fused path)."""

    self_attention: torch.Tensor  # (B, H, L, L): lower-triangular, the causal mask
    cross_attention: torch.Tensor  # (B, H, L, S): target words (rows) reading source words (columns)


class DecoderLayer(nn.Module):
    """Causal self-attention, cross-attention to the encoder's memory, feed-forward; each with Add & Norm.

    ``forward`` runs :func:`decoder_layer` on this layer's modules, or the function given to :meth:`use`.
    """

    def __init__(self, d_model: int, num_heads: int, d_ff: int, eps: float = 1e-5) -> None:
        super().__init__()
        self.self_attention = LayerAttention(d_model, num_heads)
        self.self_attention_norm = nn.LayerNorm(d_model, eps=eps)
        self.cross_attention = LayerAttention(d_model, num_heads)
        self.cross_attention_norm = nn.LayerNorm(d_model, eps=eps)
        self.feed_forward = FeedForward(d_model, d_ff)
        self.feed_forward_norm = nn.LayerNorm(d_model, eps=eps)
        self.compute: Callable[..., Any] = decoder_layer

    def use(self, fn: Callable[..., Any] | None) -> None:
        """Compute this layer with ``fn(layer, y, memory, self_mask, memory_mask)``; None restores
        :func:`decoder_layer`."""
        self.compute = decoder_layer if fn is None else fn

    def forward(self, y: torch.Tensor, memory: torch.Tensor, self_mask: Any = None,
                memory_mask: Any = None) -> tuple[torch.Tensor, DecoderWeights]:
        """Args: y (B, L, D) the target so far; memory (B, S, D) the encoder's output;
        self_mask (L, L) causal; memory_mask broadcastable to (B, H, L, S), e.g. (B, 1, S).
        Returns: y (B, L, D) and :class:`DecoderWeights`."""
        check_shape("y", y, ("B", "L", "D"), {"D": self.self_attention.d_model}, hint="the decoder's input")
        y, (self_weights, cross_weights) = self.compute(self, y, memory, self_mask, memory_mask)
        return y, DecoderWeights(self_weights, cross_weights)


def set_need_weights(model: nn.Module, need_weights: bool) -> None:
    """Switch every :class:`LayerAttention` inside ``model`` between returning its weights (True)
    and the fused kernel (False)."""
    for module in model.modules():
        if isinstance(module, LayerAttention):
            module.need_weights = need_weights


def use_attention(module: nn.Module, fn: Callable[..., Any] | None) -> None:
    """Make every :class:`LayerAttention` inside ``module`` (a layer or a whole model) compute with
    ``fn(attention, query, key, value, mask)`` (see :meth:`LayerAttention.use`); None restores attnkit's."""
    for inner in module.modules():
        if isinstance(inner, LayerAttention):
            inner.use(fn)


def copy_from_torch(layer: EncoderLayer | DecoderLayer,
                    reference: nn.TransformerEncoderLayer | nn.TransformerDecoderLayer) -> None:
    """Copy the weights of torch's layer (``norm_first=False``, ReLU) into ours, in place.

    torch's names -> ours: ``self_attn`` -> ``self_attention``, ``multihead_attn`` ->
    ``cross_attention``, ``linear1/2`` -> ``feed_forward.linear1/2``, ``norm1, norm2(, norm3)`` ->
    the norms in the order of the sublayers.
    """
    if reference.norm_first:
        raise ValueError("reference has norm_first=True but expected False: the paper and attnkit "
                         "normalise after the residual addition")
    decoder = isinstance(layer, DecoderLayer)
    attentions = [("self_attn", "self_attention")] + [("multihead_attn", "cross_attention")] * decoder
    norms = ["self_attention_norm"] + ["cross_attention_norm"] * decoder + ["feed_forward_norm"]
    with torch.no_grad():
        for theirs, ours in attentions:
            setattr(layer, ours, LayerAttention.from_torch(getattr(reference, theirs)))
        for name in ("linear1", "linear2"):
            getattr(layer.feed_forward, name).load_state_dict(getattr(reference, name).state_dict())
        for k, ours in enumerate(norms, start=1):
            getattr(layer, ours).load_state_dict(getattr(reference, f"norm{k}").state_dict())
            getattr(layer, ours).eps = getattr(reference, f"norm{k}").eps
