"""The translation models of lessons 1-2: shapes, attention weights, padding, decoding."""
import numpy as np
import pytest
import torch

from attnkit.errors import AttentionShapeError
from attnkit.translation.seq2seq import (
    Seq2Seq,
    build_model,
    decode_batch,
    encode_batch,
    greedy_decode,
    summary_vectors,
)
from attnkit.translation.toy_language import translate

SENTENCES = ["the black cat sat", "a small white mouse slept under the big table", "every dog ran"]


def _batch(model, sentences=SENTENCES):
    src, src_lengths = encode_batch(sentences, model.src_vocab)
    tgt, _ = encode_batch([translate(s) for s in sentences], model.tgt_vocab, bos=True, eos=True)
    return src, src_lengths, tgt[:, :-1]


@pytest.mark.parametrize("kind", ["fixed", "attention"])
def test_forward_shapes(kind):
    model = build_model(kind, d_model=16, embedding_dim=8)
    src, src_lengths, tgt_in = _batch(model)
    logits, weights = model(src, src_lengths, tgt_in)
    B, S = src.shape
    L = tgt_in.shape[1]
    assert logits.shape == (B, L, len(model.tgt_vocab))
    assert weights.shape == (B, L, S)


def test_attention_weights_sum_to_one_and_skip_padding():
    """Each row is a distribution over the real source words; padding gets exactly 0.

    A learner who forgets the mask gives padding weight; one who normalises over the wrong axis
    gets rows that do not sum to 1. Both fail here."""
    model = build_model("attention", d_model=16, embedding_dim=8)
    src, src_lengths, tgt_in = _batch(model)
    _, weights = model(src, src_lengths, tgt_in)  # (B, L, S)
    for b, n in enumerate(src_lengths.tolist()):
        torch.testing.assert_close(weights[b, :, :n].sum(-1), torch.ones(weights.shape[1]))
        assert torch.all(weights[b, :, n:] == 0), "padding must get zero weight"
        assert torch.all(weights[b, :, :n] > 0)


def test_fixed_vector_decoder_looks_at_no_word():
    model = build_model("fixed", d_model=16, embedding_dim=8)
    _, weights = model(*_batch(model))
    assert torch.all(weights == 0)


@pytest.mark.parametrize("kind", ["fixed", "attention"])
def test_padding_does_not_change_a_sentence(kind):
    """A sentence decodes the same alone as in a batch padded to a longer sentence."""
    model = build_model(kind, d_model=16, embedding_dim=8, seed=1)
    src, src_lengths, tgt_in = _batch(model)
    logits, weights = model(src, src_lengths, tgt_in)
    short = 2  # "every dog ran": the shortest, padded in the batch
    n, t = int(src_lengths[short]), len(translate(SENTENCES[short]).split()) + 1
    alone_logits, alone_weights = model(src[short:, :n], src_lengths[short:], tgt_in[short:, :t])
    torch.testing.assert_close(logits[short, :t], alone_logits[0], atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(weights[short, :t, :n], alone_weights[0], atol=1e-6, rtol=1e-5)


def test_build_model_is_seeded_and_leaves_global_rng_alone():
    torch.manual_seed(123)
    before = torch.rand(1)
    torch.manual_seed(123)
    a, b = build_model("attention", 16, 8, seed=5), build_model("attention", 16, 8, seed=5)
    assert torch.rand(1) == before, "build_model must not consume the global RNG"
    c = build_model("attention", 16, 8, seed=6)
    for (name, p), q in zip(a.named_parameters(), b.parameters()):
        assert torch.equal(p, q), name
    assert not all(torch.equal(p, r) for p, r in zip(a.parameters(), c.parameters()))


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="kind is 'rnn'"):
        Seq2Seq("rnn")
    with pytest.raises(ValueError, match="d_model is 15"):
        Seq2Seq("fixed", d_model=15)
    model = build_model("fixed", 16, 8)
    src, src_lengths, tgt_in = _batch(model)
    with pytest.raises(AttentionShapeError, match="tgt_in"):
        model(src, src_lengths, tgt_in[:2])


def test_greedy_decode_returns_words_and_one_weight_row_per_word():
    model = build_model("attention", d_model=16, embedding_dim=8)
    words, weights = greedy_decode(model, "the black cat sat", max_len=6)
    assert isinstance(weights, np.ndarray)
    assert weights.shape == (len(words), 4)
    np.testing.assert_allclose(weights.sum(-1), 1.0, rtol=1e-5)


def test_decode_batch_stops_and_pads_after_eos(monkeypatch):
    """Rows write EOS at different steps (forced: an untrained model rarely writes it): after its
    EOS a row holds PAD, and decoding stops once every row has written EOS, before max_len."""
    model = build_model("attention", d_model=16, embedding_dim=8)
    eos, pad = model.tgt_vocab.eos_id, model.tgt_vocab.pad_id
    src, src_lengths = encode_batch(SENTENCES, model.src_vocab)
    eos_step = [1, 3, 0]  # row b writes EOS at step eos_step[b]
    real_step, steps = model.decoder.step, []

    def step(*args, **kwargs):
        logits, state, weights = real_step(*args, **kwargs)
        logits = logits.clone()
        logits[:, eos] = -1e9  # no EOS except where forced: after it, only the padding rule writes PAD
        for row, at in enumerate(eos_step):
            if len(steps) == at:
                logits[row, eos] = 1e9
        steps.append(len(steps))
        return logits, state, weights

    monkeypatch.setattr(model.decoder, "step", step)
    tokens, weights = decode_batch(model, src, src_lengths, max_len=7)
    assert tokens.shape == (3, max(eos_step) + 1), "decoding stops at the step the last row writes EOS"
    assert weights.shape == (*tokens.shape, src.shape[1])
    for row, at in zip(tokens.tolist(), eos_step):
        assert row[at] == eos and eos not in row[:at], row
        assert row[at + 1:] == [pad] * (len(row) - at - 1), f"after EOS only PAD: {row}"
        assert pad not in row[:at], row


def test_summary_vectors_are_the_encoders_final_state():
    model = build_model("fixed", d_model=16, embedding_dim=8)
    vectors = summary_vectors(model, SENTENCES)
    assert vectors.shape == (3, 16)
    src, src_lengths = encode_batch(SENTENCES[:1], model.src_vocab)
    with torch.no_grad():
        states, _ = model.encoder(src, src_lengths)  # (1, S, D)
    # forward half: state after the last word; backward half: state after reading back to word 1
    np.testing.assert_allclose(vectors[0, :8], states[0, -1, :8].numpy(), rtol=1e-5)
    np.testing.assert_allclose(vectors[0, 8:], states[0, 0, 8:].numpy(), rtol=1e-5)
