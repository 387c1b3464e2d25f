"""The measurements of lessons 4, 6 and 8 drawn, each figure with a text alternative carrying its numbers.

* :func:`plot_softmax_temperatures`: softmax(scores / T) of a few words against T (lesson 4);
* :func:`plot_scaling_experiment`: the three panels of ``temperature_scaling.scaling_experiment``;
* :func:`plot_timing`: a :class:`~attnkit.experiments.timing.TimingResult` as medians with their range (lessons 6, 8);
* :func:`plot_arithmetic`: multiply-adds per sequence against length, with the crossover (lesson 6).

Lines differ by colour, line style and marker (``attnkit.accessible.style``); every function returns
its ``Axes`` or ``Figure`` with the alt text attached (``attnkit.accessible.alt``).
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from attnkit.accessible.alt import listing, num, percent, set_alt
from attnkit.accessible.style import LINE_STYLES, MARKERS, OKABE_ITO

__all__ = ["plot_softmax_temperatures", "plot_scaling_experiment", "plot_timing", "plot_arithmetic"]


def _style(k: int) -> dict:
    n = len(OKABE_ITO)
    return {"color": OKABE_ITO[k % n], "linestyle": LINE_STYLES[k % n], "marker": MARKERS[k % n]}


def _axes(ax: Any, figsize: tuple[float, float]) -> Any:
    import matplotlib.pyplot as plt

    return plt.subplots(figsize=figsize)[1] if ax is None else ax


def plot_softmax_temperatures(temperatures: Sequence[float], weights: Any, labels: Sequence[str],
                              marks: Mapping[str, float] | None = None, target: float | None = None,
                              target_label: str = "", title: str = "softmax(scores / T): the order never changes",
                              ax: Any = None) -> Any:
    """Each word's softmax weight against the temperature T (log scale), with marked temperatures.

    Args:
        temperatures: (T,) increasing temperatures.
        weights: (T, S) softmax(scores / T) for each temperature (rows sum to 1).
        labels: S line labels (a word and its score).
        marks: label -> temperature, drawn as vertical lines; the alt text gives every word's weight there.
        target: a weight drawn as a dotted horizontal line (e.g. the newsletter's 0.75), named target_label.

    Returns:
        The Axes, with its alt text.
    """
    t, w = np.asarray(temperatures, dtype=float), np.asarray(weights, dtype=float)
    if w.shape != (len(t), len(labels)):
        raise ValueError(f"weights has shape {w.shape}, expected (len(temperatures), len(labels)) = "
                         f"({len(t)}, {len(labels)})")
    marks = dict(marks or {})
    ax = _axes(ax, (8, 4))
    for k, label in enumerate(labels):
        ax.plot(t, w[:, k], label=label, markevery=max(1, len(t) // 8), **_style(k))
    if target is not None:
        ax.axhline(target, color="gray", ls=":", label=target_label or f"weight {num(target)}")
    for k, (label, at) in enumerate(marks.items()):
        ax.axvline(at, color="black", lw=1, ls=LINE_STYLES[(k + 1) % len(LINE_STYLES)], label=label)
    ax.set(xscale="log", xlabel="temperature T (scores divided by T)", ylabel="weight", title=title)
    ax.legend(fontsize=9)
    ax.figure.tight_layout()

    def at(temperature: float) -> str:
        row = [np.interp(np.log(temperature), np.log(t), w[:, k]) for k in range(len(labels))]
        return ", ".join(f"{label} {percent(v)}" for label, v in zip(labels, row))

    said = [f"at T = {num(t[0])}: {at(t[0])}"] + [f"at {label}: {at(v)}" for label, v in marks.items()]
    said.append(f"at T = {num(t[-1])}: {at(t[-1])}")
    return set_alt(ax, f"Line chart {title!r}: the softmax weight of {len(labels)} words against the temperature T "
                   f"from {num(t[0])} to {num(t[-1])} (log scale)"
                   + (f", with a dotted line at weight {num(target)} ({target_label})" if target is not None else "")
                   + ". " + listing(said) + ".")


def plot_scaling_experiment(result: Any) -> Any:
    """Three panels of a ``ScalingExperiment``: score variance, mean largest weight, mean gradient, against d_k.

    Each panel has ``q . k`` (circles, solid) and ``q . k / sqrt(d_k)`` (squares, dashed); the first
    adds d_k itself (theory), the second 1/S (weights spread evenly).

    Returns:
        The Figure, with its alt text.
    """
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(13, 4))
    panels = [("variance of the scores", result.score_variance_unscaled, result.score_variance_scaled, "log"),
              ("mean largest softmax weight", result.max_weight_unscaled, result.max_weight_scaled, "linear"),
              ("mean |gradient| at the scores", result.grad_norm_unscaled, result.grad_norm_scaled, "linear")]
    d_k = np.asarray(result.d_k)
    said = []
    for ax, (title, unscaled, scaled, yscale) in zip(axes, panels):
        ax.plot(d_k, unscaled, label="q . k", **_style(0))
        ax.plot(d_k, scaled, label="q . k / sqrt(d_k)", **_style(1))
        ax.set(xscale="log", yscale=yscale, xlabel="d_k", title=title)
        said.append(f"{title}: q . k " + ", ".join(f"{num(u)} at d_k = {d}" for u, d in zip(unscaled, d_k))
                    + "; scaled " + ", ".join(f"{num(s)} at d_k = {d}" for s, d in zip(scaled, d_k)))
    axes[0].plot(d_k, d_k, color="black", ls=":", label="d_k (theory)")
    axes[1].axhline(1 / result.num_keys, color="gray", ls=":", label=f"uniform 1/S = {num(1 / result.num_keys)}")
    for ax in axes:
        ax.legend()
    fig.tight_layout()
    return set_alt(fig, f"3 line charts against d_k (log scale, {len(d_k)} widths, S = {result.num_keys} keys), "
                   "each one comparing unscaled scores q . k with scaled scores q . k / sqrt(d_k). "
                   + ". ".join(said) + ".")


def plot_timing(timing: Any, per: Any = None, unit: tuple[str, float] = ("milliseconds", 1e3),
                ylabel: str = "per sequence (median, range)", xlabel: str = "sequence length L", title: str = "",
                ax: Any = None) -> Any:
    """Median time of each method against the length, with error bars from the fastest to the slowest run.

    Args:
        timing: a ``TimingResult`` (methods, lengths, seconds (methods, lengths, repeats)).
        per: (lengths,) divisors (e.g. target words per step); None = per call.
        unit: the unit's name and its factor from seconds (("microseconds", 1e6)).
        ylabel: what a value is, after the unit's name.

    Returns:
        The Axes (log-log), with its alt text.
    """
    lengths = np.asarray(timing.lengths)
    divisor = np.ones(len(lengths)) if per is None else np.asarray(per, dtype=float)
    name, factor = unit
    ax = _axes(ax, (7, 4.5))
    said, medians = [], {}
    for k, method in enumerate(timing.methods):
        median = timing.median(method) / divisor * factor
        fast, slow = (s / divisor * factor for s in timing.spread(method))
        medians[method] = median
        ax.errorbar(lengths, median, yerr=[median - fast, slow - median], capsize=3, label=method, **_style(k))
        said.append(f"{method}: " + ", ".join(f"{num(m)} at L = {n}" for m, n in zip(median, lengths)))
    ax.set(xscale="log", yscale="log", xlabel=xlabel, ylabel=f"{name} {ylabel}", title=title)
    ax.legend(fontsize=9)
    ranked = sorted(medians, key=lambda m: medians[m][-1])
    ratio = medians[ranked[-1]][-1] / medians[ranked[0]][-1]
    return set_alt(ax, f"Line chart {title!r} (log-log) of the median {name} {ylabel.split(' (')[0]} of "
                   f"{len(timing.methods)} methods against the length L from {lengths[0]} to {lengths[-1]}, error bars "
                   f"from the fastest to the slowest of {timing.seconds.shape[-1]} runs. " + listing(said)
                   + f". At L = {lengths[-1]} {ranked[0]} is the fastest, {ranked[-1]} the slowest "
                   f"({num(ratio)} times as long).")


def plot_arithmetic(lengths: Sequence[int], counts: Mapping[str, Any], crossover: float, title: str = "",
                    ax: Any = None) -> Any:
    """Multiply-adds per sequence of each model against the length (log-log), with the crossover length.

    Args:
        lengths: (N,) sequence lengths; counts: label -> (N,) multiply-adds.
        crossover: the length where the two counts meet (a dotted vertical line).

    Returns:
        The Axes, with its alt text.
    """
    lengths = np.asarray(lengths)
    ax = _axes(ax, (7, 4))
    said = []
    for k, (label, count) in enumerate(counts.items()):
        count = np.asarray(count, dtype=float)
        ax.plot(lengths, count, label=label, markevery=max(1, len(lengths) // 8), **_style(k))
        said.append(f"{label}: {num(count[0])} at L = {lengths[0]}, {num(count[-1])} at L = {lengths[-1]}")
    ax.axvline(crossover, color="gray", ls=":", label=f"crossover L = {crossover:.0f}")
    ax.set(xscale="log", yscale="log", xlabel="sequence length L", ylabel="multiply-adds", title=title)
    ax.legend(fontsize=9)
    return set_alt(ax, f"Line chart {title!r} (log-log) of the multiply-adds per sequence of {len(counts)} models "
                   f"against the length L from {lengths[0]} to {lengths[-1]}. " + listing(said)
                   + f". The lines cross at L = {crossover:.0f} (dotted line).")
