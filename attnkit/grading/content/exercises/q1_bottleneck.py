"""Quiz 1, the RNN bottleneck: the RNN loop, and how much the first word still moves the final state."""
from __future__ import annotations

import numpy as np

from attnkit.grading.content.catalogue import ABC, Bug, Case, Exercise, Question, change

__all__ = ["EXERCISES", "QUESTIONS", "rnn_forward", "first_word_influence"]


def rnn_forward(inputs: np.ndarray, W_xh: np.ndarray, W_hh: np.ndarray, b: np.ndarray,
                h0: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Reference: h_t = tanh(x_t W_xh + h_{t-1} W_hh + b); returns (h_L (d_h,), states (L, d_h))."""
    h = np.zeros(W_hh.shape[0]) if h0 is None else np.asarray(h0, dtype=float)
    states = []
    for x_t in inputs:  # one word at a time: (d_in,)
        h = np.tanh(x_t @ W_xh + h @ W_hh + b)  # (d_h,)
        states.append(h)
    return h, np.stack(states)  # (d_h,), (L, d_h)


def first_word_influence(inputs: np.ndarray, W_xh: np.ndarray, W_hh: np.ndarray, b: np.ndarray,
                         eps: float = 1e-6) -> float:
    """Reference: |h_L(inputs with inputs[0] + eps) - h_L(inputs)| / eps."""
    nudged = np.array(inputs, dtype=float)
    nudged[0] += eps
    return float(np.linalg.norm(rnn_forward(nudged, W_xh, W_hh, b)[0]
                                - rnn_forward(inputs, W_xh, W_hh, b)[0]) / eps)


def rnn_cases(seed: int) -> list[Case]:
    rng = np.random.default_rng(seed)
    d_in, d_h = 3, 4
    W_xh, W_hh, b = rng.normal(size=(d_in, d_h)), rng.normal(size=(d_h, d_h)) * 0.6, rng.normal(size=d_h) * 0.3
    return [Case("a 6-word sentence, h0 = None", rng.normal(size=(6, d_in)), W_xh, W_hh, b),
            Case("a 3-word sentence with a given h0", rng.normal(size=(3, d_in)), W_xh, W_hh, b,
                 h0=rng.normal(size=d_h) * 0.5)]


def influence_cases(seed: int) -> list[Case]:
    case = rnn_cases(seed)[0]
    return [Case(case.description, *case.args)]


RNN = '''
def rnn_forward(inputs, W_xh, W_hh, b, h0=None):
    h = np.zeros(W_hh.shape[0]) if h0 is None else np.asarray(h0, dtype=float)
    states = []
    for x_t in inputs:
        h = {update}
        states.append(h)
    return {final}, np.stack(states)
'''
RNN_RIGHT = dict(update="np.tanh(x_t @ W_xh + h @ W_hh + b)", final="h")

EXERCISES = [
    Exercise("rnn_forward", reference=rnn_forward, cases=rnn_cases, bugs=[
        Bug("rnn_no_recurrence",
            "each new state ignores the previous one: without the h_{t-1} @ W_hh term the 'recurrent' "
            "network forgets everything but the current word, so the final state is not a summary of "
            "the sentence.",
            change(RNN, RNN_RIGHT, update="np.tanh(x_t @ W_xh + b)")),
        Bug("rnn_returns_first_state",
            "the state you return as final is the one after the first word, not after the last: the "
            "encoder's summary is the state it ends with.",
            change(RNN, RNN_RIGHT, final="states[0]")),
        Bug("rnn_no_tanh",
            "the state update has no squashing nonlinearity: h_t = tanh(...) keeps every state entry in "
            "(-1, 1); without it the states are linear in the inputs and can grow without bound.",
            change(RNN, RNN_RIGHT, update="x_t @ W_xh + h @ W_hh + b")),
    ]),
    Exercise("first_word_influence", reference=first_word_influence, cases=influence_cases, rtol=1e-4,
             replacements={"rnn_forward": "attnkit.grading.content.exercises.q1_bottleneck.rnn_forward"}, bugs=[
        Bug("influence_last_word",
            "you nudged the last word, not the first: the question is how much the first word still "
            "moves the final state after the whole sentence has been read.", '''
def first_word_influence(inputs, W_xh, W_hh, b, eps=1e-6):
    nudged = np.array(inputs, dtype=float)
    nudged[-1] += eps
    h_final, _ = rnn_forward(inputs, W_xh, W_hh, b)
    h_nudged, _ = rnn_forward(nudged, W_xh, W_hh, b)
    return float(np.linalg.norm(h_nudged - h_final) / eps)
'''),
    ]),
]

QUESTIONS = [
    Question("q1_attention_numbers", "the attention decoder keeps one state per source word; count the numbers of "
                                     "each state, then of all of them.", tolerance=0.5),
    Question("q1_bidirectional_steps", "revisit which steps of a recurrent encoder wait for which.", tolerance=0.5),
    Question("q1_why_fade", "revisit where lesson 1's fixed-vector model made its errors, and how its encoder "
                            "reads a sentence.", ABC),
    Question("q1_shifted_accuracy", "revisit how token_accuracy compares a translation with its reference.",
             tolerance=0.01),
]
