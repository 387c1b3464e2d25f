"""The catalogue of typical bugs: what learners get wrong in each quiz, and what feedback they get.

Every entry names a misconception, the quiz and exercise (the function the learner writes, which
is also the nbgrader ``grade_id`` of its solution cell), the message the checks print when they
recognise it, and a buggy implementation. The implementation serves twice:

* :mod:`attnkit.grading.checks` runs it on the same inputs as the learner's function; if the
  learner's output matches the buggy output (and not the right one), the check raises this
  entry's message. Messages name the mistake and point at the idea, never at the answer.
* the tests inject it into the solution notebook (:func:`inject`) and prove that nbgrader takes
  points off and that the feedback names the misconception.

List the catalogue with ``python -m attnkit.grading.bugs``.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable

import nbformat
import numpy as np
import torch

from attnkit.attention import scaled_dot_product_attention, softmax
from attnkit.grading.bug_sources import SOURCES

__all__ = ["Bug", "BUGS", "bugs_for", "buggy_function", "inject"]


@dataclass(frozen=True)
class Bug:
    """One typical mistake.

    Attributes:
        id: short name, e.g. ``"sdpa_no_scale"``.
        quiz: the quiz id, e.g. ``"q4_qkv_math"``.
        exercise: the function the learner writes (the solution cell's nbgrader ``grade_id``).
        message: the feedback: names the misconception, does not reveal the answer.
        source: a complete buggy definition of ``exercise`` (it replaces the solution cell).
    """

    id: str
    quiz: str
    exercise: str
    message: str

    @property
    def source(self) -> str:
        return SOURCES[self.id]


_CATALOGUE = [
    # q1: the RNN bottleneck
    ("rnn_no_recurrence", "q1_bottleneck", "rnn_forward",
     "each new state ignores the previous one: without the h_{t-1} @ W_hh term the 'recurrent' network "
     "forgets everything but the current word, so the final state is not a summary of the sentence."),
    ("rnn_returns_first_state", "q1_bottleneck", "rnn_forward",
     "the state you return as final is the one after the first word, not after the last: the encoder's "
     "summary is the state it ends with."),
    ("rnn_no_tanh", "q1_bottleneck", "rnn_forward",
     "the state update has no squashing nonlinearity: h_t = tanh(...) keeps every state entry in (-1, 1); "
     "without it the states are linear in the inputs and can grow without bound."),
    ("influence_last_word", "q1_bottleneck", "first_word_influence",
     "you nudged the last word, not the first: the question is how much the first word still moves the "
     "final state after the whole sentence has been read."),
    # q2: the spotlight (weights, context vector, alignment)
    ("weights_wrong_axis", "q2_spotlight", "attention_weights",
     "softmax ran over the output words: each output word's spotlight must be shared among the source "
     "words, so the weights of one output word (one row) must sum to 1."),
    ("weights_linear_normalisation", "q2_spotlight", "attention_weights",
     "the scores were divided by their sum instead of going through softmax: that breaks for negative or "
     "zero-sum scores and does not sharpen the spotlight; softmax exponentiates first."),
    ("context_weights_transposed", "q2_spotlight", "context_vectors",
     "the weights were used transposed: output word i's context vector mixes the source values with "
     "row i of the weights (its weights over source words)."),
    ("alignment_wrong_axis", "q2_spotlight", "alignment",
     "the argmax ran over the output words: for each output word you want the source word that gets the "
     "largest share of its spotlight (the best position in its own row)."),
    # q3: the library (vector search and soft lookup)
    ("cosine_not_normalised", "q3_library", "cosine_similarity",
     "this is a raw dot product: cosine similarity divides by both vectors' lengths, so a long vector "
     "does not win just by being long and the result stays in [-1, 1]."),
    ("top_k_ascending", "q3_library", "top_k",
     "these are the least similar keys: vector search wants the k highest scores, best first."),
    ("temperature_multiplied", "q3_library", "soft_lookup",
     "the scores were multiplied by the temperature: a low temperature must make the lookup sharper "
     "(closer to picking one book), so the scores are divided by it."),
    # q4: the query-key-value math
    ("softmax_no_max_subtraction", "q4_qkv_math", "softmax",
     "exp overflows for large scores (exp(1000) is inf, and inf / inf is NaN): softmax does not change "
     "when the same number is subtracted from every entry, so shift the scores before exponentiating."),
    ("softmax_global_sum", "q4_qkv_math", "softmax",
     "the exponentials were divided by the sum over the whole array: softmax normalises along one axis, "
     "so every slice along `axis` sums to 1 on its own."),
    ("softmax_ignores_axis", "q4_qkv_math", "softmax",
     "the `axis` argument is ignored: softmax(x, axis=0) must normalise along axis 0."),
    ("softmax_builtin", "q4_qkv_math", "softmax",
     "this calls a library softmax (attnkit's, torch's or scipy's): the exercise is to write the "
     "exponentials and the normalisation yourself, so it earns no credit."),
    ("sdpa_no_scale", "q4_qkv_math", "scaled_dot_product_attention",
     "the scores are not scaled: dot products of d_k-dimensional vectors grow with d_k, and unscaled "
     "scores push softmax towards one-hot weights. Which quantity keeps their spread near 1?"),
    ("sdpa_scale_by_d_k", "q4_qkv_math", "scaled_dot_product_attention",
     "the scores were divided by d_k itself: a dot product of d_k unit-variance terms has variance d_k, "
     "so dividing by d_k over-shrinks them and flattens the weights. Think of the standard deviation."),
    ("sdpa_softmax_wrong_axis", "q4_qkv_math", "scaled_dot_product_attention",
     "softmax ran over the queries (axis -2): each query distributes its attention over the keys, so "
     "each row of the weights (one query, all keys) must sum to 1."),
    ("mask_polarity_flipped", "q4_qkv_math", "scaled_dot_product_attention",
     "the mask polarity is flipped: True in the mask means 'this query may attend to this key', so "
     "the positions to block are where the mask is False."),
    ("mask_finite_fill", "q4_qkv_math", "scaled_dot_product_attention",
     "masked keys still get weight when a query's keys are all masked: a finite fill such as -1e9 "
     "leaves softmax something to spread (uniform weights over masked keys). Fill with -inf and give "
     "an all-masked row zero weights and a zero output."),
    ("weights_transposed", "q4_qkv_math", "scaled_dot_product_attention",
     "the weights come out transposed: rows are queries (L) and columns are keys (S), so weights[i, j] "
     "is how much query i attends to key j, and output = weights @ value."),
    ("returns_weights_as_output", "q4_qkv_math", "scaled_dot_product_attention",
     "the pair is in the wrong order: attention returns (output, weights), output first: the weighted "
     "sum of the values is the result, the weights explain it."),
    ("builtin_attention", "q4_qkv_math", "scaled_dot_product_attention",
     "this calls a ready-made attention function (attnkit's or torch's): the exercise is to write the "
     "scores, the mask, the softmax and the weighted sum yourself, so it earns no credit."),
    # q5: self-attention
    ("causal_mask_future", "q5_self_attention", "causal_mask",
     "this mask lets each token see the future and hides the past: a causal mask allows a query "
     "position i to attend to key positions j <= i (on and below the diagonal)."),
    ("causal_mask_no_diagonal", "q5_self_attention", "causal_mask",
     "each token is hidden from itself: a causal mask only hides the future, a token may always "
     "attend to its own position (the diagonal)."),
    ("self_attention_no_projection", "q5_self_attention", "self_attention",
     "queries, keys and values are the raw inputs: self-attention first projects x three ways "
     "(x @ W_q, x @ W_k, x @ W_v), which is what lets it learn what to look for."),
    ("self_attention_shared_projection", "q5_self_attention", "self_attention",
     "one projection was used for two roles: queries, keys and values each have their own matrix, "
     "so what a token looks for can differ from what it offers."),
    ("mask_after_softmax", "q5_self_attention", "causal_self_attention",
     "the mask was applied after softmax: zeroing weights afterwards leaves rows that no longer sum "
     "to 1; mask the scores before softmax so the allowed keys share all the weight."),
    # q6: multi-head attention
    ("split_heads_no_transpose", "q6_multi_head", "split_heads",
     "the width was reshaped straight into (B, H, L, d_k): that fills each head with pieces of several "
     "tokens, while a head must get its own slice of every token's width (all L tokens, d_k columns)."),
    ("merge_heads_interleaved", "q6_multi_head", "merge_heads",
     "the heads were merged in the wrong order: head h's d_k columns must end up side by side "
     "(block h of the width), as split_heads cut them."),
    ("mha_no_output_projection", "q6_multi_head", "multi_head_attention",
     "the concatenated heads are returned as they are: multi-head attention ends with the output "
     "projection W_o, which mixes what the heads found."),
    ("mha_scale_by_d_model", "q6_multi_head", "multi_head_attention",
     "the scores were scaled with the model width D: each head compares d_k = D / H dimensional "
     "vectors, so the scale comes from the per-head width."),
    ("mha_builtin", "q6_multi_head", "multi_head_attention",
     "this calls a ready-made multi-head attention (attnkit's or torch's): the exercise is to project, "
     "split, attend, merge and project yourself, so it earns no credit."),
    ("padding_mask_ignored", "q6_multi_head", "minilm_attention",
     "the mask is ignored: in a padded batch the real tokens then attend to [PAD] tokens, and the "
     "embeddings of shorter sentences change. True in the mask means 'may attend'."),
]

BUGS: dict[str, Bug] = {entry[0]: Bug(*entry) for entry in _CATALOGUE}


def bugs_for(quiz: str, exercise: str | None = None) -> list[Bug]:
    """The catalogued bugs of one quiz (and, if given, one exercise), in catalogue order."""
    return [b for b in BUGS.values() if b.quiz == quiz and exercise in (None, b.exercise)]


def buggy_function(bug_id: str, namespace: dict[str, Any] | None = None) -> Callable[..., Any]:
    """Define the buggy implementation of ``bug_id`` and return it.

    Args:
        bug_id: a key of :data:`BUGS`.
        namespace: extra globals the source may use (for example a learner's ``softmax``);
            ``np``, ``torch``, ``math`` and attnkit's ``softmax`` and
            ``scaled_dot_product_attention`` are always there (the quizzes' setup cells import them).
    """
    bug = BUGS[bug_id]
    scope: dict[str, Any] = {"np": np, "torch": torch, "math": math, "softmax": softmax,
                             "scaled_dot_product_attention": scaled_dot_product_attention,
                             **(namespace or {})}
    exec(compile(bug.source, f"<bug {bug_id}>", "exec"), scope)  # noqa: S102 (our own catalogue)
    return scope[bug.exercise]


def inject(nb: nbformat.NotebookNode, bug_ids: list[str]) -> nbformat.NotebookNode:
    """A copy of ``nb`` with each bug's source in place of its exercise's solution cell.

    Raises:
        KeyError: an exercise has no solution cell in ``nb``, or two bugs hit the same exercise.
    """
    nb = nbformat.from_dict(nb)
    cells = {c.metadata.get("nbgrader", {}).get("grade_id"): c for c in nb.cells}
    hit: set[str] = set()
    for bug_id in bug_ids:
        bug = BUGS[bug_id]
        if bug.exercise not in cells or bug.exercise in hit:
            raise KeyError(f"cannot inject {bug_id!r}: no free solution cell {bug.exercise!r}")
        cells[bug.exercise].source = bug.source.strip("\n")
        hit.add(bug.exercise)
    return nb


if __name__ == "__main__":
    for bug in BUGS.values():
        print(f"{bug.quiz:18} {bug.exercise:30} {bug.id}\n    {bug.message}\n")
