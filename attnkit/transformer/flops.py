"""Count the arithmetic of one forward pass of lesson 1's GRU translator and of lesson 7's Transformer.

Used by lesson 8 to check the claim "both do comparable arithmetic per word". Counts are
multiply-adds of the matrix products (what ``torch.utils.flop_counter.FlopCounterMode`` reports,
halved); biases, gates' elementwise work, softmax and layer norm are left out, being smaller by a
factor of the width. A backward pass costs about twice its forward pass for both, so the ratio of
the two models is the ratio of their training steps' arithmetic. For a batch of one sentence pair,
S source words, L target positions (BOS and the L - 1 words fed back):

    GRU with attention (E embedding width, D = d_model, V target words):
      encoder, both directions:  2 S x 3 (E + D/2) D/2           (three gates, D/2 units each way)
      decoder, per target word:  3 (E + D) D + 3 D^2            GRU cell (input [embedding; h~], hidden D)
                                 + D^2 + 2 S D                   query projection W_a, scores, weighted sum
                                 + 2 D^2 + D V                   combine W_c [c; s], output layer
    Transformer (N layers per stack, d_ff):
      encoder layer:  4 S D^2 + 2 S^2 D + 2 S D d_ff             projections, Q K^T and weights @ V, FFN
      decoder layer:  4 L D^2 + 2 L^2 D                          causal self-attention (every score computed)
                      + 2 L D^2 + 2 S D^2 + 2 L S D + 2 L D d_ff cross-attention, FFN
      output layer:   L D V

Example:
    >>> transformer_multiply_adds(S=10, L=11, d_model=64, num_layers=2, d_ff=256, vocab_size=40)["total"]
    2521344
"""
from __future__ import annotations

from torch import nn

__all__ = ["gru_translator_multiply_adds", "transformer_multiply_adds", "model_multiply_adds"]


def gru_translator_multiply_adds(S: int, L: int, d_model: int, embedding_dim: int, vocab_size: int) -> dict[str, int]:
    """Multiply-adds of one teacher-forced forward pass of lesson 1's GRU with attention, one sentence pair.

    Args:
        S: source words; L: target positions the decoder reads (tgt_in's length).
        d_model: D (each encoder direction has D/2 units); embedding_dim: E; vocab_size: V (French).

    Returns:
        ``{"encoder", "decoder", "output", "total"}``.
    """
    D, E, half = d_model, embedding_dim, d_model // 2
    encoder = 2 * S * 3 * (E + half) * half
    decoder = L * (3 * (E + D) * D + 3 * D * D + D * D + 2 * S * D + 2 * D * D)
    output = L * D * vocab_size
    return {"encoder": encoder, "decoder": decoder, "output": output, "total": encoder + decoder + output}


def transformer_multiply_adds(S: int, L: int, d_model: int, num_layers: int, d_ff: int,
                              vocab_size: int) -> dict[str, int]:
    """Multiply-adds of one teacher-forced forward pass of the Transformer, one sentence pair.

    Args:
        S: source words; L: target positions; d_model: D; num_layers: N per stack; d_ff: the
            feed-forward width; vocab_size: V (the output layer). The head count does not appear.

    Returns:
        ``{"encoder", "decoder", "output", "total"}``.
    """
    D, N = d_model, num_layers
    encoder = N * (4 * S * D * D + 2 * S * S * D + 2 * S * D * d_ff)
    decoder = N * (4 * L * D * D + 2 * L * L * D + 2 * L * D * D + 2 * S * D * D + 2 * L * S * D + 2 * L * D * d_ff)
    output = L * D * vocab_size
    return {"encoder": encoder, "decoder": decoder, "output": output, "total": encoder + decoder + output}


def model_multiply_adds(model: nn.Module, S: int, L: int) -> dict[str, int]:
    """The count for a built model: a ``Seq2Seq`` GRU with attention or a ``TransformerSeq2Seq``."""
    V = len(model.tgt_vocab)
    if model.kind == "transformer":
        return transformer_multiply_adds(S, L, model.d_model, model.num_layers, model.d_ff, V)
    if model.kind == "attention":
        return gru_translator_multiply_adds(S, L, model.d_model, model.embedding_dim, V)
    raise ValueError(f"model.kind is {model.kind!r} but expected 'attention' or 'transformer'")
