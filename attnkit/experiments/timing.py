"""Time the claim "an RNN needs L sequential steps, attention one parallel step" on this machine.

Four ways to turn a sequence x (B, L, D) into L output vectors, timed side by side:

    rnn_loop         a GRU cell called once per position from Python: L sequential steps
    rnn_fused        torch.nn.GRU: the same L sequential steps, but looped in C++
    attention_loop   self-attention computed one query at a time from Python: L steps that
                     could run in parallel but don't
    attention        self-attention for all L queries in one batched call (Q K^T is one matmul)

The RNN's steps depend on each other (step t needs h_{t-1}); attention's do not. Only the last
one exploits that. Times are wall-clock seconds; each (method, length) is repeated and reported as
median and range, because a laptop's timings wobble.
"""
from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from typing import NamedTuple

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from attnkit.attention import scaled_dot_product_attention

__all__ = ["METHODS", "TimingResult", "SequenceModels", "measure_parallelism", "speedup"]

METHODS = ("rnn_loop", "rnn_fused", "attention_loop", "attention")


class SequenceModels(nn.Module):
    """A GRU and a single-head self-attention of the same width D, with seeded weights."""

    def __init__(self, d_model: int = 128, seed: int = 0) -> None:
        super().__init__()
        generator = torch.Generator().manual_seed(seed)
        self.gru = nn.GRU(d_model, d_model, batch_first=True)
        self.cell = nn.GRUCell(d_model, d_model)
        self.W_qkv = nn.Parameter(torch.randn(d_model, 3 * d_model, generator=generator) / math.sqrt(d_model))
        with torch.no_grad():
            for p in self.gru.parameters():
                p.copy_(torch.randn(p.shape, generator=generator) / math.sqrt(d_model))
            # the cell and the fused GRU share weights, so both compute the same thing
            for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
                getattr(self.cell, name).copy_(getattr(self.gru, name + "_l0"))

    def rnn_loop(self, x: torch.Tensor) -> torch.Tensor:
        """(B, L, D) -> (B, L, D): one GRU step per position, each waiting for the last."""
        h = x.new_zeros(x.shape[0], x.shape[2])  # (B, D)
        outputs = []
        for t in range(x.shape[1]):
            h = self.cell(x[:, t], h)  # (B, D), needs h from step t-1
            outputs.append(h)
        return torch.stack(outputs, dim=1)  # L x (B, D) -> (B, L, D)

    def rnn_fused(self, x: torch.Tensor) -> torch.Tensor:
        """(B, L, D) -> (B, L, D): the same recurrence, looped inside torch."""
        return self.gru(x)[0]

    def _qkv(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        return (x @ self.W_qkv).chunk(3, dim=-1)  # (B, L, D) -> (B, L, 3D) -> 3 x (B, L, D)

    def attention(self, x: torch.Tensor) -> torch.Tensor:
        """(B, L, D) -> (B, L, D): every query against every key in one call."""
        query, key, value = self._qkv(x)
        return scaled_dot_product_attention(query, key, value)[0]

    def attention_loop(self, x: torch.Tensor) -> torch.Tensor:
        """(B, L, D) -> (B, L, D): the same attention, one query row at a time."""
        query, key, value = self._qkv(x)
        rows = [scaled_dot_product_attention(query[:, i : i + 1], key, value)[0] for i in range(x.shape[1])]
        return torch.cat(rows, dim=1)  # L x (B, 1, D) -> (B, L, D)


class TimingResult(NamedTuple):
    """Seconds per call: ``seconds[m, n, r]`` for method ``methods[m]``, length ``lengths[n]``, repeat r."""

    methods: tuple[str, ...]
    lengths: tuple[int, ...]
    seconds: np.ndarray  # (methods, lengths, repeats)
    num_threads: int | None = None  # torch's CPU threads during the measurement

    def median(self, method: str) -> np.ndarray:
        """(lengths,) median seconds of ``method``."""
        return np.median(self.seconds[self.methods.index(method)], axis=-1)

    def spread(self, method: str) -> tuple[np.ndarray, np.ndarray]:
        """(lengths,) fastest and slowest seconds of ``method``."""
        runs = self.seconds[self.methods.index(method)]
        return runs.min(axis=-1), runs.max(axis=-1)


def _time(fn: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor) -> float:
    start = time.perf_counter()
    fn(x)
    return time.perf_counter() - start


@torch.no_grad()
def measure_parallelism(
    lengths: Sequence[int] = (10, 30, 100, 300, 1000),
    repeats: int = 5,
    d_model: int = 128,
    batch_size: int = 1,
    methods: Sequence[str] = METHODS,
    seed: int = 0,
    num_threads: int | None = None,
    progress: bool = True,
) -> TimingResult:
    """Time each method on a random (B, L, D) sequence for every length.

    Each (method, length) runs once untimed (warm-up), then ``repeats`` timed runs. The methods
    are interleaved within each repeat, so a slow moment of the machine hits all of them alike.

    Args:
        lengths: the sequence lengths L to time.
        repeats: timed runs per (method, length).
        d_model: D, the width of the sequence, the GRU state and the attention.
        batch_size: B.
        methods: a subset of :data:`METHODS`.
        seed: fixes the weights and the inputs.
        num_threads: CPU threads torch may use while timing (restored afterwards); ``None`` keeps
            the current setting. ``1`` gives steadier numbers on a busy machine, because
            many tiny multi-threaded operations stall when another program holds a core.
        progress: show a tqdm bar over lengths.

    Returns:
        a :class:`TimingResult` with ``seconds`` of shape (methods, lengths, repeats).
    """
    unknown = set(methods) - set(METHODS)
    if unknown:
        raise ValueError(f"unknown methods {sorted(unknown)}: choose from {METHODS}")
    threads_before = torch.get_num_threads()
    try:
        torch.set_num_threads(num_threads or threads_before)
        return _measure(lengths, repeats, d_model, batch_size, tuple(methods), seed, progress)
    finally:
        torch.set_num_threads(threads_before)


def _measure(lengths: Sequence[int], repeats: int, d_model: int, batch_size: int,
             methods: tuple[str, ...], seed: int, progress: bool) -> TimingResult:
    models = SequenceModels(d_model, seed).eval()
    generator = torch.Generator().manual_seed(seed)
    seconds = np.zeros((len(methods), len(lengths), repeats))
    for n, L in enumerate(tqdm(lengths, desc="lengths", disable=not progress)):
        x = torch.randn(batch_size, L, d_model, generator=generator)  # (B, L, D)
        for method in methods:
            getattr(models, method)(x)  # warm-up
        for r in range(repeats):
            for m, method in enumerate(methods):
                seconds[m, n, r] = _time(getattr(models, method), x)
    return TimingResult(methods, tuple(lengths), seconds, torch.get_num_threads())


def speedup(result: TimingResult, slow: str, fast: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """How many times faster ``fast`` is than ``slow``, per length: ``(median, low, high)``.

    The ratio is taken repeat by repeat (runs that ran side by side), then summarised.
    """
    ratios = result.seconds[result.methods.index(slow)] / result.seconds[result.methods.index(fast)]
    return np.median(ratios, axis=-1), ratios.min(axis=-1), ratios.max(axis=-1)
