"""The Transformer's sublayers against torch's own layers with copied weights (lesson 7)."""
import math

import pytest
import torch
from torch import nn

from attnkit import causal_mask, padding_mask
from attnkit.errors import AttentionShapeError
from attnkit.transformer.layers import DecoderLayer, EncoderLayer, FeedForward, add_and_norm, copy_from_torch
from attnkit.transformer.positional import LearnedPositions, SinusoidalPositions, sinusoidal_encoding

D, H, D_FF = 16, 4, 32


def _torch_encoder(seed=0):
    torch.manual_seed(seed)
    return nn.TransformerEncoderLayer(D, H, D_FF, dropout=0.0, batch_first=True).eval()


def _torch_decoder(seed=0):
    torch.manual_seed(seed)
    return nn.TransformerDecoderLayer(D, H, D_FF, dropout=0.0, batch_first=True).eval()


@pytest.mark.parametrize("lengths", [[5, 5], [5, 3]])
def test_encoder_layer_matches_torch(lengths):
    reference, ours = _torch_encoder(), EncoderLayer(D, H, D_FF)
    copy_from_torch(ours, reference)
    x = torch.randn(2, 5, D, generator=torch.Generator().manual_seed(1))
    mask = padding_mask(torch.tensor(lengths), 5)  # (B, 1, S), True = real word
    expected = reference(x, src_key_padding_mask=~mask[:, 0])  # torch: True = ignore
    got, weights = ours(x, mask)
    for b, n in enumerate(lengths):  # padded positions' outputs are never read
        torch.testing.assert_close(got[b, :n], expected[b, :n], atol=1e-5, rtol=1e-5)
    assert weights.shape == (2, H, 5, 5)
    assert float(weights[1, :, :, lengths[1]:].detach().abs().sum()) == 0.0, "no query attends to padding"


def _decoder_case():
    """attnkit's decoder layer with the weights of torch's, its inputs (B = 2, L = 4, S = 6, source lengths
    [6, 2]) and torch's output on them."""
    reference, ours = _torch_decoder(), DecoderLayer(D, H, D_FF)
    copy_from_torch(ours, reference)
    g = torch.Generator().manual_seed(2)
    y, memory = torch.randn(2, 4, D, generator=g), torch.randn(2, 6, D, generator=g)
    mask = padding_mask(torch.tensor([6, 2]), 6)
    expected = reference(y, memory, tgt_mask=nn.Transformer.generate_square_subsequent_mask(4),
                         memory_key_padding_mask=~mask[:, 0])
    return ours, (y, memory, torch.as_tensor(causal_mask(4)), mask), expected


def test_decoder_layer_matches_torch():
    ours, inputs, expected = _decoder_case()
    got, weights = ours(*inputs)
    torch.testing.assert_close(got, expected, atol=1e-5, rtol=1e-5)
    assert weights.self_attention.shape == (2, H, 4, 4) and weights.cross_attention.shape == (2, H, 4, 6)
    assert torch.equal(weights.self_attention[0, 0] > 0, torch.as_tensor(causal_mask(4)))


def test_cross_attention_reads_the_memory_not_the_decoder():
    """Changing the encoder's memory changes the decoder's output; keys from the decoder would not."""
    layer = DecoderLayer(D, H, D_FF)
    g = torch.Generator().manual_seed(3)
    y, memory = torch.randn(1, 3, D, generator=g), torch.randn(1, 5, D, generator=g)
    a, _ = layer(y, memory)
    b, _ = layer(y, memory + 1.0)
    assert not torch.allclose(a, b)


def test_decoder_is_causal():
    """Output t does not change when a later target word changes."""
    layer = DecoderLayer(D, H, D_FF).eval()
    g = torch.Generator().manual_seed(4)
    y, memory = torch.randn(1, 5, D, generator=g), torch.randn(1, 4, D, generator=g)
    changed = y.clone()
    changed[0, 3:] += 1.0
    mask = torch.as_tensor(causal_mask(5))
    a, b = layer(y, memory, mask)[0], layer(changed, memory, mask)[0]
    torch.testing.assert_close(a[0, :3], b[0, :3])
    assert not torch.allclose(a[0, 3:], b[0, 3:])


