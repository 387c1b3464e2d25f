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
the causal mask); generation (``decode_batch``, the GRUs' loop) still writes one word at a time.

Attention weights are computed only when someone can read them: in eval mode, or when asked
(``need_weights=True``). A training step (train mode) takes torch's fused attention kernel instead
(:class:`~attnkit.transformer.layers.LayerAttention`), as ``torch.nn.Transformer`` does.
``use_layers`` runs a learner's encoder and decoder layer functions, and their multi-head attention,
inside the model (lesson 7); a learner's attention always computes its weights (no fused kernel).
"""
from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, NamedTuple

import torch
from torch import nn

from attnkit.errors import check_shape
from attnkit.masks import causal_mask, padding_mask
from attnkit.transformer.layers import DecoderLayer, DecoderWeights, EncoderLayer, set_need_weights, use_attention
from attnkit.transformer.positional import POSITIONAL_KINDS
from attnkit.translation.seq2seq import State, Step
from attnkit.translation.toy_language import Vocab, source_vocab, target_vocab

__all__ = ["TransformerEncoder", "TransformerDecoder", "TransformerSeq2Seq", "TransformerOutput", "build_transformer"]


class TransformerOutput(NamedTuple):
    """Everything :meth:`TransformerSeq2Seq.run` computes."""

    logits: torch.Tensor  # (B, L, V)
    encoder_weights: list[torch.Tensor | None]  # per encoder layer: (B, H, S, S); None when not computed
    decoder_weights: list[DecoderWeights]  # per decoder layer: self (B, H, L, L), cross (B, H, L, S)


def _embed(embedding: nn.Embedding, positions: nn.Module, ids: torch.Tensor) -> torch.Tensor:
    return positions(embedding(ids) * math.sqrt(embedding.embedding_dim))  # (B, L) -> (B, L, D)


class TransformerEncoder(nn.Module):
    """Embedding, positions, N encoder layers: source ids (B, S) -> memory (B, S, D).

    ``forward`` has the GRU encoder's interface, ``(states, summary)``; a Transformer has no
    summary vector, so the second item is ``None``. :meth:`run` also returns every layer's weights.
    """

    def __init__(self, vocab_size: int, d_model: int, num_layers: int, num_heads: int, d_ff: int,
                 positions: nn.Module) -> None:
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, d_model, padding_idx=Vocab.pad_id)
        self.positions = positions
        self.layers = nn.ModuleList(EncoderLayer(d_model, num_heads, d_ff) for _ in range(num_layers))

    def run(self, src: torch.Tensor, src_lengths: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """Returns memory (B, S, D) and the self-attention weights of each layer (B, H, S, S)."""
        check_shape("src", src, ("B", "S"), hint="a batch of padded word ids")
        mask = padding_mask(src_lengths.to(src.device), src.shape[1])  # (B, 1, S): every real word, no causal mask
        x, weights = _embed(self.embedding, self.positions, src), []
        for layer in self.layers:
            x, w = layer(x, mask)  # (B, S, D), (B, H, S, S)
            weights.append(w)
        return x, weights

    def forward(self, src: torch.Tensor, src_lengths: torch.Tensor) -> tuple[torch.Tensor, None]:
        return self.run(src, src_lengths)[0], None


class TransformerDecoder(nn.Module):
    """Embedding, positions, N decoder layers, the output projection: target ids (B, L) -> logits (B, L, V).

    ``init_state`` and ``step`` give it the GRU decoders' one-word-at-a-time interface, so the same
    generation loop (:func:`attnkit.translation.seq2seq.decode_batch`) drives both architectures.
    The state is the prefix written so far; each step reruns the decoder on the whole prefix and
    keeps its last row (real implementations cache the keys and values of earlier words instead).
    """

    def __init__(self, vocab_size: int, d_model: int, num_layers: int, num_heads: int, d_ff: int,
                 positions: nn.Module) -> None:
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, d_model, padding_idx=Vocab.pad_id)
        self.positions = positions
        self.layers = nn.ModuleList(DecoderLayer(d_model, num_heads, d_ff) for _ in range(num_layers))
        self.out = nn.Linear(d_model, vocab_size)

    def forward(self, tgt_in: torch.Tensor, memory: torch.Tensor,
                memory_mask: torch.Tensor) -> tuple[torch.Tensor, list[DecoderWeights]]:
        """All L target positions at once. Returns logits (B, L, V) and each layer's weights."""
        check_shape("tgt_in", tgt_in, ("B", "L"), {"B": memory.shape[0]}, hint="one target row per source row")
        causal = torch.as_tensor(causal_mask(tgt_in.shape[1]), device=tgt_in.device)  # (L, L): word t sees words <= t
        y, weights = _embed(self.embedding, self.positions, tgt_in), []
        for layer in self.layers:
            y, w = layer(y, memory, causal, memory_mask)  # (B, L, D)
            weights.append(w)
        return self.out(y), weights  # (B, L, D) -> (B, L, V)

    def init_state(self, states: torch.Tensor, summary: None) -> State:
        return (states.new_zeros((states.shape[0], 0), dtype=torch.long),)  # the prefix: no word yet

    def step(self, token: torch.Tensor, state: State, states: torch.Tensor, mask: torch.Tensor,
             temperature: float = 1.0) -> Step:
        """One output word: append ``token`` to the prefix, rerun the decoder on it, keep the last row.

        Returns logits (B, V), the longer prefix, and the last layer's cross-attention for the new
        word, mean over heads (B, S)."""
        if temperature != 1.0:
            raise ValueError(f"temperature is {temperature} but the Transformer supports only 1.0")
        prefix = torch.cat([state[0], token[:, None]], dim=1)  # (B, t) -> (B, t + 1)
        logits, weights = self(prefix, states, mask)  # (B, t + 1, V)
        return logits[:, -1], (prefix,), weights[-1].cross_attention[:, :, -1].mean(dim=1)  # (B, H, S) -> (B, S)


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
        self.need_weights: bool | None = None  # forward's default: None = weights in eval mode only
        self.src_vocab, self.tgt_vocab = source_vocab(), target_vocab()
        extra = {"max_positions": max_positions} if positions == "learned" else {}
        sizes = (d_model, num_layers, num_heads, d_ff)
        self.encoder = TransformerEncoder(len(self.src_vocab), *sizes, POSITIONAL_KINDS[positions](d_model, **extra))
        self.decoder = TransformerDecoder(len(self.tgt_vocab), *sizes, POSITIONAL_KINDS[positions](d_model, **extra))
        for embedding in (self.encoder.embedding, self.decoder.embedding):  # times sqrt(D) later: entries
            nn.init.normal_(embedding.weight, std=d_model ** -0.5)  # ~ N(0, 1), the size of the positions'
            embedding.weight.data[Vocab.pad_id] = 0.0

    def config(self) -> dict[str, Any]:
        """The arguments that rebuild this model (stored in checkpoints)."""
        return {"kind": self.kind, "d_model": self.d_model, "num_layers": self.num_layers,
                "num_heads": self.num_heads, "d_ff": self.d_ff, "positions": self.positions,
                "max_positions": self.max_positions}

    def use_layers(self, encoder_layer: Callable[..., Any] | None = None,
                   decoder_layer: Callable[..., Any] | None = None,
                   attention: Callable[..., Any] | None = None) -> None:
        """Compute every encoder layer with ``encoder_layer(layer, x, mask)``, every decoder layer
        with ``decoder_layer(layer, y, memory, self_mask, memory_mask)`` (see
        :func:`attnkit.transformer.layers.encoder_layer`) and every attention with
        ``attention(attention_module, query, key, value, mask)`` (see
        :meth:`attnkit.transformer.layers.LayerAttention.use`); None keeps attnkit's."""
        for layer in self.encoder.layers:
            layer.use(encoder_layer)
        for layer in self.decoder.layers:
            layer.use(decoder_layer)
        use_attention(self, attention)

    def run(self, src: torch.Tensor, src_lengths: torch.Tensor, tgt_in: torch.Tensor,
            need_weights: bool = True) -> TransformerOutput:
        """Teacher forcing; with every layer's weights unless ``need_weights`` is False (then the
        fused kernel runs and the weights are None)."""
        set_need_weights(self, need_weights)
        try:
            memory, encoder_weights = self.encoder.run(src, src_lengths)
            mask = padding_mask(src_lengths.to(src.device), src.shape[1])  # (B, 1, S)
            logits, decoder_weights = self.decoder(tgt_in, memory, mask)
            return TransformerOutput(logits, encoder_weights, decoder_weights)
        finally:
            set_need_weights(self, True)  # standalone layers report their weights

    def forward(self, src: torch.Tensor, src_lengths: torch.Tensor, tgt_in: torch.Tensor,
                temperature: float = 1.0, need_weights: bool | None = None) -> tuple[torch.Tensor, Any]:
        """Teacher forcing, the GRU models' interface: all L target words in one pass.

        Args:
            src: (B, S) source ids padded with PAD; src_lengths: (B,); tgt_in: (B, L) starting with BOS.
            temperature: accepted for the GRU models' interface; must be 1.
            need_weights: compute the attention weights; None means "in eval mode only", so a
                training step takes the fused kernel.

        Returns:
            logits (B, L, V) and the last decoder layer's cross-attention, mean over heads (B, L, S),
            or None when the weights were not computed.
        """
        if temperature != 1.0:
            raise ValueError(f"temperature is {temperature} but the Transformer supports only 1.0")
        need_weights = self.need_weights if need_weights is None else need_weights
        need_weights = not self.training if need_weights is None else need_weights
        output = self.run(src, src_lengths, tgt_in, need_weights)
        cross = output.decoder_weights[-1].cross_attention
        return output.logits, None if cross is None else cross.mean(dim=1)  # (B, H, L, S) -> (B, L, S)


def build_transformer(d_model: int = 64, num_layers: int = 2, num_heads: int = 4, d_ff: int = 256,
                      positions: str = "sinusoidal", max_positions: int = 64, seed: int = 0,
                      kind: str = "transformer") -> TransformerSeq2Seq:
    """A freshly initialised model; the same seed gives the same weights (global RNG untouched)."""
    if kind != "transformer":
        raise ValueError(f"kind is {kind!r} but expected 'transformer'")
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return TransformerSeq2Seq(d_model, num_layers, num_heads, d_ff, positions, max_positions)
