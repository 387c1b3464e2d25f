"""The Transformer's fused path, its torch twin, its arithmetic count and its short live training
(lessons 7 and 8). Oracles: torch's own layers and nn.Transformer with copied weights, and
torch.utils.flop_counter."""
import math

import matplotlib
import pytest
import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from attnkit import causal_mask, padding_mask
from attnkit.transformer.flops import gru_translator_multiply_adds, model_multiply_adds, transformer_multiply_adds
from attnkit.transformer.layers import (
    DecoderLayer,
    EncoderLayer,
    LayerAttention,
    copy_from_torch,
    decoder_layer,
    encoder_layer,
)
from attnkit.transformer.live_training import plot_loss_curve, train_briefly, warmup_learning_rate
from attnkit.transformer.model import build_transformer
from attnkit.transformer.training_speed import STEP_MODELS, TorchTransformerSeq2Seq, load_recorded_speeds, toy_batch
from attnkit.translation.toy_language import translation_dataset

matplotlib.use("Agg")
D, H, D_FF = 16, 4, 32


@pytest.mark.parametrize("mask_kind", ["padding", "causal", None])
def test_fused_attention_gives_the_same_output_and_gradients(mask_kind):
    torch.manual_seed(0)
    attention = LayerAttention(D, H)
    x = torch.randn(2, 5, D, requires_grad=True)
    mask = {"padding": padding_mask(torch.tensor([5, 3]), 5), "causal": torch.as_tensor(causal_mask(5)),
            None: None}[mask_kind]
    outputs, grads = [], []
    for need_weights in (True, False):
        attention.need_weights = need_weights
        out, weights = attention(x, x, x, mask)
        assert (weights is None) == (not need_weights), "the fused path returns no weights"
        out.square().sum().backward()
        outputs.append(out.detach())
        grads.append(x.grad.clone())
        x.grad = None
    torch.testing.assert_close(outputs[0], outputs[1], atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(grads[0], grads[1], atol=1e-5, rtol=1e-5)


def test_model_skips_the_weights_while_training_only():
    model = build_transformer(seed=0)
    src, src_lengths, tgt_in, _ = toy_batch(model, 3, 7)
    model.train()
    logits_fused, weights = model(src, src_lengths, tgt_in)
    assert weights is None, "a training step computes no attention weights"
    model.eval()
    logits, weights = model(src, src_lengths, tgt_in)
    assert weights.shape == (3, tgt_in.shape[1], src.shape[1])
    torch.testing.assert_close(logits_fused, logits, atol=1e-4, rtol=1e-4)
    assert all(m.need_weights for m in model.modules() if isinstance(m, LayerAttention)), \
        "after a run the layers report their weights again"


def test_a_replaced_layer_function_runs_inside_the_model():
    model = build_transformer(seed=0)
    calls = []

    def mine(layer, x, mask):
        calls.append(x.shape)
        return encoder_layer(layer, x, mask)

    model.use_layers(encoder_layer=mine)
    src, src_lengths, tgt_in, _ = toy_batch(model, 2, 5)
    model(src, src_lengths, tgt_in)
    assert len(calls) == model.num_layers, "each encoder layer calls the function once"
    model.use_layers()
    model(src, src_lengths, tgt_in)
    assert len(calls) == model.num_layers, "use_layers() restores attnkit's functions"


def test_layer_functions_match_torch_with_copied_weights():
    torch.manual_seed(0)
    torch_encoder = nn.TransformerEncoderLayer(D, H, D_FF, dropout=0.0, batch_first=True).eval()
    torch_decoder = nn.TransformerDecoderLayer(D, H, D_FF, dropout=0.0, batch_first=True).eval()
    encoder, decoder = EncoderLayer(D, H, D_FF), DecoderLayer(D, H, D_FF)
    copy_from_torch(encoder, torch_encoder)
    copy_from_torch(decoder, torch_decoder)
    g = torch.Generator().manual_seed(4)
    x, y = torch.randn(2, 6, D, generator=g), torch.randn(2, 4, D, generator=g)
    causal = torch.as_tensor(causal_mask(4))
    with torch.no_grad():
        out, _ = encoder_layer(encoder, x, None)
        torch.testing.assert_close(out, torch_encoder(x), atol=1e-5, rtol=1e-5)
        out, (self_w, cross_w) = decoder_layer(decoder, y, x, causal, None)
        torch.testing.assert_close(out, torch_decoder(y, x, tgt_mask=~causal), atol=1e-5, rtol=1e-5)
    assert self_w.shape == (2, H, 4, 4) and cross_w.shape == (2, H, 4, 6)


def test_torch_twin_is_our_model_plus_two_final_norms():
    """With our layers' weights copied from the twin and its two final norms removed, the logits agree."""
    ours = build_transformer(d_model=D, num_heads=H, d_ff=D_FF, seed=0).eval()
    twin = TorchTransformerSeq2Seq(ours).eval()
    twin.transformer.encoder.norm = twin.transformer.decoder.norm = nn.Identity()
    for mine, theirs in zip(ours.encoder.layers, twin.transformer.encoder.layers):
        copy_from_torch(mine, theirs)
    for mine, theirs in zip(ours.decoder.layers, twin.transformer.decoder.layers):
        copy_from_torch(mine, theirs)
    ours.encoder.embedding.load_state_dict(twin.src_embedding.state_dict())
    ours.decoder.embedding.load_state_dict(twin.tgt_embedding.state_dict())
    ours.decoder.out.load_state_dict(twin.out.state_dict())
    src, src_lengths, tgt_in, _ = toy_batch(ours, 3, 6)
    src[2, 4:], src_lengths[2] = 0, 4  # one padded sentence
    with torch.no_grad():
        expected, _ = twin(src, src_lengths, tgt_in)
        got, _ = ours(src, src_lengths, tgt_in)
    torch.testing.assert_close(got, expected, atol=1e-4, rtol=1e-4)


@pytest.mark.parametrize("name", ["gru", "transformer"])
def test_multiply_add_counts_match_torchs_flop_counter(name):
    model = STEP_MODELS[name](0).eval()
    src, src_lengths, tgt_in, _ = toy_batch(model, 1, 9)
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        model(src, src_lengths, tgt_in, need_weights=True) if name == "transformer" else model(src, src_lengths, tgt_in)
    counted = model_multiply_adds(model, S=src.shape[1], L=tgt_in.shape[1])
    assert counted["total"] == counter.get_total_flops() // 2, f"{name}: {counted} vs {counter.get_flop_counts()}"


def test_counts_grow_as_the_formulas_say():
    short = transformer_multiply_adds(10, 10, 64, 2, 256, 100)["total"]
    long = transformer_multiply_adds(20, 20, 64, 2, 256, 100)["total"]
    assert 2 < long / short < 4, "the Transformer's count grows faster than the length (its L x S terms)"
    gru = [gru_translator_multiply_adds(n, n, 128, 64, 100)["total"] for n in (10, 20)]
    assert 2 <= gru[1] / gru[0] < 2.2, "the GRU's count grows about linearly (its attention scores S per step)"
    with pytest.raises(ValueError, match="kind"):
        model_multiply_adds(STEP_MODELS["torch"](0), 5, 5)


def test_warmup_rises_linearly_then_holds():
    rates = [warmup_learning_rate(step, 1e-3, 4) for step in range(6)]
    assert rates == pytest.approx([2.5e-4, 5e-4, 7.5e-4, 1e-3, 1e-3, 1e-3])
    assert warmup_learning_rate(0, 1e-3, 0) == 1e-3


def test_train_briefly_is_seeded_and_learns():
    pairs = [p for p in translation_dataset(n=400)[0] if len(p[0].split()) <= 6]
    runs = []
    for _ in range(2):
        model = build_transformer(seed=0)
        runs.append(train_briefly(model, pairs, steps=12, batch_size=16, warmup_steps=4, live=False))
    assert runs[0] == runs[1], "the same seed gives the same losses"
    assert len(runs[0]) == 12 and runs[0][-1] < runs[0][0], "12 steps lower the loss"
    assert not model.training, "the model is back in eval mode"
    fig = plot_loss_curve(runs[0], reference=0.1)
    assert fig.axes[0].get_yscale() == "log" and len(fig.axes[0].lines) == 2
    assert runs[0][0] == pytest.approx(math.log(len(model.tgt_vocab)), rel=0.2), "the first loss is near ln V"


def test_recorded_speeds_are_shipped_with_what_they_were_measured_on():
    recorded = load_recorded_speeds()
    for key in ("device", "versions", "date", "load", "batch_size", "threads", "lengths", "median_ms"):
        assert key in recorded, f"the recorded timings lack {key!r}"
    assert {"transformer", "transformer_weights", "torch"} <= set(recorded["median_ms"])
    assert all(len(times) == len(recorded["lengths"]) for times in recorded["median_ms"].values())
