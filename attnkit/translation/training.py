"""Train, evaluate and store the translation models of lessons 1-2.

``train`` uses teacher forcing: at step t the decoder reads the true word t-1, and the loss is
the cross-entropy of its guess for word t. ``accuracy_by_length`` lets the model run free
(greedy decoding, its own guesses fed back) and scores it word by word against the reference.
"""
from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Sequence
from importlib import resources
from pathlib import Path

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from attnkit.transformer.model import TransformerSeq2Seq, build_transformer
from attnkit.translation.seq2seq import Seq2Seq, build_model, decode_batch, encode_batch
from attnkit.translation.toy_language import ADJECTIVES, DETERMINERS, NOUNS, alignment

__all__ = ["make_batches", "train", "token_accuracy", "accuracy_by_length", "accuracy_by_position",
           "alignment_agreement", "save_checkpoint",
           "load_checkpoint", "load_pretrained", "load_control_runs", "build_translator", "CHECKPOINTS", "EPOCHS"]

EPOCHS = 8  # passes over the training pairs, for every shipped checkpoint

# name -> (kind, d_model): the models that scripts/make_checkpoints.py trains and ships
CHECKPOINTS: dict[str, tuple[str, int]] = {
    "fixed_128": ("fixed", 128),
    "attention_128": ("attention", 128),
    "fixed_256": ("fixed", 256),
    "transformer_64": ("transformer", 64),  # lesson 7: 2 + 2 layers, 4 heads, d_ff 256 (build_transformer)
}


def build_translator(kind: str, d_model: int, seed: int = 0, **config) -> Seq2Seq | TransformerSeq2Seq:
    """A fresh model of any kind in ``CHECKPOINTS``: ``"fixed"``/``"attention"`` GRUs (lessons 1-2)
    or the ``"transformer"`` (lesson 7); ``config`` holds the other hyper-parameters."""
    if kind == "transformer":
        return build_transformer(d_model=d_model, seed=seed, **config)
    return build_model(kind, d_model, seed=seed, **config)


def make_batches(pairs: Sequence[tuple[str, str]], batch_size: int,
                 seed: int) -> list[list[tuple[str, str]]]:
    """Shuffled batches of pairs with the same source length (so no padding is wasted)."""
    rng = random.Random(seed)
    by_length: dict[int, list[tuple[str, str]]] = defaultdict(list)
    for pair in pairs:
        by_length[len(pair[0].split())].append(pair)
    batches = []
    for length in sorted(by_length):
        group = by_length[length]
        rng.shuffle(group)
        batches += [group[i: i + batch_size] for i in range(0, len(group), batch_size)]
    rng.shuffle(batches)
    return batches


def train(model: Seq2Seq, pairs: Sequence[tuple[str, str]], epochs: int = 10, batch_size: int = 64,
          lr: float = 2e-3, seed: int = 0, progress: bool = True) -> list[float]:
    """Teacher-forced training with Adam and gradient clipping; the same seed, the same model.

    loss = mean over target words of -log p(y_t | y_<t, source)

    Args:
        model: from ``build_model``; trained in place.
        pairs: (English, French) training pairs.
        epochs: passes over ``pairs``; each epoch reshuffles with ``seed + epoch``.
        batch_size: pairs per step; lr: Adam's learning rate.
        progress: show a tqdm progress bar with the running loss.

    Returns:
        The loss of every step, in order.
    """
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    loss_fn = nn.CrossEntropyLoss(ignore_index=model.tgt_vocab.pad_id)
    schedule = [make_batches(pairs, batch_size, seed + epoch) for epoch in range(epochs)]
    losses: list[float] = []
    model.train()
    with tqdm(total=sum(map(len, schedule)), disable=not progress, desc=f"{model.kind} D={model.d_model}") as bar:
        for batches in schedule:
            for batch in batches:
                src, src_lengths = encode_batch([e for e, _ in batch], model.src_vocab)
                tgt, _ = encode_batch([f for _, f in batch], model.tgt_vocab, bos=True, eos=True)
                tgt_in, tgt_out = tgt[:, :-1], tgt[:, 1:]  # (B, L+1) -> (B, L) each, shifted by one
                logits, _ = model(src, src_lengths, tgt_in)  # (B, L, V)
                loss = loss_fn(logits.reshape(-1, logits.shape[-1]), tgt_out.reshape(-1))  # (B*L, V)
                optimizer.zero_grad()
                loss.backward()
                nn.utils.clip_grad_norm_(model.parameters(), 1.0)
                optimizer.step()
                losses.append(loss.item())
                bar.update()
                if len(losses) % 20 == 0:
                    bar.set_postfix(loss=f"{sum(losses[-20:]) / 20:.3f}")
    model.eval()
    return losses


def token_accuracy(predicted: Sequence[str], reference: Sequence[str]) -> tuple[int, int]:
    """(correct, total): reference words matched at the same position; missing words are wrong."""
    return sum(p == r for p, r in zip(predicted, reference)), len(reference)


def accuracy_by_length(model: Seq2Seq, pairs: Sequence[tuple[str, str]], batch_size: int = 256,
                       temperature: float = 1.0) -> dict[int, float]:
    """Token accuracy of greedy translations, grouped by source length in words.

    Returns:
        ``{length: correct words / reference words}`` over all pairs of that length, sorted by length.
    """
    counts: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for batch in make_batches(pairs, batch_size, seed=0):
        src, src_lengths = encode_batch([e for e, _ in batch], model.src_vocab)
        tokens, _ = decode_batch(model, src, src_lengths, max_len=src.shape[1] + 2, temperature=temperature)
        for (_, french), row in zip(batch, tokens.tolist()):
            correct, total = token_accuracy(model.tgt_vocab.decode(row), french.split())
            counts[src.shape[1]][0] += correct
            counts[src.shape[1]][1] += total
    return {n: counts[n][0] / counts[n][1] for n in sorted(counts)}


