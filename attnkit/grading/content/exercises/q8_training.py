"""Quiz 8, training and generating with a Transformer: the paper's warm-up schedule, the arithmetic
of one decoder layer; questions on generation, fused attention and what grows with length."""
from __future__ import annotations

import numpy as np

from attnkit.grading.content.catalogue import ABC, Bug, Case, Exercise, Question, change

__all__ = ["EXERCISES", "QUESTIONS", "noam_learning_rate", "decoder_layer_multiply_adds"]


def noam_learning_rate(step, d_model, warmup_steps):
    """Reference: the paper's schedule (section 5.3), step counted from 1:
    lr = d_model^-0.5 * min(step^-0.5, step * warmup_steps^-1.5)."""
    step = np.asarray(step, dtype=float)
    return d_model ** -0.5 * np.minimum(step ** -0.5, step * warmup_steps ** -1.5)


def decoder_layer_multiply_adds(S, L, d_model, d_ff):
    """Reference: multiply-adds of one decoder layer's matrix products for one sentence pair:
    causal self-attention (4 projections, every L x L score computed), cross-attention (queries and
    output from the L target positions, keys and values from the S source words, L x S scores),
    the feed-forward network."""
    D = d_model
    self_attention = 4 * L * D * D + 2 * L * L * D
    cross_attention = 2 * L * D * D + 2 * S * D * D + 2 * L * S * D
    return self_attention + cross_attention + 2 * L * D * d_ff


def schedule_cases(seed: int) -> list[Case]:
    warmup = 4000 + 1000 * (seed % 3)
    return [Case(f"steps 1, 100, {warmup}, 20000 with d_model 512, warmup_steps {warmup}",
                 np.array([1, 100, warmup, 20000]), 512, warmup),
            Case("step 50, d_model 64, warmup_steps 10", 50, 64, 10)]


def count_cases(seed: int) -> list[Case]:
    return [Case("S = 7, L = 5, d_model = 8, d_ff = 32", 7, 5, 8, 32),
            Case(f"S = {20 + seed % 7}, L = 12, d_model = 64, d_ff = 256", 20 + seed % 7, 12, 64, 256)]


_SCHEDULE = '''
def noam_learning_rate(step, d_model, warmup_steps):
    step = np.asarray(step, dtype=float)
    return {scale} * {combine}
'''
_SCHEDULE_RIGHT = {"scale": "d_model ** -0.5", "combine": "np.minimum(step ** -0.5, step * warmup_steps ** -1.5)"}
_COUNT = '''
def decoder_layer_multiply_adds(S, L, d_model, d_ff):
    D = d_model
    self_attention = 4 * L * D * D + 2 * L * {self_keys} * D
    cross_attention = 2 * L * D * D + 2 * {cross_kv} * D * D + 2 * L * S * D
    return self_attention + cross_attention{ffn}
'''
_COUNT_RIGHT = {"self_keys": "L", "cross_kv": "S", "ffn": " + 2 * L * D * d_ff"}

EXERCISES = [
    Exercise("noam_learning_rate", reference=noam_learning_rate, cases=schedule_cases, rtol=1e-6, bugs=[
        Bug("schedule_no_warmup",
            "there is no warm-up: step^-0.5 alone starts at its largest value, exactly the large early "
            "steps warm-up avoids. The rate rises as step * warmup_steps^-1.5 until warmup_steps, then decays.",
            change(_SCHEDULE, _SCHEDULE_RIGHT, combine="step ** -0.5")),
        Bug("schedule_max",
            "the two branches are joined with max: the schedule takes the smaller of the rising and the "
            "decaying branch, so it peaks where they meet, at warmup_steps.",
            change(_SCHEDULE, _SCHEDULE_RIGHT, combine="np.maximum(step ** -0.5, step * warmup_steps ** -1.5)")),
        Bug("schedule_no_width",
            "the d_model^-0.5 factor is missing: wider models take smaller steps in the paper's schedule.",
            change(_SCHEDULE, _SCHEDULE_RIGHT, scale="1.0")),
    ]),
    Exercise("decoder_layer_multiply_adds", reference=decoder_layer_multiply_adds, cases=count_cases, bugs=[
        Bug("count_cross_kv_from_target",
            "cross-attention's keys and values were projected from the L target positions: they come from "
            "the encoder's memory, the S source words, so their projections cost S x D x D each.",
            change(_COUNT, _COUNT_RIGHT, cross_kv="L")),
        Bug("count_causal_half",
            "only the unmasked half of the self-attention scores was counted: the matrix product computes "
            "all L x L scores, and the mask hides half of them afterwards.",
            change(_COUNT, _COUNT_RIGHT, self_keys="(L + 1) / 2")),
        Bug("count_no_ffn",
            "the feed-forward network is missing: two maps per position, D x d_ff and d_ff x D.",
            change(_COUNT, _COUNT_RIGHT, ffn="")),
    ]),
]

QUESTIONS = [
    Question("q8_batch_calls", "revisit when a batch's generation loop stops, and that EOS is a word too."),
    Question("q8_uncached_positions", "count the prefix each decoder call reruns, BOS included."),
    Question("q8_fused_changes", "revisit what the fused kernel computes and what it does not keep.", ABC),
    Question("q8_longer_sentences", "revisit which term of each model's count grows with the length.", ABC),
]
