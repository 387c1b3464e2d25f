"""sink_scores: the [CLS]/[SEP] sink split into its two tokens, on hand-made and real maps."""
import numpy as np
import pytest

from attnkit.transformer.head_patterns import pattern_scores, sink_scores

L = 6


def _maps():
    w = np.zeros((1, 3, L, L))
    w[0, 0, :, 0] = 1.0  # head 0: everything on [CLS]
    w[0, 1, :, L - 1] = 0.6  # head 1: mostly [SEP], some on [CLS]
    w[0, 1, :, 0] = 0.4
    w[0, 2] = np.eye(L)  # head 2: every token on itself
    return [w]


def test_the_two_sinks_are_told_apart():
    scores = sink_scores(_maps())
    assert scores["[CLS] weight"][0].tolist() == pytest.approx([1.0, 0.4, 0.0])
    assert scores["[SEP] weight"][0].tolist() == pytest.approx([0.0, 0.6, 0.0])
    assert scores["[CLS] largest"][0].tolist() == pytest.approx([1.0, 0.0, 0.0])
    assert scores["[SEP] largest"][0].tolist() == pytest.approx([0.0, 1.0, 0.0])


def test_the_split_adds_up_to_the_lumped_sink():
    maps = [np.random.default_rng(0).dirichlet(np.ones(L), size=(2, 3, L))]  # (layers, H, L, L), rows sum to 1
    split, lumped = sink_scores(maps), pattern_scores(maps)["[CLS]/[SEP] sink"]
    assert split["[CLS] weight"] + split["[SEP] weight"] == pytest.approx(lumped)


def test_real_minilm_parks_on_cls_not_sep():
    """The claim lesson 6 makes: in MiniLM the sink is [CLS]; [SEP] is almost never the largest weight."""
    from attnkit.transformer.minilm import load_minilm

    model = load_minilm()
    maps = [model.attention_maps(s)[1] for s in ("The cat sat on the mat.", "Is it going to rain tomorrow in Paris?")]
    scores = sink_scores(maps)
    assert (scores["[CLS] largest"] > 0.5).sum() > 36, "most of the 72 heads should point most queries at [CLS]"
    assert (scores["[SEP] largest"] > 0.5).sum() == 0
