"""Head pattern scores and the token-to-token head finder, on hand-made and real attention maps."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.figure import Figure

from attnkit import AttentionShapeError
from attnkit.transformer.head_patterns import (
    PATTERNS,
    find_heads,
    pattern_scores,
    plot_head_grid,
    plot_pattern_maps,
    top_heads,
)

L = 7


def shifted(k: int) -> np.ndarray:
    """Each query puts all its weight on the token k places away (clipped at the ends)."""
    w = np.zeros((L, L))
    w[np.arange(L), np.clip(np.arange(L) + k, 0, L - 1)] = 1.0
    return w


def sink() -> np.ndarray:
    w = np.zeros((L, L))
    w[:, 0] = w[:, -1] = 0.5
    return w


@pytest.fixture
def maps():
    # layer 0: previous, next, same, sink; layer 1: uniform everywhere
    layer0 = np.stack([shifted(-1), shifted(+1), shifted(0), sink()])
    layer1 = np.full((4, L, L), 1 / L)
    return [np.stack([layer0, layer1])]  # one sentence, (layers=2, H=4, L, L)


def test_each_pattern_is_found_in_its_head(maps):
    scores = pattern_scores(maps)
    assert set(scores) == set(PATTERNS)
    for head, pattern in enumerate(PATTERNS):
        assert scores[pattern].shape == (2, 4)
        assert scores[pattern][0, head] == pytest.approx(1.0), pattern
        assert top_heads(scores, pattern, k=1)[0][:2] == (0, head)
        others = np.delete(scores[pattern][0], head)
        assert others.max() < 0.5, f"{pattern} leaks into another head"
    assert scores["previous word"][1] == pytest.approx(np.full(4, 1 / L))


def test_scores_average_over_sentences(maps):
    longer = np.zeros((2, 4, L + 2, L + 2))
    scores = pattern_scores(maps + [longer])
    assert scores["previous word"][0, 0] == pytest.approx(0.5)


def test_transposed_maps_swap_previous_and_next(maps):
    """A classic slip: keys on rows. Previous-word heads then read as next-word heads."""
    scores = pattern_scores([maps[0].swapaxes(-1, -2)])
    assert scores["next word"][0, 0] == pytest.approx(1.0)
    assert scores["previous word"][0, 0] < 0.5


def test_find_heads(maps):
    tokens = ["[CLS]", "the", "cat", "sat", "on", "it", "[SEP]"]
    found = find_heads(tokens, maps[0], "it", "on", threshold=0.5)
    assert [(m.layer, m.head) for m in found] == [(0, 0)]
    assert found[0].weight == pytest.approx(1.0)
    assert find_heads(tokens, maps[0], 5, 4, threshold=0.5) == found
    assert find_heads(tokens, maps[0], "it", "cat", threshold=0.5) == []
    with pytest.raises(ValueError, match="'dog' is not among the tokens"):
        find_heads(tokens, maps[0], "it", "dog")


def test_shape_errors(maps):
    with pytest.raises(AttentionShapeError, match="maps\\[0\\]"):
        pattern_scores([maps[0][0]])  # one layer's (H, L, L) instead of (layers, H, L, L)
    with pytest.raises(AttentionShapeError):
        pattern_scores([])
    with pytest.raises(AttentionShapeError, match="weights"):
        find_heads(["a", "b"], maps[0], 0, 1)  # tokens of another sentence


def test_plot_head_grid(maps):
    fig = plot_head_grid(maps[0], ["[CLS]", "a", "b", "c", "d", "e", "[SEP]"])
    assert isinstance(fig, Figure) and len(fig.axes) == 2 * 4
    assert len(plot_head_grid(maps[0], layers=[1]).axes) == 4
    plt.close("all")


def test_plot_pattern_maps_numbers_heads_and_layers_with_integers(maps):
    scores = pattern_scores(maps)  # (2 layers, 4 heads) per pattern
    fig = plot_pattern_maps(scores)
    fig.canvas.draw()
    maps_axes = fig.axes[:len(PATTERNS)]
    assert [ax.get_title() for ax in maps_axes] == list(PATTERNS)
    for ax in maps_axes:  # no fractional ticks such as 2.5 heads
        assert [t.get_text() for t in ax.get_xticklabels()] == ["0", "1", "2", "3"]
        assert list(ax.get_xticks()) == [0, 1, 2, 3] and list(ax.get_yticks()) == [0, 1]
    with pytest.raises(AttentionShapeError, match="same word"):
        plot_pattern_maps({**scores, "same word": scores["same word"][0]})
    plt.close("all")


def test_real_model_it_attends_to_animal():
    from attnkit.transformer.minilm import load_minilm

    tokens, weights = load_minilm().attention_maps(
        "The animal didn't cross the street because it was too tired.")
    found = [(m.layer, m.head) for m in find_heads(tokens, weights, "it", "animal", threshold=0.5)]
    assert (3, 1) in found and (5, 11) in found
