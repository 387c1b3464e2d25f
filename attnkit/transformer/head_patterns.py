"""Name what attention heads do, by measuring it: pattern scores and token-to-token searches.

Input everywhere is one sentence's attention weights ``(layers, H, L, L)`` (queries on rows,
keys on columns), as ``MiniLM.attention_maps`` returns, with ``[CLS]`` first and ``[SEP]`` last.

A head's score for a pattern is the attention weight that pattern predicts, averaged over the
sentence's word tokens (every token but ``[CLS]`` and ``[SEP]``) and then over sentences:

    previous word:  w[i, i-1]          next word:  w[i, i+1]
    same word:      w[i, i]            [CLS]/[SEP] sink:  w[i, 0] + w[i, L-1]

A score of 0.9 means the head puts 90% of its weight where the pattern says, on average.
:func:`sink_scores` splits the sink into its two tokens, ``[CLS]`` and ``[SEP]``, and counts how
often each is a query's single largest weight.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
from matplotlib.figure import Figure

from attnkit.accessible.alt import listing, num, set_alt
from attnkit.errors import AttentionShapeError, check_shape

__all__ = ["PATTERNS", "HeadMatch", "pattern_scores", "sink_scores", "top_heads", "find_heads", "plot_head_grid",
           "plot_pattern_maps", "plot_head_values"]

PATTERNS = ("previous word", "next word", "same word", "[CLS]/[SEP] sink")


class HeadMatch(NamedTuple):
    """One head and the weight (or score) it earned."""

    layer: int
    head: int
    weight: float


def _sentence_scores(weights: np.ndarray) -> dict[str, np.ndarray]:
    L = weights.shape[-1]
    words = np.arange(1, L - 1)  # the query rows of word tokens, skipping [CLS] and [SEP]
    return {
        "previous word": weights[..., words, words - 1].mean(-1),  # (layers, H, L-2) -> (layers, H)
        "next word": weights[..., words, words + 1].mean(-1),
        "same word": weights[..., words, words].mean(-1),
        "[CLS]/[SEP] sink": (weights[..., words, 0] + weights[..., words, L - 1]).mean(-1),
    }


def pattern_scores(maps: Sequence[np.ndarray]) -> dict[str, np.ndarray]:
    """Score every (layer, head) for each pattern in :data:`PATTERNS`, averaged over sentences.

    Args:
        maps: one array (layers, H, L, L) per sentence; L may differ between sentences
            (at least 3 tokens: [CLS], a word, [SEP]).

    Returns:
        ``{pattern: scores (layers, H)}``, each score in [0, 1] (the sink can reach 1 too).
    """
    if not len(maps):
        raise AttentionShapeError("maps is empty: pass one (layers, H, L, L) array per sentence")
    per_sentence = []
    for i, weights in enumerate(maps):
        sizes = check_shape(f"maps[{i}]", weights, ("layers", "H", "L", "S"),
                            hint="one sentence's attention_maps(...)[1]")
        if sizes["L"] != sizes["S"] or sizes["L"] < 3:
            raise AttentionShapeError(
                f"maps[{i}] has shape {tuple(weights.shape)} but expected (layers, H, L, L) with "
                f"L >= 3: self-attention is square and needs [CLS], a word and [SEP]"
            )
        per_sentence.append(_sentence_scores(np.asarray(weights)))
    return {p: np.mean([s[p] for s in per_sentence], axis=0) for p in PATTERNS}


def sink_scores(maps: Sequence[np.ndarray]) -> dict[str, np.ndarray]:
    """The sink, split into ``[CLS]`` (first token) and ``[SEP]`` (last token), per head.

    Averaged over the word tokens' query rows and then over sentences, like :func:`pattern_scores`.

    Args:
        maps: one array (layers, H, L, L) per sentence, ``[CLS]`` first and ``[SEP]`` last.

    Returns:
        ``{"[CLS] weight": w[i, 0], "[SEP] weight": w[i, L-1], "[CLS] largest": share of word
        queries whose largest weight is on [CLS], "[SEP] largest": the same for [SEP]}``, each
        (layers, H) in [0, 1].

    Example:
        >>> w = np.zeros((1, 2, 4, 4)); w[0, 0, :, 0] = 0.7; w[0, 0, :, 1] = 0.3; w[0, 1, :, 3] = 1.0
        >>> scores = sink_scores([w])
        >>> scores["[CLS] weight"].round(2).tolist(), scores["[SEP] weight"].round(2).tolist()
        ([[0.7, 0.0]], [[0.0, 1.0]])
        >>> scores["[CLS] largest"].tolist(), scores["[SEP] largest"].tolist()
        ([[1.0, 0.0]], [[0.0, 1.0]])
    """
    pattern_scores(maps)  # the same shape checks
    per_sentence = []
    for weights in maps:
        w = np.asarray(weights)
        L = w.shape[-1]
        rows = w[..., 1:L - 1, :]  # (layers, H, L-2, L): the word tokens' queries
        top = rows.argmax(-1)  # (layers, H, L-2): each query's most-attended key
        per_sentence.append({"[CLS] weight": rows[..., 0].mean(-1), "[SEP] weight": rows[..., L - 1].mean(-1),
                             "[CLS] largest": (top == 0).mean(-1), "[SEP] largest": (top == L - 1).mean(-1)})
    return {k: np.mean([s[k] for s in per_sentence], axis=0) for k in per_sentence[0]}


def top_heads(scores: dict[str, np.ndarray], pattern: str, k: int = 3) -> list[HeadMatch]:
    """The ``k`` heads with the highest score for ``pattern``, best first."""
    if pattern not in scores:
        raise KeyError(f"pattern {pattern!r} is not scored; choose one of {list(scores)}")
    table = scores[pattern]  # (layers, H)
    order = np.argsort(table, axis=None)[::-1][:k]
    return [HeadMatch(int(layer), int(h), float(table[layer, h]))
            for layer, h in zip(*np.unravel_index(order, table.shape))]


def _position(tokens: Sequence[str], token: str | int, name: str) -> int:
    if isinstance(token, (int, np.integer)):
        return int(token)
    if token not in tokens:
        raise ValueError(f"{name} {token!r} is not among the tokens {list(tokens)}: "
                         f"pass the WordPiece token as printed, or its position")
    return list(tokens).index(token)


def find_heads(tokens: Sequence[str], weights: np.ndarray, source: str | int, target: str | int,
               threshold: float = 0.3) -> list[HeadMatch]:
    """Heads where token ``source`` (a query) puts at least ``threshold`` of its weight on ``target``.

    Args:
        tokens: the sentence's L tokens.
        weights: (layers, H, L, L).
        source, target: a token (its first occurrence) or a position.
        threshold: the smallest weight reported.

    Returns:
        matches sorted by weight, largest first; empty if no head reaches ``threshold``.
    """
    check_shape("weights", weights, ("layers", "H", "L", "L"), {"L": len(tokens)},
                hint="attention_maps returns tokens and weights that belong together")
    i, j = _position(tokens, source, "source"), _position(tokens, target, "target")
    table = np.asarray(weights)[:, :, i, j]  # (layers, H)
    found = [HeadMatch(int(layer), int(h), float(table[layer, h]))
             for layer, h in zip(*np.nonzero(table >= threshold))]
    return sorted(found, key=lambda m: -m.weight)


def plot_head_grid(weights: np.ndarray, tokens: Sequence[str] | None = None,
                   layers: Sequence[int] | None = None, cell_size: float = 1.1) -> Figure:
    """Every head as a small heatmap: one row of the grid per layer, one column per head.

    Queries are on each heatmap's rows, keys on its columns (darker = more weight).

    Args:
        weights: (layers, H, L, L).
        tokens: the L tokens, listed in order in the title.
        layers: which layers to draw (default all).

    Returns:
        the matplotlib Figure (made with pyplot, so Jupyter shows it; the caller calls ``plt.show()``).
    """
    import matplotlib.pyplot as plt

    check_shape("weights", weights, ("layers", "H", "L", "L"))
    layers = list(range(weights.shape[0])) if layers is None else list(layers)
    H = weights.shape[1]
    # at most 10 inches wide (1000 px at 100 dpi: shown unscaled in a lesson), so 9 pt labels stay >= 9 px
    cell_size = min(cell_size, 10 / H)
    fig, axes = plt.subplots(len(layers), H, squeeze=False, figsize=(cell_size * H, cell_size * len(layers) + 0.5))
    for r, layer in enumerate(layers):
        for head in range(H):
            ax = axes[r, head]
            ax.imshow(weights[layer, head], cmap="Blues", vmin=0, vmax=1)
            ax.set_xticks([])
            ax.set_yticks([])
            if r == 0:
                ax.set_title(f"head {head}", fontsize=9)
            if head == 0:
                ax.set_ylabel(f"layer {layer}", fontsize=9)
    # the tokens in the title, in order (too many to label a cell an inch wide at a readable size)
    order = "" if tokens is None else "\ntokens in order: " + " ".join(tokens)
    fig.suptitle("every head: queries on rows, keys on columns" + order, fontsize=10)
    w = np.asarray(weights)
    # each head named by the pattern that takes most of its weight (the module's pattern scores)
    short = {"previous word": "previous", "next word": "next", "same word": "same", "[CLS]/[SEP] sink": "sink"}
    layer_texts = []
    if w.shape[-1] >= 3:
        table = _sentence_scores(w)
        for layer in layers:
            best = [max(PATTERNS, key=lambda p: table[p][layer, h]) for h in range(H)]
            layer_texts.append(f"layer {layer}: " + ", ".join(
                f"head {h} {short[p]} {num(table[p][layer, h])}" for h, p in enumerate(best)))
    return set_alt(fig, f"Grid of {len(layers)} x {H} small heatmaps, one per head (rows: layers, columns: heads), "
                   f"each the attention weights of {w.shape[-1]} tokens"
                   + (f" ({' '.join(tokens)})" if tokens is not None else "")
                   + ", queries on rows, keys on columns, darker = more weight. Each head's strongest pattern and "
                   "its score (the share of weight it predicts): " + listing(layer_texts) + ".")


def plot_pattern_maps(scores: dict[str, np.ndarray], patterns: Sequence[str] = PATTERNS) -> Figure:
    """One map per pattern: its score for every head (columns) of every layer (rows), 0 to 1.

    Args:
        scores: ``pattern_scores(...)``, pattern -> (layers, H).
        patterns: which patterns to draw, in order.

    Returns:
        the matplotlib Figure (made with pyplot; the caller calls ``plt.show()``). Heads and layers
        are numbered with integer ticks (0, 1, 2, ...), as everywhere else in the course.
    """
    import matplotlib.pyplot as plt

    patterns = list(patterns)
    for pattern in patterns:
        check_shape(f"scores[{pattern!r}]", scores[pattern], ("layers", "H"))
    layers, H = scores[patterns[0]].shape
    fig, axes = plt.subplots(1, len(patterns), figsize=(3.0 * len(patterns), 2.6), squeeze=False,
                             layout="constrained")
    for ax, pattern in zip(axes[0], patterns):
        image = ax.imshow(scores[pattern], cmap="Blues", vmin=0, vmax=1)
        ax.set_xticks(range(H), [str(h) for h in range(H)], fontsize=9)
        ax.set_yticks(range(layers), [str(layer) for layer in range(layers)], fontsize=9)
        ax.set(title=pattern, xlabel="head", ylabel="layer")
    fig.colorbar(image, ax=list(axes[0]), shrink=0.8, label="score")
    described = []
    for pattern in patterns:
        best = top_heads(scores, pattern, k=3)
        described.append(f"{pattern!r}: best heads " + ", ".join(f"layer {m.layer} head {m.head} {num(m.weight)}"
                                                               for m in best)
                         + f"; {int((scores[pattern] > 0.5).sum())} of {layers * H} heads score above 0.5")
    return set_alt(fig, f"{len(patterns)} heatmaps, one per pattern, of every head's score from 0 to 1 "
                   f"({layers} layers on rows, {H} heads on columns, darker = higher). " + listing(described) + ".")


def plot_head_values(values: np.ndarray, title: str, label: str = "weight") -> Figure:
    """One number per head as a heatmap: layers on rows, heads on columns, 0 to 1, numbers in the cells.

    Args:
        values: (layers, H), e.g. one token's weight on another in every head.
        title: what the numbers are; label: the colour bar's name.

    Returns:
        The Figure, with its alt text (the largest heads, the median, how many are above 0.2).
    """
    import matplotlib.pyplot as plt

    check_shape("values", values, ("layers", "H"))
    v = np.asarray(values, dtype=float)
    layers, H = v.shape
    fig, ax = plt.subplots(figsize=(max(6.0, 0.6 * H + 2), 0.5 * layers + 1.6))
    image = ax.imshow(v, cmap="Blues", vmin=0, vmax=1)
    for (r, c), x in np.ndenumerate(v):  # the numbers, not the colour alone
        ax.text(c, r, f"{x:.2f}"[1:] if 0 <= x < 1 else f"{x:.1f}", ha="center", va="center", fontsize=9,
                color="white" if x > 0.55 else "black")
    ax.set_xticks(range(H), [str(h) for h in range(H)])
    ax.set_yticks(range(layers), [str(layer) for layer in range(layers)])
    ax.set(xlabel="head", ylabel="layer", title=title)
    fig.colorbar(image, ax=ax, label=label)
    fig.tight_layout()
    order = np.argsort(v, axis=None)[::-1][:3]
    best = [f"layer {r} head {c} {num(v[r, c])}" for r, c in zip(*np.unravel_index(order, v.shape))]
    return set_alt(fig, f"Heatmap {title!r} of {layers} layers (rows) by {H} heads (columns), 0 to 1, darker = more, "
                   f"each value written in its cell. Largest: {', '.join(best)}; median {num(np.median(v))}; "
                   f"{int((v > 0.2).sum())} of {v.size} heads above 0.2.")
