"""Pictures and the widget explorer of lessons 1-2 (the translation models).

Generic pictures come from ``attnkit.plotting``: ``plot_attention`` (queries = output words on
rows, keys = source words on columns) and ``plot_spotlight`` (one output word's weights as bars).
This module adds the accuracy-by-length curves, a grid of spotlights, and an ipywidgets box that
only wires controls to ``greedy_decode`` and those plots. Every figure carries its text alternative
(``attnkit.accessible``); the explorer announces each redraw in a live status line.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from attnkit.accessible.alt import listing, num, set_alt
from attnkit.accessible.style import LINE_STYLES, MARKERS, OKABE_ITO
from attnkit.plotting import plot_attention, plot_spotlight
from attnkit.translation.seq2seq import Seq2Seq, greedy_decode

__all__ = ["plot_accuracy_curves", "plot_spotlights", "spotlight_explorer"]

# the explorer's temperatures: round numbers from 0.1 to 10, shown the same way on the slider and in
# the figure's title (one format, ``:g``)
EXPLORER_TEMPERATURES = (0.1, 0.2, 0.3, 0.5, 0.7, 1.0, 1.5, 2.0, 3.0, 5.0, 7.0, 10.0)


def plot_accuracy_curves(curves: Mapping[str, Mapping[int, float]], ax: Any = None,
                         title: str | None = None, xlabel: str = "source sentence length (words)") -> Any:
    """One line per model: token accuracy (y) against sentence length or word position (x).

    Args:
        curves: ``{label: accuracy_by_length(model, pairs)}``, or ``{label: {position: accuracy}}``.
        xlabel: what the keys of each curve count.

    Returns:
        The Axes.
    """
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4))
    described = []
    for k, (label, accuracy) in enumerate(curves.items()):
        lengths = sorted(accuracy)
        values = [accuracy[n] for n in lengths]
        # colour, line style and marker all differ: the lines are told apart without colour
        ax.plot(lengths, values, color=OKABE_ITO[k % len(OKABE_ITO)], linestyle=LINE_STYLES[k % len(LINE_STYLES)],
                marker=MARKERS[k % len(MARKERS)], markersize=4, label=label)
        if values:
            low = min(range(len(values)), key=values.__getitem__)
            described.append(f"{label}: {num(values[0])} at {lengths[0]}, {num(values[-1])} at {lengths[-1]}, "
                             f"lowest {num(values[low])} at {lengths[low]}")
    ax.set_xlabel(xlabel)
    ax.set_ylabel("token accuracy (greedy decoding)")
    ax.set_ylim(0, 1.02)
    ax.grid(alpha=0.3)
    ax.legend()
    if title:
        ax.set_title(title)
    head = f"Line chart {title!r}: " if title else "Line chart: "
    return set_alt(ax, head + f"token accuracy (0 to 1) against {xlabel}, one line per model. "
                   + listing(described) + ".")


def plot_spotlights(weights: Any, output_words: Sequence[str], source_words: Sequence[str],
                    rows: Sequence[int] | None = None, ncols: int = 2) -> Any:
    """A spotlight (bars with percentages) for each chosen output word, in a grid.

    Args:
        weights: (L_out, S) from ``greedy_decode``.
        output_words: L_out labels; source_words: S labels.
        rows: which output words to show (default all).

    Returns:
        The Figure.
    """
    import matplotlib.pyplot as plt

    rows = list(range(len(output_words))) if rows is None else list(rows)
    nrows = -(-len(rows) // ncols)  # ceiling division
    fig, axes = plt.subplots(nrows, ncols, figsize=(4.5 * ncols, 2.6 * nrows), squeeze=False)
    for ax, t in zip(axes.flat, rows):
        plot_spotlight(weights[t], source_words, ax=ax, title=f"writing {output_words[t]!r}")
    for ax in axes.flat[len(rows):]:
        ax.set_visible(False)
    fig.tight_layout()
    from attnkit.accessible.alt import alt_text

    return set_alt(fig, f"{len(rows)} bar charts, one per French word written, each the attention weights over "
                   f"the English words: " + " ".join(alt_text(ax) for ax in axes.flat[:len(rows)]))


def _draw(model: Seq2Seq, sentence: str, row: int, temperature: float) -> tuple[list[str], Any]:
    """Translate, then draw the heatmap and one spotlight side by side."""
    import matplotlib.pyplot as plt

    words, weights = greedy_decode(model, sentence, temperature=temperature)
    source = sentence.split()
    fig, (left, right) = plt.subplots(1, 2, figsize=(13, 0.35 * len(words) + 2.5),
                                      gridspec_kw={"width_ratios": [1, 1.3]})
    plot_attention(weights, words, source, ax=left, title=f"temperature {temperature:g}")
    row = min(row, len(words) - 1)
    plot_spotlight(weights[row], source, ax=right, title=f"writing {words[row]!r}")
    fig.tight_layout()
    return words, fig


def spotlight_explorer(model: Seq2Seq, sentence: str = "the black cat sat", row: int = 0) -> Any:
    """An ipywidgets box: type a sentence, pick an output word, move the temperature.

    ``row`` is the output word shown first (0 = the first French word).

    The temperature divides the attention scores before the softmax (and so changes the
    translation too): below 1 sharpens the spotlight, above 1 spreads it out.

    Returns:
        An ``ipywidgets.VBox``; display it as the last line of a cell.
    """
    import ipywidgets as widgets

    from attnkit.accessible.widgets import live_status, set_status, show_figure

    labels = {"description_width": "initial"}  # whole labels, never "temperat..."
    text = widgets.Text(value=sentence, description="English:", continuous_update=False, style=labels,
                        layout=widgets.Layout(width="95%"))
    pick = widgets.Dropdown(description="output word:", style=labels, layout=widgets.Layout(width="auto"))
    # a drop-down, not a slider: ipywidgets' slider handle has no accessible name; a <select> has its
    # label, and arrow keys move it as they moved the slider
    temperature = widgets.Dropdown(options=[(f"{t:g}", t) for t in EXPLORER_TEMPERATURES], value=1.0,
                                   description="temperature:", style=labels, layout=widgets.Layout(width="auto"))
    out = widgets.Output()
    status = live_status()
    shown: list[str] = []  # the output words the dropdown lists now

    def refresh(change: Any = None) -> None:
        out.clear_output(wait=True)
        with out:
            try:
                words, fig = _draw(model, text.value, row if pick.value is None else pick.value,
                                   temperature.value)
            except ValueError as error:  # an unknown word: say which, keep the box alive
                print(error)
                set_status(status, str(error))
                return
        show_figure(fig, out, status, lead=[f"French: {' '.join(words)}"])
        if words != shown:
            shown[:] = words
            index = min(row if pick.value is None else pick.value, len(words) - 1)
            pick.unobserve(refresh, "value")
            pick.options = [(f"{t + 1}: {w}", t) for t, w in enumerate(words)]
            pick.value = index
            pick.observe(refresh, "value")

    for control in (text, temperature):
        control.observe(refresh, "value")
    pick.observe(refresh, "value")
    refresh()
    return widgets.VBox([text, widgets.HBox([pick, temperature]), out, status])
