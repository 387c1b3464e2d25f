"""attnkit.translation.scores against oracles: the translator's own decoder step (multiplicative)
and a torch additive-attention scorer written as d2l writes it (Linear layers, tanh, Linear)."""
import math

import numpy as np
import pytest
import torch

from attnkit import softmax
from attnkit.translation.scores import (
    additive_parameters,
    additive_scores,
    multiplicative_parameters,
    multiplicative_scores,
)
from attnkit.translation.seq2seq import build_model


def test_multiplicative_scores_are_the_decoders_step():
    model = build_model("attention", d_model=16, embedding_dim=8, seed=0).eval()
    g = torch.Generator().manual_seed(0)
    states = torch.randn(1, 5, 16, generator=g)  # (B, S, D) encoder states
    summary = torch.randn(1, 16, generator=g)
    state = model.decoder.init_state(states, summary)
    mask = torch.ones(1, 1, 5, dtype=torch.bool)
    with torch.no_grad():
        _, (hidden, _), weights = model.decoder.step(torch.tensor([1]), state, states, mask)
    W_a = model.decoder.query_proj.weight.detach().numpy().T  # nn.Linear stores W_a transposed
    scores = multiplicative_scores(hidden[0].numpy(), states[0].numpy(), W_a)
    assert np.allclose(softmax(scores), weights[0].numpy(), atol=1e-5)
    luong = multiplicative_scores(hidden[0].numpy(), states[0].numpy(), W_a, scale=1.0)
    assert np.allclose(luong, scores * math.sqrt(16), atol=1e-5), "scale=1 is Luong's unscaled score"


def test_additive_scores_match_a_torch_additive_scorer():
    D, d_a, S = 6, 4, 5
    torch.manual_seed(0)
    W_q, W_k, w_v = (torch.nn.Linear(D, d_a, bias=False), torch.nn.Linear(D, d_a, bias=False),
                     torch.nn.Linear(d_a, 1, bias=False))
    query, keys = torch.randn(D), torch.randn(S, D)
    with torch.no_grad():
        expected = w_v(torch.tanh(W_q(query) + W_k(keys)))[:, 0].numpy()  # d2l's AdditiveAttention scores
    got = additive_scores(query.numpy(), keys.numpy(), W_q.weight.detach().numpy().T,
                          W_k.weight.detach().numpy().T, w_v.weight.detach().numpy()[0])
    assert np.allclose(got, expected, atol=1e-6)


def test_additive_scores_are_bounded_by_v_and_the_counts():
    rng = np.random.default_rng(0)
    v = rng.normal(size=3)
    scores = additive_scores(rng.normal(size=4) * 100, rng.normal(size=(6, 4)) * 100, rng.normal(size=(4, 3)),
                             rng.normal(size=(4, 3)), v)
    assert np.all(np.abs(scores) <= np.abs(v).sum() + 1e-12)
    assert additive_parameters(256, 128) == 2 * 256 * 128 + 128 and multiplicative_parameters(128) == 128 * 128


def test_a_mismatched_state_is_refused():
    with pytest.raises(ValueError, match=r"expected \(D,\) and \(S, D\)"):
        multiplicative_scores(np.zeros(4), np.zeros((3, 5)), np.eye(4))
