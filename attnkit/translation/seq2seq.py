"""GRU encoder-decoders for translation, with and without attention (lessons 1-2).

Both models share the encoder and the decoder's shape; they differ in one line, the *context*
the decoder reads at each output step t:

    fixed vector (Cho et al. 2014):      context_t = summary                  # the same (B, D) every step
    attention (Luong et al. 2015):       context_t, weights_t = attention(query = s_t W_a,
                                                                  key = states, value = states)

``summary`` is the encoder's final hidden state, the "one vector" the whole sentence is squeezed
into; ``states`` keeps one vector per source word, and the attention weights say how much of each
word the decoder reads while writing word t. D (``d_model``) is the number of numbers in the
fixed vector. The attention is attnkit's ``scaled_dot_product_attention``, so its mask handling
and its softmax are the ones the lessons build.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from attnkit.attention import scaled_dot_product_attention
from attnkit.errors import check_shape
from attnkit.masks import padding_mask
from attnkit.translation.toy_language import Vocab, source_vocab, target_vocab

State = tuple[torch.Tensor, ...]  # the decoder's running state, e.g. (hidden s_t, context)
Step = tuple[torch.Tensor, State, torch.Tensor]  # logits (B, V), next state, weights (B, S)

__all__ = ["Encoder", "FixedVectorDecoder", "AttentionDecoder", "Seq2Seq", "build_model",
           "encode_batch", "summary_vectors", "decode_batch", "greedy_decode"]


class Encoder(nn.Module):
    """Bidirectional GRU: source word ids (B, S) -> states (B, S, D) and summary (B, D).

    Each direction has D/2 units; ``states[:, s]`` joins both directions' states at word s, and
    ``summary`` joins the forward state after the last word and the backward state after the first.
    """

    def __init__(self, vocab_size: int, embedding_dim: int, d_model: int):
        super().__init__()
        if d_model % 2:
            raise ValueError(f"d_model is {d_model} but expected an even number: "
                             f"each direction of the GRU gets d_model // 2 units")
        self.embedding = nn.Embedding(vocab_size, embedding_dim, padding_idx=Vocab.pad_id)
        self.gru = nn.GRU(embedding_dim, d_model // 2, batch_first=True, bidirectional=True)

    def forward(self, src: torch.Tensor, src_lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Args: src (B, S) word ids, src_lengths (B,). Returns: states (B, S, D), summary (B, D)."""
        S = src.shape[1]
        packed = pack_padded_sequence(self.embedding(src), src_lengths.cpu(), batch_first=True,
                                      enforce_sorted=False)
        out, last = self.gru(packed)  # last: (2, B, D/2), forward then backward
        states, _ = pad_packed_sequence(out, batch_first=True, total_length=S)  # (B, S, D)
        summary = torch.cat([last[0], last[1]], dim=-1)  # (2, B, D/2) -> (B, D)
        return states, summary


class FixedVectorDecoder(nn.Module):
    """GRU decoder that reads only the encoder's summary: the same context at every step.

    s_t = GRU([embed(y_{t-1}); c], s_{t-1}),  c = summary,  logits_t = W_o tanh(W_c [c; s_t]).
    """

    def __init__(self, vocab_size: int, embedding_dim: int, d_model: int):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embedding_dim, padding_idx=Vocab.pad_id)
        self.gru = nn.GRUCell(embedding_dim + d_model, d_model)
        self.combine = nn.Linear(2 * d_model, d_model)
        self.out = nn.Linear(d_model, vocab_size)

    def init_state(self, states: torch.Tensor, summary: torch.Tensor) -> State:
        return summary, summary  # (hidden s_0, context c)

    def step(self, token: torch.Tensor, state: State, states: torch.Tensor,
             mask: torch.Tensor, temperature: float = 1.0) -> Step:
        """One output word. Returns logits (B, V), the next state, weights (B, S): all zero,
        because this decoder looks at no source word."""
        hidden, context = state
        hidden = self.gru(torch.cat([self.embedding(token), context], dim=-1), hidden)  # (B, D)
        logits = self.out(torch.tanh(self.combine(torch.cat([context, hidden], dim=-1))))
        return logits, (hidden, context), states.new_zeros(states.shape[:2])


