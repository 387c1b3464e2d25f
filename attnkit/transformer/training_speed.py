"""Time one training step of the GRU encoder-decoder and of the Transformer, side by side (lesson 7).

The newsletter: "Training 1000 words = 1 parallel step. 100x faster." A training step here is
what ``attnkit.translation.training.train`` does for one batch: a teacher-forced forward pass over
B sentence pairs of L words each, the cross-entropy loss, and the backward pass. The GRU models
walk the source and then the target one word at a time; the Transformer processes all L positions
of each layer in a few big matrix products. Neither fact says how long a step takes on *this*
machine: that is measured.

    step_seconds[model, length, repeat]      one forward + backward on B pairs of L words
    per token = step seconds / (B * L)       L target words per pair

Three Transformers can be timed: ``transformer`` (attnkit's, as it trains: fused attention, no
weights stored), ``transformer_weights`` (the same model made to store every layer's (B, H, L, S)
weights, as lesson 7's model did before) and ``torch`` (:class:`TorchTransformerSeq2Seq`:
``torch.nn.Transformer`` with the same D, heads, layers and d_ff, the same embeddings and positions).

Generation is another matter: writing a translation is a loop of L decoder calls, one per word,
for both architectures (:func:`time_generation`).
"""
from __future__ import annotations

import json
import math
import random
import time
from collections.abc import Callable, Sequence
from importlib import resources

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from attnkit.experiments.timing import TimingResult
from attnkit.masks import padding_mask
from attnkit.transformer.model import TransformerSeq2Seq, build_transformer
from attnkit.transformer.positional import SinusoidalPositions
from attnkit.translation.seq2seq import build_model, decode_batch, encode_batch
from attnkit.translation.toy_language import generate_sentence, translate

__all__ = ["STEP_MODELS", "TorchTransformerSeq2Seq", "toy_batch", "training_step", "time_training_steps",
           "time_generation", "load_recorded_speeds"]


class TorchTransformerSeq2Seq(nn.Module):
    """``torch.nn.Transformer`` (post-norm, ReLU, no dropout) with the hyper-parameters, embeddings,
    positions and output layer of attnkit's :class:`~attnkit.transformer.model.TransformerSeq2Seq`:
    the standard implementation to time ours against. ``forward(src (B, S), src_lengths (B,),
    tgt_in (B, L))`` returns ``(logits (B, L, V), None)``; torch never returns weights here."""

    kind = "torch_transformer"

    def __init__(self, twin: TransformerSeq2Seq) -> None:
        super().__init__()
        D = twin.d_model
        self.src_vocab, self.tgt_vocab, self.d_model = twin.src_vocab, twin.tgt_vocab, D
        self.src_embedding = nn.Embedding(len(self.src_vocab), D, padding_idx=0)
        self.tgt_embedding = nn.Embedding(len(self.tgt_vocab), D, padding_idx=0)
        self.positions = SinusoidalPositions(D)
        self.transformer = nn.Transformer(D, twin.num_heads, twin.num_layers, twin.num_layers, twin.d_ff,
                                          dropout=0.0, batch_first=True)
        self.out = nn.Linear(D, len(self.tgt_vocab))

    def forward(self, src: torch.Tensor, src_lengths: torch.Tensor, tgt_in: torch.Tensor) -> tuple[torch.Tensor, None]:
        scale = math.sqrt(self.d_model)
        x = self.positions(self.src_embedding(src) * scale)  # (B, S, D)
        y = self.positions(self.tgt_embedding(tgt_in) * scale)  # (B, L, D)
        ignore = ~padding_mask(src_lengths.to(src.device), src.shape[1])[:, 0]  # (B, S): torch's True = ignore
        causal = nn.Transformer.generate_square_subsequent_mask(tgt_in.shape[1], device=src.device)  # (L, L)
        out = self.transformer(x, y, tgt_mask=causal, src_key_padding_mask=ignore,
                               memory_key_padding_mask=ignore, tgt_is_causal=True)
        return self.out(out), None  # (B, L, D) -> (B, L, V)


def _with_weights(seed: int) -> TransformerSeq2Seq:
    model = build_transformer(seed=seed)
    model.need_weights = True  # every layer stores its (B, H, L, S) weights, even while training
    return model


def _torch_twin(seed: int) -> TorchTransformerSeq2Seq:
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return TorchTransformerSeq2Seq(build_transformer(seed=seed))


# name -> builder of a freshly initialised model: lesson 1's GRU with attention, lesson 7's Transformer
# (fused attention while training, or storing its weights), torch.nn.Transformer of the same sizes
STEP_MODELS: dict[str, Callable[[int], nn.Module]] = {
    "gru": lambda seed: build_model("attention", 128, seed=seed),
    "transformer": lambda seed: build_transformer(seed=seed),
    "transformer_weights": _with_weights,
    "torch": _torch_twin,
}


