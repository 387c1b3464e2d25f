"""Time one training step of the GRU encoder-decoder and of the Transformer, side by side (lesson 7).

The newsletter: "Training 1000 words = 1 parallel step. 100x faster." A training step here is
what ``attnkit.translation.training.train`` does for one batch: a teacher-forced forward pass over
B sentence pairs of L words each, the cross-entropy loss, and the backward pass. The GRU models
walk the source and then the target one word at a time; the Transformer processes all L positions
of each layer in a few big matrix products. Neither fact says how long a step takes on *this*
machine: that is measured.

    step_seconds[model, length, repeat]      one forward + backward on B pairs of L words
    per token = step seconds / (B * L)       L target words per pair

Generation is another matter: writing a translation is a loop of L decoder calls, one per word,
for both architectures (:func:`time_generation`).
"""
from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from attnkit.experiments.timing import TimingResult
from attnkit.transformer.model import build_transformer
from attnkit.translation.seq2seq import build_model, decode_batch, encode_batch
from attnkit.translation.toy_language import generate_sentence, translate

__all__ = ["STEP_MODELS", "toy_batch", "training_step", "time_training_steps", "time_generation"]

# name -> builder of a freshly initialised model: lesson 1's GRU with attention, lesson 7's Transformer
STEP_MODELS: dict[str, Callable[[int], nn.Module]] = {
    "gru": lambda seed: build_model("attention", 128, seed=seed),
    "transformer": lambda seed: build_transformer(seed=seed),
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
    models: Sequence[str] = tuple(STEP_MODELS),
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
        models: names from :data:`STEP_MODELS`.
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
