"""The parameter counter against torch's own modules and the paper's Table 3."""
from __future__ import annotations

import pytest
from torch import nn

from attnkit import MultiHeadAttention
from attnkit.transformer.params import (
    PAPER_TABLE3,
    attention_parameters,
    feed_forward_parameters,
    transformer_parameter_count,
)


def n_params(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


@pytest.mark.parametrize("d_model, num_heads", [(16, 4), (64, 8), (384, 12)])
def test_attention_block_matches_torch_and_attnkit(d_model, num_heads):
    assert attention_parameters(d_model) == n_params(nn.MultiheadAttention(d_model, num_heads))
    assert attention_parameters(d_model) == n_params(MultiHeadAttention(d_model, num_heads))
    assert attention_parameters(d_model, bias=False) == n_params(MultiHeadAttention(d_model, num_heads, bias=False))


def test_head_count_does_not_change_the_count():
    one = n_params(MultiHeadAttention(64, 1))
    assert one == n_params(MultiHeadAttention(64, 8)) == attention_parameters(64)
    sizes = {transformer_parameter_count(num_heads=h).total for h in (1, 2, 8, 16)}
    assert len(sizes) == 1


def test_feed_forward_matches_torch():
    block = nn.Sequential(nn.Linear(32, 128), nn.ReLU(), nn.Linear(128, 32))
    assert feed_forward_parameters(32, 128) == n_params(block)


def test_whole_stack_matches_torch_transformer():
    """torch.nn.Transformer has no embeddings but a layer norm after each stack."""
    torch_model = nn.Transformer(d_model=64, nhead=4, num_encoder_layers=3, num_decoder_layers=3,
                                 dim_feedforward=256, batch_first=True)
    ours = transformer_parameter_count(num_layers=3, d_model=64, d_ff=256, num_heads=4, vocab_size=0,
                                       final_norms=True)
    assert ours.total == n_params(torch_model)
    assert ours.encoder + 2 * 64 == n_params(torch_model.encoder)


@pytest.mark.parametrize("name", ["base", "big"])
def test_table3_with_shared_embeddings(name):
    row = PAPER_TABLE3[name]
    hyper = {k: v for k, v in row.items() if k != "reported"}
    shared = transformer_parameter_count(**hyper).total
    separate = transformer_parameter_count(**hyper, shared_embeddings=False).total
    assert abs(shared / row["reported"] - 1) < 0.04, f"{name}: {shared / 1e6:.1f}M vs {row['reported'] / 1e6:.0f}M"
    assert separate / row["reported"] > 1.3, "three separate embedding matrices would not fit Table 3"


def test_exact_values():
    # worked by hand: 6 * 3,152,384 + 6 * 4,204,032 + 37,000 * 512
    size = transformer_parameter_count()
    assert (size.encoder, size.decoder, size.embeddings) == (18_914_304, 25_224_192, 18_944_000)
    assert size.total == 63_082_496


def test_heads_must_divide_width():
    with pytest.raises(ValueError, match="num_heads"):
        transformer_parameter_count(d_model=512, num_heads=7)
