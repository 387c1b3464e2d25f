"""A Transformer encoder-decoder for lesson 1's toy translation task, built from attnkit's layers.

It reads like Figure 1 of "Attention Is All You Need"::

    x = PositionalEncoding(Embedding(src) * sqrt(D))            # (B, S, D)
    for layer in encoder:  x = layer(x, padding mask)            # N x (self-attention, FFN)
    memory = x
    y = PositionalEncoding(Embedding(tgt_in) * sqrt(D))         # (B, L, D)
    for layer in decoder:  y = layer(y, memory, causal mask, padding mask)
    logits = Linear(y)                                           # (B, L, V), softmax in the loss

The interface is the GRU models' (:class:`attnkit.translation.seq2seq.Seq2Seq`): ``forward(src,
src_lengths, tgt_in)`` returns ``(logits (B, L, V), weights (B, L, S))``, where the weights are
the last decoder layer's cross-attention averaged over heads, so the training and evaluation code
of lessons 1-2 runs unchanged. Training sees all L target positions at once (teacher forcing and
the causal mask); :meth:`TransformerSeq2Seq.generate` still writes one word at a time.
"""
from __future__ import annotations

import math
from typing import Any, NamedTuple

import torch
from torch import nn

from attnkit.errors import check_shape
from attnkit.masks import causal_mask, padding_mask
from attnkit.transformer.layers import DecoderLayer, DecoderWeights, EncoderLayer
from attnkit.transformer.positional import POSITIONAL_KINDS
from attnkit.translation.toy_language import Vocab, source_vocab, target_vocab

__all__ = ["TransformerSeq2Seq", "TransformerOutput", "build_transformer"]


class TransformerOutput(NamedTuple):
    """Everything :meth:`TransformerSeq2Seq.run` computes."""

    logits: torch.Tensor  # (B, L, V)
    encoder_weights: list[torch.Tensor]  # per encoder layer: (B, H, S, S)
    decoder_weights: list[DecoderWeights]  # per decoder layer: self (B, H, L, L), cross (B, H, L, S)