def accuracy_by_position(model: Seq2Seq, pairs: Sequence[tuple[str, str]]) -> np.ndarray:
    """Share of greedy translations that get output word t right, for each position t.

    Args:
        pairs: pairs whose French sides all have the same length L_out.

    Returns:
        (L_out,) array; entry t = correct at position t / number of pairs.
    """
    lengths = {len(f.split()) for _, f in pairs}
    if len(lengths) != 1:
        raise ValueError(f"pairs have French lengths {sorted(lengths)} but expected one length: "
                         f"pick pairs of one length, e.g. [p for p in pairs if len(p[0].split()) == 30]")
    hits = np.zeros(lengths.pop())
    for batch in make_batches(pairs, 256, seed=0):
        src, src_lengths = encode_batch([e for e, _ in batch], model.src_vocab)
        tokens, _ = decode_batch(model, src, src_lengths, max_len=src.shape[1] + 2)
        for (_, french), row in zip(batch, tokens.tolist()):
            predicted = model.tgt_vocab.decode(row)
            hits += [t < len(predicted) and predicted[t] == w for t, w in enumerate(french.split())]
    return hits / len(pairs)


def _word_class(word: str) -> str:
    for name, words in (("determiner", DETERMINERS), ("adjective", ADJECTIVES), ("noun", NOUNS)):
        if word in words:
            return name
    return "other"


@torch.no_grad()
def alignment_agreement(model: Seq2Seq, pairs: Sequence[tuple[str, str]]) -> dict[str, dict[str, float]]:
    """How often the attention falls on the English word that each French word translates.

    The decoder is teacher-forced (it writes the reference), and for every output word t we ask:
    is ``argmax_s weights[t, s]`` the source word ``alignment(english)[t]``, and how much weight
    does that word get? Results are grouped by the class of the source word.

    Returns:
        ``{class: {"argmax": share of words whose top weight is the aligned word,
        "weight": mean weight on the aligned word, "count": number of words}}`` for the classes
        determiner, adjective, noun, other, and "all".
    """
    model.eval()
    tally: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0, 0])
    for batch in make_batches(pairs, 256, seed=0):
        src, src_lengths = encode_batch([e for e, _ in batch], model.src_vocab)
        tgt, _ = encode_batch([f for _, f in batch], model.tgt_vocab, bos=True, eos=True)
        _, weights = model(src, src_lengths, tgt[:, :-1])  # (B, L, S); row L-1 is EOS's
        for (english, _), w in zip(batch, weights.numpy()):
            words = english.split()
            for t, s in enumerate(alignment(english)):
                for name in (_word_class(words[s]), "all"):
                    tally[name][0] += float(w[t].argmax() == s)
                    tally[name][1] += float(w[t, s])
                    tally[name][2] += 1
    return {name: {"argmax": a / n, "weight": w / n, "count": n} for name, (a, w, n) in tally.items()}


# hyper-parameter names of checkpoints written before the model width got one name (d_model)
_RENAMED = {"hidden_size": "d_model", "embed_dim": "embedding_dim"}


def save_checkpoint(model: Seq2Seq | TransformerSeq2Seq, path: str | Path, half: bool = True,
                    training: dict | None = None) -> None:
    """Write the model's config and weights (as float16 when ``half``, to keep the file small);
    ``training`` (epochs, seed, ...) is stored alongside when given, so a test can compare it with
    the script that made the file."""
    state = {k: v.half() if half and v.is_floating_point() else v for k, v in model.state_dict().items()}
    torch.save({"config": model.config(), "state_dict": state, **({"training": training} if training else {})}, path)


def load_checkpoint(path: str | Path) -> Seq2Seq | TransformerSeq2Seq:
    """A model from a file written by ``save_checkpoint``, in float32 and eval mode."""
    saved = torch.load(path, map_location="cpu", weights_only=True)
    config = {_RENAMED.get(name, name): value for name, value in saved["config"].items()}
    model = build_translator(**config)
    model.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in saved["state_dict"].items()})
    return model.eval()


def load_pretrained(name: str) -> Seq2Seq | TransformerSeq2Seq:
    """One of the models shipped in ``attnkit/translation/checkpoints`` (see ``CHECKPOINTS``)."""
    if name not in CHECKPOINTS:
        raise ValueError(f"name is {name!r} but expected one of {sorted(CHECKPOINTS)}: "
                         f"run scripts/make_checkpoints.py to (re)make them")
    path = resources.files("attnkit.translation") / "checkpoints" / f"{name}.pt"
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint {name!r} is missing at {path}: run `make checkpoints` "
                                f"(scripts/make_checkpoints.py) or set RETRAIN = True in the lesson")
    with resources.as_file(path) as file:
        return load_checkpoint(file)


def load_control_runs() -> list[dict]:
    """The control runs of lesson 1, measured by ``scripts/control_runs.py`` (other seeds, and the
    fixed vector trained three times longer): one dict per run with ``kind``, ``d_model``,
    ``seed``, ``epochs``, ``seconds`` and ``accuracy_by_length`` ({length: token accuracy})."""
    import json

    path = resources.files("attnkit.translation") / "checkpoints" / "control_runs.json"
    if not path.is_file():
        raise FileNotFoundError(f"the control runs are missing at {path}: run scripts/control_runs.py")
    runs = json.loads(path.read_text())["runs"]
    for run in runs:
        run["accuracy_by_length"] = {int(n): a for n, a in run["accuracy_by_length"].items()}
    return runs
