"""Lesson 7's activities: write the position-wise feed-forward network, predict the Transformer's
accuracy on the longest sentences and its training-step speed-up, turn the width of the
positional encoding.

Declared like a quiz's exercises (see :mod:`attnkit.grading.content.catalogue`); the lesson calls them
through :mod:`attnkit.activities`.
"""
from __future__ import annotations

import numpy as np

from attnkit.activities import Prediction
from attnkit.grading.content.catalogue import Bug, Case, Exercise, change

QUIZ = "lesson7"


def feed_forward(x, W_1, b_1, W_2, b_2):
    """FFN(x) = max(0, x W_1 + b_1) W_2 + b_2, the same two maps at every position: (B, L, D) -> (B, L, D)."""
    hidden = np.maximum(0.0, x @ W_1 + b_1)  # (B, L, D) -> (B, L, d_ff)
    return hidden @ W_2 + b_2  # (B, L, d_ff) -> (B, L, D)


def feed_forward_cases(seed: int) -> list[Case]:
    rng = np.random.default_rng(seed)
    D, d_ff = 4, 8
    weights = (rng.normal(size=(D, d_ff)), rng.normal(size=d_ff), rng.normal(size=(d_ff, D)), rng.normal(size=D))
    return [Case("x (2, 3, 4), W_1 (4, 8), b_1 (8,), W_2 (8, 4), b_2 (4,)", rng.normal(size=(2, 3, D)), *weights),
            Case("one position, x (1, 1, 4)", rng.normal(size=(1, 1, D)), *weights)]


_FFN = '''
def feed_forward(x, W_1, b_1, W_2, b_2):
    hidden = {hidden}
    return {output}
'''
_RIGHT = {"hidden": "np.maximum(0.0, x @ W_1 + b_1)", "output": "hidden @ W_2 + b_2"}

EXERCISES = [
    Exercise(
        "feed_forward", reference=feed_forward, cases=feed_forward_cases,
        bugs=[
            Bug("ffn_no_relu",
                "there is no ReLU between the two linear maps: two linear maps in a row are one linear map, "
                "so the block could learn nothing a single matrix could not.",
                change(_FFN, _RIGHT, hidden="x @ W_1 + b_1")),
            Bug("ffn_relu_on_output",
                "the ReLU was applied to the block's output: then no output entry can be negative. The "
                "ReLU sits between the two maps, on the d_ff-wide hidden layer.",
                change(_FFN, _RIGHT, output="np.maximum(0.0, hidden @ W_2 + b_2)")),
            Bug("ffn_no_bias",
                "a bias is missing: each linear map is x W + b, with b_1 (d_ff,) and b_2 (D,).",
                change(_FFN, _RIGHT, hidden="np.maximum(0.0, x @ W_1)")),
        ]),
]

PREDICTIONS = [
    Prediction("lesson7.transformer_longest",
               "the Transformer's token accuracy, in percent, on the longest test sentences (30 words), "
               "trained on the same pairs for the same number of steps as the GRUs",
               "Attention over all source states, with positions added, keeps the long sentences "
               "apart; the measured {measured:.1f}% compares with the GRU with attention's curve above.",
               unit="%", tolerance=10.0, solved=95.0),
    Prediction("lesson7.step_ratio",
               "how many times faster one training step (forward + backward) of the Transformer is than "
               "the GRU encoder-decoder's, at 300-word sentences, on this machine",
               "Both do comparable arithmetic per word; the GRU's 600 dependent steps (source, then "
               "target) cost per-step overhead the Transformer's few big matrix products avoid. "
               "Far from 100x on a CPU; a GPU widens the gap.",
               tolerance=0.6, relative=True, solved=2.0),
    Prediction("lesson7.self_dot",
               "with D_knob = 16: the dot product of a position's encoding with itself, PE[pos] . PE[pos], "
               "for any pos",
               "Each sin/cos pair gives sin^2 + cos^2 = 1, and there are D/2 pairs: every row has the same "
               "length, so positions differ only in direction.",
               tolerance=0.01, solved=8.0, knob=True),
]