class TransformerSeq2Seq(nn.Module):
    """Encoder-decoder Transformer with the toy language's vocabularies.

    Args:
        d_model: D, the width of every vector between layers.
        num_layers: N, layers in the encoder and again in the decoder.
        num_heads: H; d_k = D / H.
        d_ff: the feed-forward network's inner width.
        positions: ``"sinusoidal"`` (the paper's, fixed) or ``"learned"`` (BERT's, ``max_positions`` of them).
    """

    kind = "transformer"

    def __init__(self, d_model: int = 64, num_layers: int = 2, num_heads: int = 4, d_ff: int = 256,
                 positions: str = "sinusoidal", max_positions: int = 64) -> None:
        super().__init__()
        if positions not in POSITIONAL_KINDS:
            raise ValueError(f"positions is {positions!r} but expected one of {sorted(POSITIONAL_KINDS)}")
        self.d_model, self.num_layers, self.num_heads, self.d_ff = d_model, num_layers, num_heads, d_ff
        self.positions, self.max_positions = positions, max_positions
        self.src_vocab, self.tgt_vocab = source_vocab(), target_vocab()
        extra = {"max_positions": max_positions} if positions == "learned" else {}
        self.src_embedding = nn.Embedding(len(self.src_vocab), d_model, padding_idx=Vocab.pad_id)
        self.tgt_embedding = nn.Embedding(len(self.tgt_vocab), d_model, padding_idx=Vocab.pad_id)
        self.src_positions = POSITIONAL_KINDS[positions](d_model, **extra)
        self.tgt_positions = POSITIONAL_KINDS[positions](d_model, **extra)
        self.encoder = nn.ModuleList(EncoderLayer(d_model, num_heads, d_ff) for _ in range(num_layers))
        self.decoder = nn.ModuleList(DecoderLayer(d_model, num_heads, d_ff) for _ in range(num_layers))
        self.out = nn.Linear(d_model, len(self.tgt_vocab))
        for embedding in (self.src_embedding, self.tgt_embedding):  # times sqrt(D) below: entries ~ N(0, 1),
            nn.init.normal_(embedding.weight, std=d_model ** -0.5)  # the size of the positional encoding's
            embedding.weight.data[Vocab.pad_id] = 0.0

    def config(self) -> dict[str, Any]:
        """The arguments that rebuild this model (stored in checkpoints)."""
        return {"kind": self.kind, "d_model": self.d_model, "num_layers": self.num_layers,
                "num_heads": self.num_heads, "d_ff": self.d_ff, "positions": self.positions,
                "max_positions": self.max_positions}

    def encode(self, src: torch.Tensor, src_lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, list]:
        """The encoder stack. Returns memory (B, S, D), the padding mask (B, 1, S), weights per layer."""
        check_shape("src", src, ("B", "S"), hint="a batch of padded word ids")
        mask = padding_mask(src_lengths.to(src.device), src.shape[1])  # (B, 1, S), True on real words
        x = self.src_positions(self.src_embedding(src) * math.sqrt(self.d_model))  # (B, S) -> (B, S, D)
        weights = []
        for layer in self.encoder:
            x, w = layer(x, mask)  # (B, S, D), (B, H, S, S)
            weights.append(w)
        return x, mask, weights

    def decode(self, tgt_in: torch.Tensor, memory: torch.Tensor,
               memory_mask: torch.Tensor) -> tuple[torch.Tensor, list[DecoderWeights]]:
        """The decoder stack on all L target positions at once. Returns logits (B, L, V), weights per layer."""
        check_shape("tgt_in", tgt_in, ("B", "L"), {"B": memory.shape[0]}, hint="one target row per source row")
        L = tgt_in.shape[1]
        causal = torch.as_tensor(causal_mask(L), device=tgt_in.device)  # (L, L): word t sees words <= t
        y = self.tgt_positions(self.tgt_embedding(tgt_in) * math.sqrt(self.d_model))  # (B, L) -> (B, L, D)
        weights = []
        for layer in self.decoder:
            y, w = layer(y, memory, causal, memory_mask)  # (B, L, D)
            weights.append(w)
        return self.out(y), weights  # (B, L, D) -> (B, L, V)

    def run(self, src: torch.Tensor, src_lengths: torch.Tensor, tgt_in: torch.Tensor) -> TransformerOutput:
        """Teacher forcing with every layer's weights."""
        memory, mask, encoder_weights = self.encode(src, src_lengths)
        logits, decoder_weights = self.decode(tgt_in, memory, mask)
        return TransformerOutput(logits, encoder_weights, decoder_weights)

    def forward(self, src: torch.Tensor, src_lengths: torch.Tensor, tgt_in: torch.Tensor,
                temperature: float = 1.0) -> tuple[torch.Tensor, torch.Tensor]:
        """Teacher forcing, the GRU models' interface.

        Args:
            src: (B, S) source ids padded with PAD; src_lengths: (B,); tgt_in: (B, L) starting with BOS.
            temperature: accepted for the GRU models' interface; must be 1.

        Returns:
            logits (B, L, V) and the last decoder layer's cross-attention, mean over heads (B, L, S).
        """
        if temperature != 1.0:
            raise ValueError(f"temperature is {temperature} but the Transformer supports only 1.0")
        output = self.run(src, src_lengths, tgt_in)
        return output.logits, output.decoder_weights[-1].cross_attention.mean(dim=1)  # (B, H, L, S) -> (B, L, S)

    @torch.no_grad()
    def generate(self, src: torch.Tensor, src_lengths: torch.Tensor,
                 max_len: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Greedy decoding, one word per step: step t reruns the decoder on the t words so far.

        The encoder runs once; the decoder runs ``max_len`` times (fewer if every row has written
        EOS), each time on a longer prefix, because word t+1 depends on the word chosen at t.

        Returns:
            tokens (B, T) with T <= max_len (PAD after a row's EOS) and the last layer's
            cross-attention, mean over heads, for each written word (B, T, S).
        """
        self.eval()
        memory, mask, _ = self.encode(src, src_lengths)
        prefix = torch.full((src.shape[0], 1), Vocab.bos_id, dtype=torch.long, device=src.device)  # (B, 1)
        done = torch.zeros(src.shape[0], dtype=torch.bool, device=src.device)
        for _ in range(max_len):
            logits, weights = self.decode(prefix, memory, mask)  # (B, t, V): only the last row is new
            token = logits[:, -1].argmax(dim=-1).masked_fill(done, Vocab.pad_id)  # (B,)
            prefix = torch.cat([prefix, token[:, None]], dim=1)  # (B, t) -> (B, t + 1)
            done |= token == Vocab.eos_id
            if bool(done.all()):
                break
        cross = weights[-1].cross_attention.mean(dim=1)  # (B, H, T, S) -> (B, T, S)
        return prefix[:, 1:], cross


def build_transformer(d_model: int = 64, num_layers: int = 2, num_heads: int = 4, d_ff: int = 256,
                      positions: str = "sinusoidal", max_positions: int = 64, seed: int = 0,
                      kind: str = "transformer") -> TransformerSeq2Seq:
    """A freshly initialised model; the same seed gives the same weights (global RNG untouched)."""
    if kind != "transformer":
        raise ValueError(f"kind is {kind!r} but expected 'transformer'")
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return TransformerSeq2Seq(d_model, num_layers, num_heads, d_ff, positions, max_positions)
