"""The pictures and the explorer of lessons 1-2 draw what they are given and survive bad input."""
import matplotlib.pyplot as plt
import numpy as np
import pytest

from attnkit.translation.plots import plot_accuracy_curves, plot_spotlights, spotlight_explorer
from attnkit.translation.seq2seq import greedy_decode
from attnkit.translation.training import load_pretrained


@pytest.fixture(scope="module")
def attention():
    return load_pretrained("attention_128")


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def test_accuracy_curves_draw_one_line_per_model_in_length_order():
    curves = {"fixed": {5: 0.9, 3: 1.0, 30: 0.2}, "attention": {3: 1.0, 5: 1.0, 30: 0.97}}
    ax = plot_accuracy_curves(curves, xlabel="length")
    lines = ax.get_lines()
    assert [line.get_label() for line in lines] == ["fixed", "attention"]
    np.testing.assert_array_equal(lines[0].get_xdata(), [3, 5, 30])
    np.testing.assert_array_equal(lines[0].get_ydata(), [1.0, 0.9, 0.2])
    assert ax.get_xlabel() == "length"


def test_spotlights_one_panel_per_chosen_word(attention):
    words, weights = greedy_decode(attention, "the black cat sat")
    fig = plot_spotlights(weights, words, "the black cat sat".split(), rows=[1, 2, 3])
    visible = [ax for ax in fig.axes if ax.get_visible()]
    assert [ax.get_title() for ax in visible] == [f"writing {w!r}" for w in words[1:]]
    heights = [bar.get_height() for bar in visible[1].patches]  # 'noir'
    np.testing.assert_allclose(heights, weights[2], rtol=1e-6)


def test_explorer_lists_the_output_words_and_follows_the_controls(attention):
    box = spotlight_explorer(attention, "the black cat sat", row=2)
    text, (pick, temperature), _ = box.children[0], box.children[1].children, box.children[2]
    assert [label for label, _ in pick.options] == ["1: le", "2: chat", "3: noir", "4: assis"]
    assert pick.value == 2
    text.value = "every dog ran"
    assert [label for label, _ in pick.options] == ["1: chaque", "2: chien", "3: courut"]
    temperature.value = 3.0  # re-draws without error
    assert pick.value == 2


def test_explorer_names_an_unknown_word_and_keeps_working(attention, capsys):
    box = spotlight_explorer(attention)
    text, pick = box.children[0], box.children[1].children[0]
    text.value = "the purple cat sat"
    assert "'purple'" in capsys.readouterr().out
    text.value = "the cat sat"
    assert len(pick.options) == 3


def test_explorer_shows_its_temperature_one_way_and_displays_a_closed_figure(attention, monkeypatch):
    """The temperature's label is the title's number (3.55 vs 3.5 before); a figure is closed before it is
    shown (an open one could be drawn again while a widget message is handled: a blank figure)."""
    import IPython.display

    from attnkit.translation.plots import EXPLORER_TEMPERATURES, _draw

    bundles = []  # what the explorer displays: figures as drawn bundles (not the status line's script)
    monkeypatch.setattr(IPython.display, "display",
                        lambda shown, **kw: bundles.append(shown) if kw.get("raw") else None)
    box = spotlight_explorer(attention, "the black cat sat")
    temperature = box.children[1].children[1]
    assert temperature.options == tuple((f"{t:g}", t) for t in EXPLORER_TEMPERATURES) and temperature.value == 1.0
    temperature.value = 3.0
    assert temperature.label == "3"
    assert len(bundles) == 2 and all({"text/html", "image/png"} <= set(b) for b in bundles)
    assert not plt.get_fignums(), "a figure left registered with pyplot (it could be drawn again, blank)"
    assert _draw(attention, "the black cat sat", 0, temperature.value)[1].axes[0].get_title() == "temperature 3"
    assert all(w.style.description_width == "initial" for w in (box.children[0], *box.children[1].children))