class AttentionDecoder(nn.Module):
    """GRU decoder that attends over all encoder states at each step (Luong "general" score).

    s_t = GRU([embed(y_{t-1}); h~_{t-1}], s_{t-1})
    c_t, a_t = scaled_dot_product_attention(query = s_t W_a, key = states, value = states,
                                            scale = 1 / (sqrt(D) * temperature))
    h~_t = tanh(W_c [c_t; s_t]),  logits_t = W_o h~_t

    Feeding h~_{t-1} back in ("input feeding") tells the GRU where it last looked.
    """

    def __init__(self, vocab_size: int, embedding_dim: int, d_model: int):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embedding_dim, padding_idx=Vocab.pad_id)
        self.gru = nn.GRUCell(embedding_dim + d_model, d_model)
        self.query_proj = nn.Linear(d_model, d_model, bias=False)  # W_a
        self.combine = nn.Linear(2 * d_model, d_model)
        self.out = nn.Linear(d_model, vocab_size)

    def init_state(self, states: torch.Tensor, summary: torch.Tensor) -> State:
        return summary, torch.zeros_like(summary)  # (hidden s_0, attentional h~_0)

    def step(self, token: torch.Tensor, state: State, states: torch.Tensor,
             mask: torch.Tensor, temperature: float = 1.0) -> Step:
        """One output word. ``temperature`` divides the scores: < 1 sharpens the weights, > 1
        flattens them. Returns logits (B, V), the next state, weights (B, S)."""
        hidden, feed = state
        hidden = self.gru(torch.cat([self.embedding(token), feed], dim=-1), hidden)  # (B, D)
        query = self.query_proj(hidden)[:, None, :]  # (B, D) -> (B, 1, D)
        scale = 1.0 / (math.sqrt(hidden.shape[-1]) * temperature)
        context, weights = scaled_dot_product_attention(query, states, states, mask=mask, scale=scale)
        context, weights = context[:, 0], weights[:, 0]  # (B, 1, D) -> (B, D); (B, 1, S) -> (B, S)
        feed = torch.tanh(self.combine(torch.cat([context, hidden], dim=-1)))  # (B, D)
        return self.out(feed), (hidden, feed), weights


class Seq2Seq(nn.Module):
    """Encoder + decoder + the two vocabularies. ``kind`` is ``"fixed"`` or ``"attention"``."""

    def __init__(self, kind: str, d_model: int = 128, embedding_dim: int = 64):
        super().__init__()
        decoders = {"fixed": FixedVectorDecoder, "attention": AttentionDecoder}
        if kind not in decoders:
            raise ValueError(f"kind is {kind!r} but expected one of {sorted(decoders)}")
        self.kind, self.d_model, self.embedding_dim = kind, d_model, embedding_dim
        self.src_vocab, self.tgt_vocab = source_vocab(), target_vocab()
        self.encoder = Encoder(len(self.src_vocab), embedding_dim, d_model)
        self.decoder = decoders[kind](len(self.tgt_vocab), embedding_dim, d_model)

    def config(self) -> dict[str, Any]:
        return {"kind": self.kind, "d_model": self.d_model, "embedding_dim": self.embedding_dim}

    def forward(self, src: torch.Tensor, src_lengths: torch.Tensor, tgt_in: torch.Tensor,
                temperature: float = 1.0) -> tuple[torch.Tensor, torch.Tensor]:
        """Teacher forcing: the decoder reads the true previous word at every step.

        Args:
            src: (B, S) source ids, padded with PAD; src_lengths: (B,).
            tgt_in: (B, L) target ids starting with BOS.

        Returns:
            logits (B, L, V) and attention weights (B, L, S): one row per target word.
        """
        check_shape("src", src, ("B", "S"), hint="a batch of padded word ids")
        check_shape("tgt_in", tgt_in, ("B", "L"), {"B": src.shape[0]}, hint="one target row per source row")
        states, summary = self.encoder(src, src_lengths)
        mask = padding_mask(src_lengths, src.shape[1])  # (B, 1, S), True on real words
        state = self.decoder.init_state(states, summary)
        all_logits, all_weights = [], []
        for t in range(tgt_in.shape[1]):
            logits, state, weights = self.decoder.step(tgt_in[:, t], state, states, mask, temperature)
            all_logits.append(logits)
            all_weights.append(weights)
        return torch.stack(all_logits, dim=1), torch.stack(all_weights, dim=1)  # (B, L, V), (B, L, S)


