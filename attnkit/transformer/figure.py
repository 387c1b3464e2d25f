"""Figure 1 of "Attention Is All You Need", drawn by code with the course's letters (lesson 7).

Boxes are the modules of :mod:`attnkit.transformer.layers` and :mod:`attnkit.transformer.model`,
bottom to top in the order the data flows; the arrow from the encoder's top into the decoder's
middle block is the cross-attention's keys and values (the memory). Returns the ``Figure`` and
never calls ``plt.show()``.
"""
from __future__ import annotations

from typing import Any

__all__ = ["draw_transformer", "BLOCK_COLORS"]

BLOCK_COLORS = {"attention": "#F6D7A7", "norm": "#F3F0B5", "ffn": "#BFD8F0", "embed": "#F4C7C3",
                "out": "#D3C9E8"}

_ENCODER = [("Input embedding x sqrt(D)", "embed"), ("+ positional encoding", "embed"),
            ("Multi-head self-attention\n(padding mask)", "attention"), ("Add & Norm", "norm"),
            ("Feed forward", "ffn"), ("Add & Norm", "norm")]
_DECODER = [("Output embedding x sqrt(D)", "embed"), ("+ positional encoding", "embed"),
            ("Masked multi-head self-attention\n(causal mask)", "attention"), ("Add & Norm", "norm"),
            ("Multi-head cross-attention\nQ from decoder, K = V = memory", "attention"), ("Add & Norm", "norm"),
            ("Feed forward", "ffn"), ("Add & Norm", "norm"), ("Linear", "out"), ("Softmax", "out")]


def _box(ax: Any, x: float, y: float, text: str, kind: str, width: float = 3.4, height: float = 0.62) -> None:
    from matplotlib.patches import FancyBboxPatch

    ax.add_patch(FancyBboxPatch((x - width / 2, y - height / 2), width, height, boxstyle="round,pad=0.04",
                                facecolor=BLOCK_COLORS[kind], edgecolor="#444444", lw=1))
    ax.text(x, y, text, ha="center", va="center", fontsize=8.5)


def _up(ax: Any, x: float, y0: float, y1: float) -> None:
    ax.annotate("", xy=(x, y1), xytext=(x, y0), arrowprops={"arrowstyle": "->", "color": "#444444", "lw": 1.1})


def draw_transformer(num_layers: int | str = "N", d_model: int | str = "D") -> Any:
    """The encoder-decoder, block by block, with the shapes between them.

    Args:
        num_layers: written on the repeated blocks ("N x"); the paper uses 6, lesson 7's model 2.
        d_model: the width written in the shape labels.

    Returns:
        a matplotlib ``Figure``; every label is a ``Text`` artist of its single axes.
    """
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(9, 8.5))
    ax.set_xlim(0, 10)
    ax.set_ylim(-0.8, 11.2)
    ax.axis("off")
    step = 0.95
    enc_x, dec_x = 2.4, 7.4
    enc_y = [0.6 + step * i for i in range(len(_ENCODER))]
    dec_y = [0.6 + step * i for i in range(len(_DECODER))]
    for x, ys, blocks in ((enc_x, enc_y, _ENCODER), (dec_x, dec_y, _DECODER)):
        for (text, kind), y in zip(blocks, ys):
            _box(ax, x, y, text, kind)
        for y0, y1 in zip(ys, ys[1:]):
            _up(ax, x, y0 + 0.34, y1 - 0.34)
    ax.text(enc_x, -0.3, "source words (B, S)", ha="center", fontsize=9)
    ax.text(dec_x, -0.3, "target words so far, shifted right (B, L)", ha="center", fontsize=9)
    _up(ax, enc_x, -0.1, enc_y[0] - 0.34)
    _up(ax, dec_x, -0.1, dec_y[0] - 0.34)
    # the repeated layers, framed
    from matplotlib.patches import Rectangle

    for x, lo, hi in ((enc_x, enc_y[2], enc_y[5]), (dec_x, dec_y[2], dec_y[7])):
        ax.add_patch(Rectangle((x - 2.0, lo - 0.5), 4.0, hi - lo + 1.0, fill=False, lw=1.3, ls="--", ec="#777777"))
        ax.text(x - 2.15, (lo + hi) / 2, f"{num_layers} x", ha="right", va="center", fontsize=11, weight="bold")
    ax.text(enc_x, enc_y[-1] + 0.65, f"memory (B, S, {d_model})", ha="center", fontsize=9, weight="bold")
    # memory -> cross-attention (keys and values)
    ax.annotate("", xy=(dec_x - 1.75, dec_y[4]), xytext=(enc_x + 0.2, enc_y[-1] + 0.9),
                arrowprops={"arrowstyle": "->", "color": "#C44E52", "lw": 1.8, "connectionstyle": "arc3,rad=-0.25"})
    ax.text((enc_x + dec_x) / 2 - 0.7, enc_y[-1] + 1.75, "keys and values\n(lesson 2's spotlight)",
            ha="center", fontsize=8.5, color="#C44E52")
    ax.text(dec_x, dec_y[-1] + 0.6, "next-word probabilities (B, L, V)", ha="center", fontsize=9)
    # the shape entering the repeated layers, written beside the arrow, outside the dashed frame
    ax.text(enc_x + 2.1, enc_y[1] + 0.47, f"(B, S, {d_model})", ha="left", va="center", fontsize=7.5, color="#555555")
    ax.text(dec_x + 2.1, dec_y[1] + 0.47, f"(B, L, {d_model})", ha="left", va="center", fontsize=7.5, color="#555555")
    ax.set_title("Encoder (left) and decoder (right): every sublayer is x = LayerNorm(x + Sublayer(x))")
    from attnkit.accessible.alt import set_alt

    def blocks(stack: list) -> str:
        return ", ".join(text.replace("\n", " ") for text, _ in stack)

    return set_alt(fig, f"Diagram of the Transformer encoder-decoder (Figure 1 of Attention Is All You Need), "
                   f"bottom to top. Encoder, from source words (B, S): {blocks(_ENCODER)}; the self-attention, "
                   f"Add & Norm, feed forward and Add & Norm blocks are repeated {num_layers} times and give the "
                   f"memory (B, S, {d_model}). Decoder, from the target words so far shifted right (B, L): "
                   f"{blocks(_DECODER)}; its attention, feed-forward and Add & Norm blocks are repeated {num_layers} "
                   f"times. An arrow takes the memory into the decoder's cross-attention as keys and values "
                   f"(lesson 2's spotlight); the output is next-word probabilities (B, L, V). Every sublayer is "
                   f"x = LayerNorm(x + Sublayer(x)).")