def test_add_and_norm_matches_layer_norm_and_catches_the_wrong_axis():
    g = torch.Generator().manual_seed(5)
    x, y = torch.randn(2, 3, D, generator=g), torch.randn(2, 3, D, generator=g)
    weight, bias = torch.randn(D, generator=g), torch.randn(D, generator=g)
    expected = nn.functional.layer_norm(x + y, (D,), weight, bias, 1e-5)
    torch.testing.assert_close(add_and_norm(x, y, weight, bias), expected, atol=1e-5, rtol=1e-5)
    z = x + y  # the slip: normalise over positions (axis 1) instead of features
    wrong = (z - z.mean(1, keepdim=True)) / torch.sqrt(z.var(1, unbiased=False, keepdim=True) + 1e-5) * weight + bias
    assert not torch.allclose(wrong, expected, atol=1e-3)
    no_residual = nn.functional.layer_norm(y, (D,), weight, bias, 1e-5)
    assert not torch.allclose(no_residual, expected, atol=1e-3)
    with pytest.raises(AttentionShapeError, match="sublayer_output"):
        add_and_norm(x, y[:, :2])


def test_feed_forward_is_position_wise():
    ff = FeedForward(D, D_FF)
    x = torch.randn(1, 4, D, generator=torch.Generator().manual_seed(6))
    torch.testing.assert_close(ff(x)[0, 2], ff(x[:, 2:3])[0, 0])


def test_copy_refuses_pre_norm():
    reference = nn.TransformerEncoderLayer(D, H, D_FF, dropout=0.0, batch_first=True, norm_first=True)
    with pytest.raises(ValueError, match="norm_first"):
        copy_from_torch(EncoderLayer(D, H, D_FF), reference)


def test_sinusoidal_encoding_formula_and_distance_property():
    pe = sinusoidal_encoding(50, 8)
    pos, i = 7, 2
    assert math.isclose(pe[pos, 2 * i], math.sin(pos / 10000 ** (2 * i / 8)), abs_tol=1e-6)
    assert math.isclose(pe[pos, 2 * i + 1], math.cos(pos / 10000 ** (2 * i / 8)), abs_tol=1e-6)
    dots = pe @ pe.T  # (L, L): depends only on the distance between positions
    torch.testing.assert_close(dots.diagonal(3)[:10], dots.diagonal(3)[20:30], atol=1e-4, rtol=0)
    torch.testing.assert_close(dots.diagonal(), torch.full((50,), 4.0), atol=1e-5, rtol=0)  # D/2 pairs
    swapped = torch.stack([pe[:, 1::2], pe[:, 0::2]], dim=-1).reshape(50, 8)  # sin and cos swapped
    assert not torch.allclose(swapped, pe)
    with pytest.raises(ValueError, match="even"):
        sinusoidal_encoding(5, 7)


def test_position_modules_add_to_the_input():
    x = torch.zeros(2, 5, 8)
    torch.testing.assert_close(SinusoidalPositions(8)(x)[1], sinusoidal_encoding(5, 8))
    learned = LearnedPositions(8, max_positions=5)
    torch.testing.assert_close(learned(x)[0], learned.embedding.weight)
    with pytest.raises(ValueError, match="learned only 5"):
        learned(torch.zeros(1, 6, 8))


def test_a_plugged_in_attention_runs_every_attention_of_a_layer_and_of_a_training_model():
    """``use_attention`` / ``use_layers(attention=)`` put a learner's multi-head attention (here lesson 7's
    worked solution) in every attention: the layer still equals torch's, and a model in train mode calls
    it instead of the fused kernel."""
    from attnkit.grading.content.exercises.lesson7_transformer import multi_head_attention
    from attnkit.transformer.layers import LayerAttention, use_attention
    from attnkit.transformer.model import build_transformer

    ours, inputs, expected = _decoder_case()
    calls = []

    def counted(attention, query, key, value, mask):
        calls.append(tuple(mask.shape) if mask is not None else None)
        return multi_head_attention(attention, query, key, value, mask)

    use_attention(ours, counted)
    got, _ = ours(*inputs)
    torch.testing.assert_close(got, expected, atol=1e-5, rtol=1e-5)
    assert calls == [(4, 4), (2, 1, 1, 6)], \
        "self-attention gets the causal mask, cross-attention the padding mask with its head axis"

    model = build_transformer(d_model=D, num_layers=2, num_heads=H, d_ff=D_FF)
    calls.clear()
    model.use_layers(attention=counted)
    model.train()
    src, tgt = torch.tensor([[4, 5, 6], [4, 5, 0]]), torch.tensor([[1, 4, 5], [1, 6, 7]])
    logits, weights = model(src, torch.tensor([3, 2]), tgt)
    assert logits.shape == (2, 3, len(model.tgt_vocab))
    assert weights is not None, "in training a plugged-in attention still runs, with its weights: no fused kernel"
    assert len(calls) == 2 + 2 * 2, "every attention (2 encoder, 2 x 2 decoder) ran the plugged-in function"
    model.use_layers()
    assert all(m.compute is None for m in model.modules() if isinstance(m, LayerAttention))
