"""Multi-head attention: split the width into H heads, attend in each, merge, project.

    Q = query @ W_q,  K = key @ W_k,  V = value @ W_v           # (B, L|S, D)
    Q, K, V = split_heads(.)                                   # (B, H, L|S, d_k), d_k = D / H
    heads, weights = scaled_dot_product_attention(Q, K, V)     # (B, H, L, d_k), (B, H, L, S)
    output = merge_heads(heads) @ W_o                          # (B, L, D)
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from attnkit import _backend as bk
from attnkit.attention import scaled_dot_product_attention
from attnkit.errors import AttentionShapeError, check_same_kind, check_shape, shape_of

__all__ = ["split_heads", "merge_heads", "multi_head_attention", "MultiHeadAttention"]

Array = Any
AttentionFn = Callable[..., tuple[Any, Any]]


def split_heads(x: Array, num_heads: int) -> Array:
    """Cut the last dim into ``num_heads`` heads: (B, L, H*d_k) -> (B, H, L, d_k).

    Head h gets columns ``h*d_k:(h+1)*d_k``, the layout PyTorch and BERT use.

    Example:
        >>> import numpy as np
        >>> split_heads(np.zeros((2, 5, 12)), 3).shape
        (2, 3, 5, 4)
    """
    sizes = check_shape("x", x, ("B", "L", "D"), hint="split_heads takes (batch, length, width)")
    if not isinstance(num_heads, int) or num_heads < 1 or sizes["D"] % num_heads:
        raise AttentionShapeError(
            f"num_heads={num_heads!r} must be a positive int dividing D = {sizes['D']}: x has shape "
            f"{shape_of(x)} = (B, L, D) and each head gets d_k = D / H columns"
        )
    B, L, D = shape_of(x)
    x = x.reshape(B, L, num_heads, D // num_heads)  # (B, L, H*d_k) -> (B, L, H, d_k)
    return x.swapaxes(1, 2)  # (B, L, H, d_k) -> (B, H, L, d_k)


def merge_heads(x: Array) -> Array:
    """Inverse of :func:`split_heads`: (B, H, L, d_k) -> (B, L, H*d_k), heads side by side."""
    check_shape("x", x, ("B", "H", "L", "d_k"), hint="merge_heads takes the output of split_heads")
    B, H, L, d_k = shape_of(x)
    x = x.swapaxes(1, 2)  # (B, H, L, d_k) -> (B, L, H, d_k)
    return x.reshape(B, L, H * d_k)  # (B, L, H, d_k) -> (B, L, H*d_k)


def _project(x: Array, W: Array, b: Array | None, name: str) -> Array:
    check_shape(name, W, ("D", "D_out"), {"D": shape_of(x)[-1]},
                hint=f"{name} maps the model width D of its input; math convention x @ {name}")
    y = x @ bk.like(W, x)
    return y if b is None else y + bk.like(b, x)


def multi_head_attention(
    query: Array, key: Array, value: Array, num_heads: int,
    W_q: Array, W_k: Array, W_v: Array, W_o: Array,
    b_q: Array | None = None, b_k: Array | None = None, b_v: Array | None = None, b_o: Array | None = None,
    mask: Array | None = None, attention: AttentionFn | None = None,
) -> tuple[Array, Array]:
    """Multi-head attention with explicit weights (math convention ``x @ W``).

    Args:
        query: (B, L, D); key: (B, S, D); value: (B, S, D).
        num_heads: H; D must be divisible by H, d_k = D / H.
        W_q, W_k, W_v, W_o: (D, D) projections; b_*: optional (D,) biases.
        mask: boolean, True = may attend, broadcastable to (B, H, L, S); a 3-D mask (B, L, S) or
            (B, 1, S) applies to every head.
        attention: a function with the signature of :func:`scaled_dot_product_attention`, called on
            (B, H, L, d_k) inputs; defaults to attnkit's. Lets a learner's version run the model.

    Returns:
        ``(output, weights)``: output (B, L, D), weights (B, H, L, S).
    """
    given = {"b_q": b_q, "b_k": b_k, "b_v": b_v, "b_o": b_o}
    check_same_kind(query=query, key=key, value=value, W_q=W_q, W_k=W_k, W_v=W_v, W_o=W_o,
                    **{name: b for name, b in given.items() if b is not None})
    sizes = check_shape("query", query, ("B", "L", "D"), hint="multi-head attention takes (batch, length, width)")
    check_shape("key", key, ("B", "S", "D"), sizes, hint="key must have query's batch size and width D")
    check_shape("value", value, ("B", "S", "D"), {**sizes, "S": shape_of(key)[1]},
                hint="value must have key's length S and the width D")
    attention = scaled_dot_product_attention if attention is None else attention
    q = split_heads(_project(query, W_q, b_q, "W_q"), num_heads)  # (B, L, D) -> (B, H, L, d_k)
    k = split_heads(_project(key, W_k, b_k, "W_k"), num_heads)  # (B, S, D) -> (B, H, S, d_k)
    v = split_heads(_project(value, W_v, b_v, "W_v"), num_heads)  # (B, S, D) -> (B, H, S, d_v)
    if mask is not None and mask.ndim == 3:
        mask = mask[:, None]  # (B, L|1, S) -> (B, 1, L|1, S): the same mask for every head
    heads, weights = attention(q, k, v, mask)  # (B, H, L, d_v), (B, H, L, S)
    return _project(merge_heads(heads), W_o, b_o, "W_o"), weights  # (B, H, L, d_v) -> (B, L, D)


class MultiHeadAttention(nn.Module):
    """Multi-head attention as a torch module (batch first), returning ``(output, weights)``.

    Its four ``nn.Linear`` layers are named like BERT's and PyTorch's: ``q_proj``, ``k_proj``,
    ``v_proj``, ``out_proj``. ``forward`` calls :func:`multi_head_attention`, so the module and the
    functional version cannot drift apart.

    Example:
        >>> mha = MultiHeadAttention(d_model=16, num_heads=4)
        >>> out, w = mha(torch.zeros(2, 5, 16))
        >>> tuple(out.shape), tuple(w.shape)
        ((2, 5, 16), (2, 4, 5, 5))
    """

    def __init__(self, d_model: int, num_heads: int, bias: bool = True) -> None:
        super().__init__()
        if not isinstance(num_heads, int) or num_heads < 1 or d_model % num_heads:
            raise AttentionShapeError(
                f"num_heads={num_heads!r} must be a positive int dividing d_model = {d_model}: "
                f"each of the H heads gets d_k = D / H columns"
            )
        self.d_model, self.num_heads = d_model, num_heads
        self.q_proj, self.k_proj, self.v_proj, self.out_proj = (
            nn.Linear(d_model, d_model, bias=bias) for _ in range(4)
        )

    def forward(
        self, query: torch.Tensor, key: torch.Tensor | None = None, value: torch.Tensor | None = None,
        mask: torch.Tensor | None = None, attention: AttentionFn | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Args: query (B, L, D); key (B, S, D), defaults to query (self-attention); value
        (B, S, D), defaults to key; mask as in :func:`multi_head_attention`; attention: optional
        replacement for scaled_dot_product_attention. Returns (output (B, L, D), weights (B, H, L, S))."""
        key = query if key is None else key
        value = key if value is None else value
        lin = (self.q_proj, self.k_proj, self.v_proj, self.out_proj)
        W = [m.weight.T for m in lin]  # nn.Linear computes x @ weight.T
        b = [m.bias for m in lin]
        return multi_head_attention(query, key, value, self.num_heads, *W, *b, mask=mask, attention=attention)

    @classmethod
    def from_torch(cls, module: nn.MultiheadAttention) -> MultiHeadAttention:
        """Copy the weights of a ``torch.nn.MultiheadAttention`` (any ``batch_first``).

        Note the conventions differ: torch's ``key_padding_mask``/``attn_mask`` use True = ignore,
        attnkit's ``mask`` uses True = may attend; pass ``~key_padding_mask[:, None, :]``.
        """
        if not module._qkv_same_embed_dim or module.bias_k is not None:
            raise AttentionShapeError(
                "from_torch supports nn.MultiheadAttention with kdim == vdim == embed_dim and "
                "add_bias_kv=False"
            )
        bias = module.in_proj_bias is not None
        new = cls(module.embed_dim, module.num_heads, bias=bias)
        D = module.embed_dim
        with torch.no_grad():
            for i, lin in enumerate((new.q_proj, new.k_proj, new.v_proj)):
                lin.weight.copy_(module.in_proj_weight[i * D:(i + 1) * D])  # (3D, D) -> (D, D)
                if bias:
                    lin.bias.copy_(module.in_proj_bias[i * D:(i + 1) * D])
            new.out_proj.weight.copy_(module.out_proj.weight)
            if bias:
                new.out_proj.bias.copy_(module.out_proj.bias)
        return new.to(module.in_proj_weight.dtype)
