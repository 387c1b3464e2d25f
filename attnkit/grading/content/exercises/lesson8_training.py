"""Lesson 8's activities: write greedy decoding (one word per decoder call), predict the
Transformer's accuracy on the longest sentences and its training-step speed-up, turn the sentence
length to find where the Transformer's arithmetic per word pulls away from the GRU's.

Declared like a quiz's exercises (see :mod:`attnkit.grading.content.catalogue`); the lesson calls them
through :mod:`attnkit.activities`.
"""
from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import torch

from attnkit.activities import Prediction
from attnkit.grading.content.catalogue import Bug, Case, Exercise, change
from attnkit.masks import padding_mask
from attnkit.translation.toy_language import Vocab

QUIZ = "lesson8"


def greedy_translate(model, src, src_lengths, max_len):
    """Greedy decoding of one sentence, src (1, S): the word ids written, EOS included, at most max_len."""
    memory, _ = model.encoder(src, src_lengths)  # (1, S, D): the encoder runs once
    mask = padding_mask(src_lengths, src.shape[1])  # (1, 1, S)
    written = torch.tensor([[Vocab.bos_id]])  # (1, 1): the prefix so far, BOS first
    for _ in range(max_len):
        logits, _ = model.decoder(written, memory, mask)  # (1, t, V): the decoder reruns on the prefix
        word = logits[:, -1].argmax(dim=-1)  # (1,): the last position predicts the next word
        written = torch.cat([written, word[:, None]], dim=1)  # (1, t + 1)
        if word.item() == Vocab.eos_id:
            break
    return written[0, 1:]  # (T,): without BOS


@functools.cache
def _shipped() -> Any:
    from attnkit.translation.training import load_pretrained

    return load_pretrained("transformer_64")


def with_shipped_model(fn: Callable[..., Any] | None) -> Callable[..., Any]:
    """What the greedy_translate cases call: ``fn(model, src, src_lengths, max_len)`` with the shipped Transformer."""
    fn = greedy_translate if fn is None else fn

    def run(sentence: str, max_len: int):
        model = _shipped()
        src = torch.tensor([model.src_vocab.encode(sentence)])  # (1, S)
        with torch.no_grad():
            return fn(model, src, torch.tensor([src.shape[1]]), max_len)
    return run


def greedy_cases(seed: int) -> list[Case]:
    sentences = ["the black cat sat", "a small dog ran over the big white bridge",
                 "the red bird slept under the old table"]
    return [Case(f"'{s}', max_len {len(s.split()) + 3}", s, len(s.split()) + 3)
            for s in sentences[seed % 2:] + sentences[:seed % 2]] + \
        [Case("'the black cat sat', max_len 2 (cut short)", "the black cat sat", 2)]


_GREEDY = '''
def greedy_translate(model, src, src_lengths, max_len):
    memory, _ = model.encoder(src, src_lengths)
    mask = padding_mask(src_lengths, src.shape[1])
    written = torch.tensor([[Vocab.bos_id]])
    for _ in range(max_len):
        logits, _ = model.decoder({prefix}, memory, mask)
        word = logits[:, {position}].argmax(dim=-1)
        written = torch.cat([written, word[:, None]], dim=1)
        {stop}
    return written[0, 1:]
'''
_GREEDY_RIGHT = {"prefix": "written", "position": "-1", "stop": "if word.item() == Vocab.eos_id:\n            break"}
_REPLACEMENTS = {"padding_mask": "attnkit.masks.padding_mask", "Vocab": "attnkit.translation.toy_language.Vocab"}

EXERCISES = [
    Exercise(
        "greedy_translate", reference=greedy_translate, cases=greedy_cases, adapter=f"{__name__}.with_shipped_model",
        backend="torch", replacements=_REPLACEMENTS,
        bugs=[
            Bug("greedy_first_position",
                "the next word is read from the first position's logits: position t of the decoder's output "
                "predicts word t + 1, so the newest word comes from the last position, logits[:, -1].",
                change(_GREEDY, _GREEDY_RIGHT, position="0")),
            Bug("greedy_last_word_only",
                "only the newest word is fed to the decoder, as a GRU's step would take it: the Transformer's "
                "decoder keeps no state between calls, so each call must read the whole prefix written so far "
                "(BOS and every word chosen).",
                change(_GREEDY, _GREEDY_RIGHT, prefix="written[:, -1:]")),
            Bug("greedy_no_stop",
                "it keeps writing after EOS: the translation ends at the first EOS (include it, then stop).",
                change(_GREEDY, _GREEDY_RIGHT, stop="pass")),
        ]),
]

PREDICTIONS = [
    Prediction("lesson8.transformer_longest",
               "the shipped Transformer's token accuracy, in percent, on the longest test sentences (30 words), "
               "trained on the same pairs for the same number of steps as the GRUs",
               "Attention over all source states, with positions added, keeps the long sentences "
               "apart; the measured {measured:.1f}% compares with the GRU with attention's curve above.",
               unit="%", tolerance=10.0, solved=95.0),
    Prediction("lesson8.step_ratio",
               "how many times faster one training step (forward + backward) of the Transformer is than "
               "the GRU encoder-decoder's, at 300-word sentences, on this machine",
               "The GRU's 600 dependent steps (source, then target) each pay the overhead of small "
               "operations that wait for the last; the Transformer's step is a few big matrix products. "
               "Section 4 counts the arithmetic of both.",
               tolerance=0.6, relative=True, solved=4.0),
    Prediction("lesson8.arithmetic_ratio",
               "the smallest sentence length L (in steps of 50 words) at which one forward pass of the "
               "Transformer does at least 1.5 times the GRU's arithmetic",
               "The Transformer's attention grows as L x S, the GRU's work per word stays nearly constant; "
               "at {measured:.0f} words the quadratic term has caught up by half.",
               tolerance=0.0, solved=350.0, knob=True),
]
