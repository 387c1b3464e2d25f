"""attnkit.plotting: heatmaps put queries on rows and keys on columns, spotlights mark the best key."""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from attnkit import plot_attention, plot_spotlight  # noqa: E402
from attnkit.errors import AttentionShapeError  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.mark.parametrize("backend", ["numpy", "torch"])
def test_plot_attention_puts_queries_on_rows_and_keys_on_columns(backend):
    weights = np.array([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8]])  # (L=2, S=3)
    given = torch.from_numpy(weights) if backend == "torch" else weights
    ax = plot_attention(given, ["le", "chat"], ["the", "black", "cat"], title="t")
    np.testing.assert_array_equal(ax.images[0].get_array(), weights)
    assert [t.get_text() for t in ax.get_yticklabels()] == ["le", "chat"]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["the", "black", "cat"]
    assert "queries" in ax.get_ylabel() and "keys" in ax.get_xlabel() and ax.get_title() == "t"
    assert [t.get_text() for t in ax.texts] == ["0.70", "0.20", "0.10", "0.10", "0.10", "0.80"]


def test_plot_attention_draws_on_a_given_axes_and_skips_numbers_on_big_matrices():
    _, ax = plt.subplots()
    assert plot_attention(np.full((13, 13), 1 / 13), ax=ax) is ax
    assert len(ax.texts) == 0, "no numbers in cells beyond 12 x 12 by default"


def test_plot_attention_names_the_argument_that_does_not_fit():
    with pytest.raises(AttentionShapeError, match="weights"):
        plot_attention(np.ones((2, 3, 4)))
    with pytest.raises(ValueError, match="key_labels has 2 labels but weights has 3 columns"):
        plot_attention(np.ones((2, 3)), key_labels=["a", "b"])


def test_plot_spotlight_marks_the_key_with_the_most_weight():
    ax = plot_spotlight(np.array([0.1, 0.75, 0.15]), ["Key_1", "Key_2", "Key_3"])
    heights = [bar.get_height() for bar in ax.patches]
    np.testing.assert_allclose(heights, [0.1, 0.75, 0.15])
    colors = [bar.get_facecolor() for bar in ax.patches]
    assert colors[1] != colors[0] == colors[2], "the best key stands out"
    assert [t.get_text() for t in ax.texts] == ["10%", "75%", "15%"]
    with pytest.raises(ValueError, match="key_labels has 1 labels but weights_row has 3"):
        plot_spotlight(np.array([0.1, 0.75, 0.15]), ["a"])
