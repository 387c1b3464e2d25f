"""The timing experiment computes the same thing four ways; timings themselves are never asserted."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from attnkit.experiments.timing import METHODS, SequenceModels, TimingResult, measure_parallelism, speedup


@pytest.fixture(scope="module")
def models():
    return SequenceModels(d_model=16, seed=0)


@pytest.fixture(scope="module")
def x():
    return torch.randn(2, 9, 16, generator=torch.Generator().manual_seed(1))  # (B, L, D)


def test_rnn_loop_equals_fused_gru(models, x):
    with torch.no_grad():
        torch.testing.assert_close(models.rnn_loop(x), models.rnn_fused(x))


def test_attention_loop_equals_batched_and_torch(models, x):
    with torch.no_grad():
        batched = models.attention(x)
        torch.testing.assert_close(models.attention_loop(x), batched)
        query, key, value = (x @ models.W_qkv).chunk(3, dim=-1)
        torch.testing.assert_close(batched, torch.nn.functional.scaled_dot_product_attention(query, key, value))


def test_rnn_is_causal_attention_is_not(models, x):
    """Changing the last position changes only the RNN's last output, but every attention output."""
    changed = x.clone()
    changed[:, -1] += 1.0
    with torch.no_grad():
        assert torch.equal(models.rnn_loop(x)[:, :-1], models.rnn_loop(changed)[:, :-1])
        assert not torch.allclose(models.attention(x)[:, 0], models.attention(changed)[:, 0])


def test_seed_fixes_the_weights():
    a, b = SequenceModels(8, seed=3), SequenceModels(8, seed=3)
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))
    assert not torch.equal(a.W_qkv, SequenceModels(8, seed=4).W_qkv)


def test_measure_returns_every_method_length_and_repeat():
    result = measure_parallelism(lengths=(4, 8), repeats=2, d_model=8, progress=False)
    assert result.methods == METHODS and result.lengths == (4, 8)
    assert result.seconds.shape == (4, 2, 2) and (result.seconds > 0).all()
    low, high = result.spread("attention")
    assert (low <= result.median("attention")).all() and (result.median("attention") <= high).all()


def test_num_threads_is_used_and_restored():
    before = torch.get_num_threads()
    result = measure_parallelism(lengths=(4,), repeats=1, d_model=8, methods=("attention",), num_threads=1,
                                 progress=False)
    assert result.num_threads == 1 and result.methods == ("attention",)
    assert torch.get_num_threads() == before


def test_speedup_pairs_runs_side_by_side():
    seconds = np.array([[[4.0, 6.0, 100.0]], [[2.0, 2.0, 50.0]]])  # (methods=2, lengths=1, repeats=3)
    result = TimingResult(("rnn_loop", "attention"), (10,), seconds)
    median, low, high = speedup(result, "rnn_loop", "attention")
    assert (median[0], low[0], high[0]) == (2.0, 2.0, 3.0)  # not 6/2 = median of slow over median of fast


def test_unknown_method():
    with pytest.raises(ValueError, match="unknown methods"):
        measure_parallelism(lengths=(4,), methods=("transformer",), progress=False)
