"""Conceptual questions: the form each answer takes and what each typical wrong answer means.

A quiz asks a question in Markdown and the learner stores the answer in a variable. The visible
test calls ``check_choice(answer, question_id)`` or ``check_number(answer, question_id)`` without
an expected value: that only checks the answer's form (one of the options, a finite number). The
hidden test passes ``expected=``; a wrong answer then fails with the misconception recorded here
for that answer, or with the question's general hint.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Question", "QUESTIONS", "check_choice", "check_number"]


@dataclass(frozen=True)
class Question:
    """A conceptual question. ``wrong`` maps typical wrong answers to what they reveal."""

    id: str
    hint: str
    options: tuple[str, ...] = ()
    wrong: dict[Any, str] = field(default_factory=dict)
    tolerance: float = 0.0


_QUESTIONS = [
    # q1
    Question("q1_decoder_numbers", "the decoder of a plain RNN encoder-decoder sees only the final hidden state.",
             wrong={12: "12 counts the words; the decoder gets the numbers of one hidden state, whatever the length.",
                    6144: "12 x 512 would be every state; the plain encoder hands over only the last one."}),
    Question("q1_sequential_steps", "an RNN reads one word per step, and each step needs the previous state.",
             wrong={1: "one step is what attention needs; an RNN's step t waits for step t - 1."}),
    Question("q1_why_fade", "think of what happens to the first word's trace at every later step.",
             options=("a", "b", "c"),
             wrong={"b": "the vocabulary size does not limit memory; the fixed-size state rewritten at every step does.",
                    "c": "the encoder does read every word; the early ones are overwritten, not skipped."}),
    # q2
    Question("q2_weights_sum", "the weights of one output word are a softmax over the source words.",
             wrong={4: "that is the number of source words; the weights are shares of one spotlight.",
                    400: "percentages of one spotlight add up to 100%, which as a fraction is 1."}),
    Question("q2_word_order", "the weights are computed afresh for every output word, from content.",
             options=("a", "b", "c"),
             wrong={"a": "attention does not need the same word order: each output word scores every source word.",
                    "c": "position alone would give the same pattern for every sentence; the weights come from content."}),
    Question("q2_weights_origin", "nobody writes the alignment rules down.",
             options=("a", "b", "c"),
             wrong={"a": "there are no hand-written alignment rules; the spotlight emerges from training data.",
                    "c": "the weights are not random: trained on data, they put the spotlight on the relevant word."}),
    # q3
    Question("q3_cold_limit", "divide the scores by a tiny temperature and look at what softmax does.",
             options=("a", "b", "c"),
             wrong={"b": "the average of all values is the hot limit; a cold softmax sharpens onto one key.",
                    "c": "soft lookup stays deterministic at every temperature."}),
    Question("q3_hot_limit", "divide the scores by a huge temperature: they all become nearly 0.",
             options=("a", "b", "c"),
             wrong={"a": "a single best book is the cold limit; a hot softmax spreads the weight evenly.",
                    "c": "the weights always sum to 1, so the output stays a weighted average of the values."}),
    Question("q3_cosine_scaled", "cosine similarity ignores vector length.", tolerance=1e-6,
             wrong={3: "3 is the length ratio; cosine divides both lengths out.",
                    -1: "-1 is for opposite directions; 3 * v points the same way as v."}),
    # q4
    Question("q4_true_softmax", "softmax(s)_i = exp(s_i) / sum_j exp(s_j); compute it, do not estimate it.",
             tolerance=0.5,
             wrong={75: "75% is the newsletter's figure, not what softmax of 0.2, 0.9, 0.1 gives: the gaps between "
                        "the scores are small, so the weights stay close together.",
                    0.514: "that looks like a fraction; the question asks for percent."}),
    Question("q4_softmax_axis", "each query shares out its attention among the keys.", options=("a", "b", "c"),
             wrong={"a": "normalising over the queries makes each key's column sum to 1; a query's row must.",
                    "c": "one sum over the whole matrix would make queries compete for attention."}),
    Question("q4_scale_divisor", "the dot product of d_k unit-variance terms has variance d_k.", tolerance=1e-6,
             wrong={64: "dividing by d_k shrinks the scores too much; the scale undoes the standard deviation.",
                    1: "without scaling, scores grow with d_k and softmax saturates."}),
    # q5
    Question("q5_score_count", "every query position is scored against every key position.",
             wrong={1000: "that is one score per token; self-attention scores every pair.",
                    999000: "a token also scores itself: the diagonal counts."}),
    Question("q5_causal_rule", "a causal model must not read the future, but may read the present.",
             options=("a", "b", "c"),
             wrong={"b": "j < i hides each token from itself; only the future is hidden.",
                    "c": "attending to every j lets a token see the words it is supposed to predict."}),
    Question("q5_parallel_steps", "the scores of all positions are one matrix product.",
             wrong={1000: "1000 steps is the RNN; self-attention computes all positions at once."}),
    # q6
    Question("q6_num_heads", "read num_attention_heads in MiniLM's config.json.",
             wrong={8: "8 is the original Transformer's count; MiniLM's config says otherwise.",
                    6: "6 is MiniLM's number of layers, not of heads per layer."}),
    Question("q6_head_width", "d_k = D / H, with D = hidden_size.",
             wrong={384: "384 is the whole model width D; each head gets a slice of it.",
                    64: "64 is BERT-base's head width; MiniLM's width and head count differ."}),
    Question("q6_combine_heads", "the heads' outputs are placed side by side, then mixed.", options=("a", "b", "c"),
             wrong={"a": "averaging would blur the heads together; they are concatenated, then projected.",
                    "c": "no head is picked: all heads contribute, concatenated then projected by W_o."}),
]

QUESTIONS: dict[str, Question] = {q.id: q for q in _QUESTIONS}


def _fail(message: str) -> None:
    __tracebackhide__ = True
    raise AssertionError(message)


def check_choice(answer: Any, question_id: str, expected: str | None = None) -> None:
    """Check a multiple-choice answer: its form always, its value when ``expected`` is given."""
    __tracebackhide__ = True
    q = QUESTIONS[question_id]
    given = answer.strip().lower() if isinstance(answer, str) else answer
    if given not in q.options:
        _fail(f"{question_id}: answer with one of {', '.join(repr(o) for o in q.options)} (a string), "
              f"not {answer!r}")
    if expected is not None and given != expected:
        _fail(f"{question_id}: {q.wrong.get(given, 'not quite: ' + q.hint)}")


def check_number(answer: Any, question_id: str, expected: float | None = None,
                 tolerance: float | None = None) -> None:
    """Check a numeric answer: a finite number always, within ``tolerance`` of ``expected`` when given."""
    __tracebackhide__ = True
    q = QUESTIONS[question_id]
    try:
        value = float(answer)
    except (TypeError, ValueError):
        value = math.nan
    if isinstance(answer, bool) or not math.isfinite(value):
        _fail(f"{question_id}: answer with a finite number, not {answer!r}")
    if expected is None:
        return
    tol = q.tolerance if tolerance is None else tolerance
    if abs(value - float(expected)) > max(tol, 1e-9 * abs(float(expected))):
        near = [msg for wrong, msg in q.wrong.items() if abs(value - wrong) <= max(tol, 1e-9 * abs(wrong))]
        _fail(f"{question_id}: {near[0] if near else 'not quite: ' + q.hint}")
