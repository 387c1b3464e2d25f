"""attnkit: the helper package of a course on attention mechanisms.

Shape legend, everywhere: B batch, H heads, L query length, S key/value length, D model width
(``d_model``), d_k / d_v per-head widths. Masks are boolean, True = may attend.

numpy or torch, one rule for every public function: the data arguments of one call (queries,
keys, values, weights, projections, biases) are all numpy arrays or all torch tensors, and the
result is of the same kind; mixing them raises ``AttentionShapeError`` naming each argument's
kind. Masks and lengths are the one exception: a numpy mask works with torch data (``causal_mask``
returns numpy) and is converted to the data's kind.

The core that learners rebuild is at the top of the package (``attention``, ``masks``, ``heads``,
``errors``, ``plotting``, ``diagrams``); lesson material lives in topic subpackages
(``translation``, ``library``, ``transformer``, ``experiments``) and graded exercises in
``grading``. Where the code behind each lesson lives (the same table as in README.md):

| lesson | core it builds on (`attnkit/`) | lesson material | activities and quiz |
|---|---|---|---|
| 1 bottleneck | `attention.py` (inside the attention model) | `translation/toy_language.py`, `translation/seq2seq.py`, `translation/training.py`, `translation/plots.py`, `translation/diagrams.py`, `library/retrieval.py` (cosine) | `activities.py`, `grading/content/exercises/lesson1_bottleneck.py`, `grading/content/exercises/q1_bottleneck.py` |
| 2 spotlight | `attention.py`, `plotting.py` | `translation/toy_language.py`, `translation/seq2seq.py`, `translation/scores.py`, `translation/training.py`, `translation/plots.py`, `translation/diagrams.py`, `experiments/temperature_scaling.py` | `activities.py`, `grading/content/exercises/lesson2_spotlight.py`, `grading/content/exercises/q2_spotlight.py` |
| 3 library | `attention.py`, `plotting.py` | `library/books.py`, `library/retrieval.py`, `library/diagrams.py`, `transformer/embeddings.py` | `activities.py`, `grading/content/exercises/lesson3_library.py`, `grading/content/exercises/q3_library.py` |
| 4 qkv math | `attention.py`, `masks.py`, `plotting.py`, `diagrams.py` | `experiments/temperature_scaling.py`, `experiments/plots.py` | `activities.py`, `grading/content/exercises/lesson4_qkv_math.py`, `grading/content/exercises/q4_qkv_math.py` |
| 5 self-attention | `attention.py`, `masks.py`, `plotting.py`, `diagrams.py` | `transformer/embeddings.py`, `transformer/minilm.py`, `transformer/head_patterns.py` | `activities.py`, `grading/content/exercises/lesson5_self_attention.py`, `grading/content/exercises/q5_self_attention.py` |
| 6 multi-head | `heads.py`, `attention.py`, `plotting.py`, `diagrams.py` | `transformer/minilm.py`, `transformer/embeddings.py`, `transformer/head_patterns.py`, `transformer/params.py`, `experiments/timing.py`, `experiments/arithmetic.py`, `experiments/plots.py` | `activities.py`, `grading/content/exercises/lesson6_multi_head.py`, `grading/content/exercises/q6_multi_head.py` |
| 7 transformer | `heads.py`, `masks.py`, `attention.py` | `transformer/positional.py`, `transformer/layers.py`, `transformer/model.py`, `transformer/figure.py`, `transformer/live_training.py`, `transformer/minilm.py`, `translation/training.py`, `translation/seq2seq.py`, `translation/toy_language.py`, `translation/plots.py` | `activities.py`, `grading/content/exercises/lesson7_transformer.py`, `grading/content/exercises/q7_transformer.py` |
| 8 training | `masks.py`, `plotting.py` | `transformer/model.py`, `transformer/training_speed.py`, `transformer/flops.py`, `transformer/minilm.py`, `transformer/params.py`, `translation/training.py`, `translation/seq2seq.py`, `translation/toy_language.py`, `translation/plots.py`, `experiments/timing.py`, `experiments/plots.py` | `activities.py`, `grading/content/exercises/lesson8_training.py`, `grading/content/exercises/q8_training.py` |
"""
from attnkit.accessible.display import enable as _show_figures_with_alt_text
from attnkit.attention import (
                               additive_scores,
                               attend,
                               attention_output,
                               dot_product_scores,
                               scaled_dot_product_attention,
                               softmax,
)
from attnkit.errors import AttentionShapeError
from attnkit.heads import MultiHeadAttention, merge_heads, multi_head_attention, split_heads
from attnkit.library.retrieval import cosine_similarity, hard_lookup, soft_lookup, top_k
from attnkit.masks import causal_mask, padding_mask
from attnkit.plotting import plot_attention, plot_spotlight
from attnkit.transformer.embeddings import embed
from attnkit.transformer.minilm import MiniLM, load_minilm
from attnkit.transformer.params import transformer_parameter_count

# inside Jupyter, every matplotlib figure is shown with its text alternative (attnkit.accessible)
_show_figures_with_alt_text()

__version__ = "0.1.0"

__all__ = [
    "AttentionShapeError",
    "MultiHeadAttention",
    "additive_scores",
    "attend",
    "attention_output",
    "causal_mask",
    "dot_product_scores",
    "merge_heads",
    "multi_head_attention",
    "padding_mask",
    "plot_attention",
    "plot_spotlight",
    "scaled_dot_product_attention",
    "softmax",
    "split_heads",
    "embed",
    "cosine_similarity",
    "hard_lookup",
    "soft_lookup",
    "top_k",
    "MiniLM",
    "load_minilm",
    "transformer_parameter_count",
]