def toy_batch(model: nn.Module, batch_size: int, length: int, seed: int = 0,
              device: str | torch.device = "cpu") -> tuple[torch.Tensor, ...]:
    """``batch_size`` toy sentences of exactly ``length`` words, encoded for ``model``.

    Returns:
        src (B, S) with S = ``length``, src_lengths (B,), and tgt_in, tgt_out (B, L + 1): the
        L = ``length`` French words after BOS, and before EOS.
    """
    rng = random.Random(seed)
    english = [generate_sentence(length, rng) for _ in range(batch_size)]
    src, src_lengths = encode_batch(english, model.src_vocab)
    tgt, _ = encode_batch([translate(e) for e in english], model.tgt_vocab, bos=True, eos=True)
    return src.to(device), src_lengths, tgt[:, :-1].to(device), tgt[:, 1:].to(device)  # (B, L+1) -> (B, L)


def training_step(model: nn.Module, batch: tuple[torch.Tensor, ...]) -> float:
    """One teacher-forced forward pass, the loss and the backward pass; returns the loss."""
    src, src_lengths, tgt_in, tgt_out = batch
    model.train()
    model.zero_grad(set_to_none=True)
    logits, _ = model(src, src_lengths, tgt_in)  # (B, L, V)
    loss = nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), tgt_out.reshape(-1))  # (B*L, V)
    loss.backward()
    return loss.item()  # .item() waits for the device, so the step is finished when we stop the clock


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def time_training_steps(
    lengths: Sequence[int] = (10, 30, 100, 300, 1000),
    repeats: int = 3,
    batch_size: int = 8,
    models: Sequence[str] = ("gru", "transformer"),
    seed: int = 0,
    num_threads: int | None = None,
    device: str | torch.device = "cpu",
    progress: bool = True,
) -> TimingResult:
    """Seconds per training step of each model for each source length.

    Each (model, length) runs one untimed step (warm-up), then ``repeats`` timed ones; the models
    alternate within each repeat so that a slow moment of a shared machine hits both alike.

    Args:
        lengths: sentence lengths L in words (the toy language makes any length >= 3).
        repeats: timed steps per (model, length).
        batch_size: B, sentence pairs per step.
        models: names from :data:`STEP_MODELS` (default: the GRU and attnkit's Transformer).
        num_threads: CPU threads torch may use while timing (restored afterwards); None keeps them.
        device: where the models and batches live ("cpu", "cuda", ...).

    Returns:
        a :class:`~attnkit.experiments.timing.TimingResult` with ``seconds`` (models, lengths, repeats);
        its ``speedup`` gives the ratios repeat by repeat.
    """
    unknown = set(models) - set(STEP_MODELS)
    if unknown:
        raise ValueError(f"models {sorted(unknown)} unknown: choose from {sorted(STEP_MODELS)}")
    device = torch.device(device)
    threads_before = torch.get_num_threads()
    try:
        torch.set_num_threads(num_threads or threads_before)
        built = {name: STEP_MODELS[name](seed).to(device) for name in models}
        seconds = np.zeros((len(models), len(lengths), repeats))
        for n, L in enumerate(tqdm(lengths, desc="lengths", disable=not progress)):
            batches = {name: toy_batch(model, batch_size, L, seed, device) for name, model in built.items()}
            for name in models:
                training_step(built[name], batches[name])  # warm-up
            for r in range(repeats):
                for m, name in enumerate(models):
                    _sync(device)
                    start = time.perf_counter()
                    training_step(built[name], batches[name])
                    seconds[m, n, r] = time.perf_counter() - start
        return TimingResult(tuple(models), tuple(lengths), seconds, torch.get_num_threads())
    finally:
        torch.set_num_threads(threads_before)


@torch.no_grad()
def time_generation(model: nn.Module, length: int, batch_size: int = 8, repeats: int = 3,
                    seed: int = 0) -> dict[str, float]:
    """Median seconds of one teacher-forced forward pass vs greedy generation of the same words.

    Training sees all L target words at once; generating them takes L decoder calls, each waiting
    for the word the last one chose.

    Returns:
        ``{"forward": s, "generate": s, "decoder_calls": T}``; T is L + 1 (EOS is one more
        word) when every row runs to ``max_len``, fewer when all rows write EOS sooner.
    """
    src, src_lengths, tgt_in, _ = toy_batch(model, batch_size, length, seed)
    model.eval()
    max_len = tgt_in.shape[1]  # L words + EOS
    timings: dict[str, list[float]] = {"forward": [], "generate": []}
    calls = 0
    for _ in range(repeats):
        start = time.perf_counter()
        model(src, src_lengths, tgt_in)  # (B, L + 1, V): every target word in one pass
        timings["forward"].append(time.perf_counter() - start)
        start = time.perf_counter()
        tokens, _ = decode_batch(model, src, src_lengths, max_len)  # (B, L): L decoder calls, one per word
        timings["generate"].append(time.perf_counter() - start)
        calls = tokens.shape[1]
    return {"forward": float(np.median(timings["forward"])), "generate": float(np.median(timings["generate"])),
            "decoder_calls": calls}


RECORDED = "recorded_training_speed.json"


def load_recorded_speeds() -> dict:
    """The training-step timings recorded by ``benchmarks/bench_fused.py --record``: ``{"device",
    "versions", "date", "load", "batch_size", "threads", "repeats", "lengths", "median_ms": {model:
    [ms per length]}}`` (a measurement of one machine on one day, shipped with attnkit)."""
    path = resources.files("attnkit.transformer") / RECORDED
    if not path.is_file():
        raise FileNotFoundError(f"no recorded timings at {path}: run benchmarks/bench_fused.py --record")
    return json.loads(path.read_text())
