"""Lesson 7's Figure 1, drawn by code: every block of the model is on it, with the course's letters."""
import matplotlib

matplotlib.use("Agg")

from attnkit.transformer.figure import draw_transformer  # noqa: E402


def test_figure_names_every_block_and_the_memory_arrow():
    fig = draw_transformer(num_layers=2, d_model=64)
    texts = [t.get_text() for t in fig.axes[0].texts]
    for needed in ("Masked multi-head self-attention\n(causal mask)", "Feed forward", "Add & Norm", "Linear",
                   "Softmax", "+ positional encoding", "memory (B, S, 64)", "2 x"):
        assert needed in texts, f"the figure should show {needed!r}"
    assert any("cross-attention" in t and "K = V = memory" in t for t in texts)
    assert texts.count("Add & Norm") == 5, "2 sublayers in the encoder layer, 3 in the decoder layer"
    matplotlib.pyplot.close(fig)
