"""The multiply-add counts of lesson 6, checked against torch's own FLOP counter."""
import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode

from attnkit import MultiHeadAttention
from attnkit.experiments.arithmetic import attention_multiply_adds, crossover_length, gru_multiply_adds
from attnkit.experiments.timing import SequenceModels


def _multiply_adds(fn, *args):
    with FlopCounterMode(display=False) as counter:
        fn(*args)
    return counter.get_total_flops() // 2


@pytest.mark.parametrize("L, D", [(7, 16), (40, 8)])
def test_gru_count_matches_torch(L, D):
    cell = torch.nn.GRUCell(D, D)
    x = torch.randn(1, L, D)

    def loop(x):
        h = torch.zeros(1, D)
        for t in range(L):
            h = cell(x[:, t], h)

    assert _multiply_adds(loop, x) == gru_multiply_adds(L, D)


@pytest.mark.parametrize("L, D, H", [(7, 16, 4), (40, 8, 2)])
def test_full_attention_layer_count_matches_torch(L, D, H):
    x = torch.randn(1, L, D)
    assert _multiply_adds(MultiHeadAttention(D, H), x, x, x) == attention_multiply_adds(L, D, projections=4)


def test_timed_attention_count_matches_torch():
    models = SequenceModels(16, seed=0)
    x = torch.randn(1, 30, 16)
    assert _multiply_adds(models.attention, x) == attention_multiply_adds(30, 16, projections=3)


@pytest.mark.parametrize("projections", [3, 4])
def test_crossover_is_where_the_counts_meet(projections):
    D = 64
    L = int(crossover_length(D, projections))
    assert attention_multiply_adds(L, D, projections) == gru_multiply_adds(L, D)
    assert attention_multiply_adds(L + 1, D, projections) > gru_multiply_adds(L + 1, D)
    assert attention_multiply_adds(L - 1, D, projections) < gru_multiply_adds(L - 1, D)
