"""Lesson 7's Transformer translator: shapes, masks, generation, training and its checkpoint."""
import io

import pytest
import torch

from attnkit.transformer.model import TransformerSeq2Seq, build_transformer
from attnkit.transformer.training_speed import time_generation, time_training_steps, toy_batch, training_step
from attnkit.translation.seq2seq import decode_batch, encode_batch
from attnkit.translation.toy_language import generate_pairs


def _batch(model, sentences):
    return encode_batch(sentences, model.src_vocab)


def test_forward_shapes_and_padding():
    model = build_transformer(d_model=16, num_layers=1, num_heads=2, d_ff=32, seed=0).eval()
    src, lengths = _batch(model, ["the black cat sat", "the cat sat"])
    tgt_in = torch.ones(2, 3, dtype=torch.long)
    logits, weights = model(src, lengths, tgt_in)
    assert logits.shape == (2, 3, len(model.tgt_vocab)) and weights.shape == (2, 3, src.shape[1])
    torch.testing.assert_close(weights.sum(-1), torch.ones(2, 3))
    assert float(weights[1, :, lengths[1]:].detach().abs().sum()) == 0.0, "cross-attention never reads source padding"


def test_padding_does_not_change_a_sentence():
    """A sentence alone and the same sentence padded in a batch give the same logits."""
    model = build_transformer(d_model=16, num_layers=2, num_heads=2, d_ff=32, seed=1).eval()
    tgt_in = torch.tensor([[1, 5, 6]])
    alone = model(*_batch(model, ["the cat sat"]), tgt_in)[0]
    src, lengths = _batch(model, ["the cat sat", "the black cat sat quickly"])
    padded = model(src, lengths, tgt_in.repeat(2, 1))[0][:1]
    torch.testing.assert_close(alone, padded, atol=1e-5, rtol=1e-5)


def test_generate_matches_teacher_forcing_on_its_own_output():
    """Generation feeds its words back one at a time; rerunning them teacher-forced gives the same choices."""
    model = build_transformer(d_model=16, num_layers=1, num_heads=2, d_ff=32, seed=2).eval()
    src, lengths = _batch(model, ["the black cat sat"])
    tokens, weights = decode_batch(model, src, lengths, max_len=6)  # the GRUs' loop drives the Transformer too
    assert tokens.shape[1] == weights.shape[1] <= 6
    bos = torch.full((1, 1), model.tgt_vocab.bos_id)
    logits, _ = model(src, lengths, torch.cat([bos, tokens[:, :-1]], dim=1))
    assert torch.equal(logits.argmax(-1), tokens)


def test_training_is_deterministic_and_learns():
    """The same seed gives the same losses; eight pairs are learned by heart."""
    from attnkit.translation.training import accuracy_by_length, train

    pairs = generate_pairs(8, 5, 5, seed=2)
    runs = []
    for _ in range(2):
        model = build_transformer(d_model=32, num_layers=1, num_heads=2, d_ff=64, seed=0)
        runs.append(train(model, pairs, epochs=40, batch_size=8, lr=1e-2, seed=0, progress=False))
    assert runs[0] == runs[1], "same seed, same losses"
    assert runs[0][-1] < 0.1 < 3 < runs[0][0]
    assert set(accuracy_by_length(model, pairs).values()) == {1.0}


def test_learned_positions_and_config_round_trip():
    from attnkit.translation.training import build_translator, load_checkpoint, save_checkpoint

    model = build_transformer(d_model=16, num_layers=1, num_heads=2, d_ff=32, positions="learned", seed=3)
    buffer = io.BytesIO()
    save_checkpoint(model, buffer, half=False)
    buffer.seek(0)
    loaded = load_checkpoint(buffer)
    assert isinstance(loaded, TransformerSeq2Seq) and loaded.config() == model.config()
    for (name, a), (_, b) in zip(model.state_dict().items(), loaded.state_dict().items()):
        assert torch.equal(a, b), name
    assert build_translator("transformer", 16, num_layers=1, num_heads=2, d_ff=32).config()["d_model"] == 16
    with pytest.raises(ValueError, match="positions"):
        build_transformer(positions="rotary")


def test_training_step_timing_runs_for_both_models():
    result = time_training_steps(lengths=(5,), repeats=1, batch_size=2, progress=False)
    assert result.methods == ("gru", "transformer") and result.seconds.shape == (2, 1, 1)
    assert (result.seconds > 0).all()
    model = build_transformer(d_model=16, num_layers=1, num_heads=2, d_ff=32)
    batch = toy_batch(model, 2, 6)
    assert batch[0].shape == (2, 6) and batch[2].shape == batch[3].shape == (2, 7)
    assert training_step(model, batch) > 0
    assert all(p.grad is not None for p in model.parameters() if p.requires_grad and p.dim() > 1)
    timing = time_generation(model, 6, batch_size=2, repeats=1)
    assert timing["decoder_calls"] == 7 and timing["generate"] > 0
