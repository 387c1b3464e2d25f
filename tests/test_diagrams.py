"""The schematics of lessons 4-6: each returns a Figure with its labelled parts, in the legend's letters."""
import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.patches import Rectangle  # noqa: E402

from attnkit.diagrams import diagram_labels, draw_head_split, draw_masks, draw_qkv_pipeline, draw_self_attention  # noqa: E402


def _text(fig):
    return " | ".join(diagram_labels(fig))


def test_qkv_pipeline_names_every_matrix_with_its_shape():
    fig = draw_qkv_pipeline(L=4, S=3, d_k=2, d_v=5)
    assert isinstance(fig, Figure)
    labels = diagram_labels(fig)
    for part in ("Q", "K", "V", "scores", "weights", "output"):
        assert part in labels, f"the pipeline lacks the box {part!r}"
    text = _text(fig)
    for shape in ("(L, d_k) = (4, 2)", "(S, d_k) = (3, 2)", "(L, S) = (4, 3)", "(S, d_v) = (3, 5)",
                  "(L, d_v) = (4, 5)", "softmax over\neach row", r"\sqrt{d_k}"):
        assert shape in text, f"the pipeline lacks the label {shape!r}"
    plt.close(fig)


def test_qkv_pipeline_draws_each_matrix_at_its_shape():
    fig = draw_qkv_pipeline(L=4, S=3, d_k=2, d_v=2)
    cells = [p for p in fig.axes[0].patches if isinstance(p, Rectangle)]
    # Q 4x2, K 3x2, scores 4x3, weights 4x3, V 3x2, output 4x2
    assert len(cells) == 8 + 6 + 12 + 12 + 6 + 8
    plt.close(fig)


def test_masks_mark_true_false_and_the_all_masked_row():
    fig = draw_masks()
    assert isinstance(fig, Figure) and len(fig.axes) == 3
    text = _text(fig)
    for part in ("causal", "padding", "all masked", "queries i (L)", "keys j (S)"):
        assert part in text, f"the mask picture lacks {part!r}"
    assert "True (blue, T) = may attend" in fig._suptitle.get_text()
    plt.close(fig)


def test_masks_draw_the_given_mask_cell_by_cell():
    mask = np.array([[True, False], [False, False]])
    fig = draw_masks([("mine", mask)])
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert texts.count("T") == 1 and texts.count("F") == 3
    assert sum("all masked" in t for t in texts) == 1, "only row 1 has no allowed key"
    plt.close(fig)


def test_head_split_shows_each_heads_columns():
    fig = draw_head_split(L=4, D=12, H=3)
    text = _text(fig)
    for part in ("head 0", "head 1", "head 2", "cols 0..3", "cols 4..7", "cols 8..11", "split_heads",
                 "(L, D) = (L, H*d_k) = (4, 12)", "(H, L, d_k) = (3, 4, 4)", "(B, H, L, d_k)"):
        assert part in text, f"the head split lacks {part!r}"
    plt.close(fig)


def test_head_split_rejects_a_width_that_does_not_divide():
    with pytest.raises(ValueError, match="D = 10 must be a multiple of H = 3"):
        draw_head_split(D=10, H=3)


def test_self_attention_joins_every_query_to_every_key():
    words = ["the", "cat", "sat", "down"]
    weights = np.eye(4) * 0.7 + 0.075
    fig = draw_self_attention(words, weights)
    ax = fig.axes[0]
    assert len(ax.lines) == 16, "L x L lines, one per (query, key) pair"
    widths = np.array([line.get_linewidth() for line in ax.lines]).reshape(4, 4)
    assert (np.diag(widths) > widths[0, 1]).all(), "a larger weight draws a wider line"
    text = _text(fig)
    assert text.count("cat") == 2 and "XW_q" in text and "XW_k" in text
    plt.close(fig)


def test_self_attention_rejects_weights_of_the_wrong_shape():
    with pytest.raises(ValueError, match=r"expected \(L, L\) = \(2, 2\)"):
        draw_self_attention(["a", "b"], np.ones((2, 3)))
