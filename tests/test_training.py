"""Training, evaluation and checkpoints of the translation models (lessons 1-2)."""
import numpy as np
import pytest
import torch

from attnkit.translation.seq2seq import build_model, greedy_decode
from attnkit.translation.toy_language import generate_pairs, translation_dataset
from attnkit.translation.training import (
    CHECKPOINTS,
    accuracy_by_length,
    accuracy_by_position,
    alignment_agreement,
    load_checkpoint,
    load_pretrained,
    make_batches,
    save_checkpoint,
    token_accuracy,
    train,
)

SENTENCE = "a small white mouse slept under the big table"


@pytest.mark.parametrize("kind", ["fixed", "attention"])
def test_tiny_batch_is_overfit_and_training_is_reproducible(kind):
    """Eight pairs, learned by heart: the loss falls near zero and greedy decoding is exact."""
    pairs = generate_pairs(8, 5, 5, seed=2)  # one length: one batch per epoch
    losses = []
    for _ in range(2):
        model = build_model(kind, d_model=32, embedding_dim=16, seed=0)
        losses.append(train(model, pairs, epochs=60, batch_size=8, lr=1e-2, seed=0, progress=False))
    assert losses[0] == losses[1], "same seed, same losses"
    assert losses[0][-1] < 0.1 < 4 < losses[0][0]
    for english, french in pairs:
        assert greedy_decode(model, english)[0] == french.split()
    assert set(accuracy_by_length(model, pairs).values()) == {1.0}


@pytest.mark.parametrize("predicted, expected", [
    ("le chat noir assis", (4, 4)),
    ("le noir chat assis", (2, 4)),    # no reordering: two words wrong
    ("le chat assis", (2, 4)),         # a dropped word shifts the rest: position by position
    ("le chat noir assis et", (4, 4)),  # extra words after the reference are not counted
])
def test_token_accuracy(predicted, expected):
    assert token_accuracy(predicted.split(), "le chat noir assis".split()) == expected


def test_make_batches_group_equal_lengths_and_cover_all():
    pairs = generate_pairs(300, 3, 12, seed=0)
    batches = make_batches(pairs, 16, seed=0)
    assert sorted(p for b in batches for p in b) == sorted(pairs)
    assert all(len({len(e.split()) for e, _ in b}) == 1 for b in batches)
    assert make_batches(pairs, 16, seed=0) == batches != make_batches(pairs, 16, seed=1)


def test_checkpoint_round_trip(tmp_path):
    model = build_model("attention", d_model=16, embedding_dim=8, seed=3)
    save_checkpoint(model, tmp_path / "m.pt", half=False)
    loaded = load_checkpoint(tmp_path / "m.pt")
    assert loaded.config() == model.config()
    for p, q in zip(model.parameters(), loaded.parameters()):
        assert torch.equal(p, q)
    save_checkpoint(model, tmp_path / "half.pt")
    half = load_checkpoint(tmp_path / "half.pt")
    words, weights = greedy_decode(model, SENTENCE)
    half_words, half_weights = greedy_decode(half, SENTENCE)
    assert half_words == words
    np.testing.assert_allclose(half_weights, weights, atol=1e-2)


@pytest.mark.parametrize("name", sorted(CHECKPOINTS))
def test_shipped_checkpoints_load(name):
    model = load_pretrained(name)
    kind, d_model = CHECKPOINTS[name]
    assert (model.kind, model.d_model) == (kind, d_model)
    # every trained model gets a short sentence right, with the reordering
    assert greedy_decode(model, "the black cat sat")[0] == "le chat noir assis".split()


def test_shipped_attention_model_aligns_the_adjective_across_the_reordering():
    model = load_pretrained("attention_128")
    words, weights = greedy_decode(model, "the black cat sat")
    source = "the black cat sat".split()
    assert source[weights[words.index("noir")].argmax()] == "black"
    assert source[weights[words.index("chat")].argmax()] == "cat"


def test_unknown_checkpoint_is_named():
    with pytest.raises(ValueError, match="name is 'gpt'"):
        load_pretrained("gpt")


def test_accuracy_by_position_needs_one_length():
    model = build_model("fixed", d_model=16, embedding_dim=8)
    pairs = generate_pairs(20, 5, 5, seed=0)
    assert accuracy_by_position(model, pairs).shape == (5,)
    with pytest.raises(ValueError, match="one length"):
        accuracy_by_position(model, generate_pairs(20, 3, 9, seed=0))


def test_shipped_models_tell_the_lessons_story():
    """The headline of lesson 1 on a slice of the test set: at the longest length the attention
    model is accurate and the fixed vector is not."""
    test_pairs = [p for p in translation_dataset()[1] if len(p[0].split()) >= 28]
    attention = accuracy_by_length(load_pretrained("attention_128"), test_pairs)
    fixed = accuracy_by_length(load_pretrained("fixed_128"), test_pairs)
    assert min(attention.values()) >= 0.85
    assert max(fixed.values()) <= 0.5
    agreement = alignment_agreement(load_pretrained("attention_128"), test_pairs[:40])
    assert agreement["adjective"]["argmax"] >= 0.9
    assert agreement["all"]["count"] == sum(len(e.split()) for e, _ in test_pairs[:40])

