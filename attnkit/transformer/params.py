"""Count a Transformer's parameters from its hyper-parameters, block by block.

"Attention Is All You Need" (Vaswani et al., 2017), Table 3, lists the base model (N=6,
d_model=512, d_ff=2048, h=8) at 65M parameters and the big one (d_model=1024, d_ff=4096,
h=16) at 213M. Counting every weight matrix and bias (D = d_model):

    multi-head attention   4 (D*D + D)           W_q, W_k, W_v, W_o and their biases; h does not appear
    feed-forward           D*d_ff + d_ff + d_ff*D + D
    layer norm             2 D                   gain and bias
    encoder layer          attention + feed-forward + 2 layer norms
    decoder layer          2 attentions (self, cross) + feed-forward + 3 layer norms
    embeddings             vocab * D             once if shared (paper, section 3.4), else 3 times
    positions              0                     sinusoidal, nothing learned
"""
from __future__ import annotations

from typing import NamedTuple

__all__ = [
    "TransformerSize", "attention_parameters", "feed_forward_parameters",
    "transformer_parameter_count", "PAPER_TABLE3",
]

# Table 3 of the paper: hyper-parameters and the parameter count it reports.
PAPER_TABLE3 = {
    "base": {"num_layers": 6, "d_model": 512, "d_ff": 2048, "num_heads": 8, "reported": 65e6},
    "big": {"num_layers": 6, "d_model": 1024, "d_ff": 4096, "num_heads": 16, "reported": 213e6},
}


class TransformerSize(NamedTuple):
    """A parameter count split into the parts of the model."""

    encoder: int  # all encoder layers
    decoder: int  # all decoder layers
    embeddings: int  # token embeddings and the pre-softmax projection
    final_norms: int  # layer norms after each stack (torch.nn.Transformer has them; the paper does not)

    @property
    def total(self) -> int:
        return self.encoder + self.decoder + self.embeddings + self.final_norms


def attention_parameters(d_model: int, bias: bool = True) -> int:
    """Parameters of one multi-head attention block: ``4 (D*D + D)``; independent of the head count.

    Splitting D into H heads of width d_k = D / H only reshapes the projections.

    Example:
        >>> attention_parameters(512)
        1050624
    """
    return 4 * (d_model * d_model + d_model * bias)


def feed_forward_parameters(d_model: int, d_ff: int, bias: bool = True) -> int:
    """Parameters of the position-wise feed-forward block ``Linear(D, d_ff) -> Linear(d_ff, D)``."""
    return 2 * d_model * d_ff + (d_ff + d_model) * bias


def transformer_parameter_count(
    num_layers: int = 6,
    d_model: int = 512,
    d_ff: int = 2048,
    num_heads: int = 8,
    vocab_size: int = 37000,
    shared_embeddings: bool = True,
    final_norms: bool = False,
) -> TransformerSize:
    """Parameters of the encoder-decoder Transformer of "Attention Is All You Need".

    Args:
        num_layers: N, layers in the encoder and (again) in the decoder.
        d_model: D, the model width.
        d_ff: the feed-forward block's inner width.
        num_heads: h; checked to divide d_model, but it does not change the count.
        vocab_size: the shared BPE vocabulary; 37000 for the paper's English-German model.
        shared_embeddings: one matrix for the source embedding, the target embedding and the
            pre-softmax projection, as in the paper; False counts three separate matrices.
        final_norms: add a layer norm after each stack, as ``torch.nn.Transformer`` does.

    Returns:
        a :class:`TransformerSize`; ``.total`` is the sum.

    Example:
        >>> base = transformer_parameter_count(num_layers=6, d_model=512, d_ff=2048, num_heads=8)
        >>> base.total, round(base.total / 1e6, 1)
        (63082496, 63.1)
    """
    if d_model % num_heads:
        raise ValueError(f"d_model={d_model} is not divisible by num_heads={num_heads}: "
                         f"each head gets d_k = d_model / num_heads columns")
    norm = 2 * d_model
    attention = attention_parameters(d_model)
    feed_forward = feed_forward_parameters(d_model, d_ff)
    encoder_layer = attention + feed_forward + 2 * norm
    decoder_layer = 2 * attention + feed_forward + 3 * norm
    return TransformerSize(
        encoder=num_layers * encoder_layer,
        decoder=num_layers * decoder_layer,
        embeddings=vocab_size * d_model * (1 if shared_embeddings else 3),
        final_norms=2 * norm if final_norms else 0,
    )