def build_model(kind: str, d_model: int = 128, embedding_dim: int = 64, seed: int = 0) -> Seq2Seq:
    """A freshly initialised model; the same seed gives the same weights (global RNG untouched)."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return Seq2Seq(kind, d_model, embedding_dim)


def encode_batch(sentences: list[str], vocab: Vocab, bos: bool = False,
                 eos: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
    """Sentences -> padded ids (B, S) and lengths (B,), optionally with BOS first / EOS last."""
    rows = [([vocab.bos_id] if bos else []) + vocab.encode(s, add_eos=eos) for s in sentences]
    lengths = torch.tensor([len(r) for r in rows])
    ids = torch.full((len(rows), int(lengths.max())), vocab.pad_id, dtype=torch.long)
    for i, row in enumerate(rows):
        ids[i, : len(row)] = torch.tensor(row)
    return ids, lengths


@torch.no_grad()
def summary_vectors(model: Seq2Seq, sentences: list[str]) -> np.ndarray:
    """The fixed vector of each sentence: the encoder's final hidden state, D numbers.

    Returns:
        (B, D) numpy array, one row per sentence; the fixed-vector decoder sees nothing else.
    """
    model.eval()
    src, src_lengths = encode_batch(sentences, model.src_vocab)
    return model.encoder(src, src_lengths)[1].numpy()  # (B, D)


@torch.no_grad()
def decode_batch(model: Seq2Seq, src: torch.Tensor, src_lengths: torch.Tensor, max_len: int,
                 temperature: float = 1.0) -> tuple[torch.Tensor, torch.Tensor]:
    """Greedy decoding: feed back the most likely word until every row has written EOS.

    Returns:
        tokens (B, L) with L <= max_len (positions after a row's EOS are PAD) and weights (B, L, S).
    """
    model.eval()
    states, summary = model.encoder(src, src_lengths)
    mask = padding_mask(src_lengths, src.shape[1])  # (B, 1, S)
    state = model.decoder.init_state(states, summary)
    token = torch.full((src.shape[0],), Vocab.bos_id, dtype=torch.long)
    done = torch.zeros(src.shape[0], dtype=torch.bool)
    tokens, weights = [], []
    for _ in range(max_len):
        logits, state, w = model.decoder.step(token, state, states, mask, temperature)
        token = logits.argmax(dim=-1).masked_fill(done, Vocab.pad_id)  # (B,)
        tokens.append(token)
        weights.append(w)
        done |= token == Vocab.eos_id
        if bool(done.all()):
            break
    return torch.stack(tokens, dim=1), torch.stack(weights, dim=1)  # (B, L), (B, L, S)


def greedy_decode(model: Seq2Seq, sentence: str, temperature: float = 1.0,
                  max_len: int | None = None) -> tuple[list[str], np.ndarray]:
    """Translate one English sentence and return the attention weights behind each output word.

    Args:
        model: a trained ``Seq2Seq``.
        sentence: English words from the toy language, e.g. ``"the black cat sat"``.
        temperature: divides the attention scores (attention model only).
        max_len: longest output; default twice the source length plus 2.

    Returns:
        ``(words, weights)``: the French words (EOS not included) and weights (L_out, S), row t
        = where output word t looked among the S source words. All zero for the fixed-vector
        model, which looks at no source word.
    """
    src, src_lengths = encode_batch([sentence], model.src_vocab)
    S = src.shape[1]
    tokens, weights = decode_batch(model, src, src_lengths, max_len or 2 * S + 2, temperature)
    words = model.tgt_vocab.decode(tokens[0].tolist())
    return words, weights[0, : len(words)].numpy()  # (L, S) -> (L_out, S)
