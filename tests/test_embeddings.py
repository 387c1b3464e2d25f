"""attnkit.transformer.embeddings against sentence-transformers' own encode of the same model, the oracle."""
import socket

import numpy as np
import pytest
import torch

from attnkit.transformer.embeddings import EMBEDDING_DIM, embed, load_encoder, mean_pool
from attnkit.transformer.pretrained import model_dir

SENTENCES = [
    "neural networks",
    "deep learning",
    "a recipe for tomato soup",
    "The animal didn't cross the street because it was too tired.",
    "The quick brown fox jumps over the lazy dog near the barn.",
    "How do I bake sourdough bread at home?",
    "Attention lets a network look at every word at once.",
    "Le chat noir est assis sur le tapis.",
    "stars",
    "Which telescope should a beginner buy to see the rings of Saturn on a clear night?",
    "",  # the empty sentence still has [CLS] and [SEP]
    "word " * 400,  # longer than 256 tokens: both sides must cut it at the same place
]


@pytest.fixture(scope="module")
def oracle():
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(model_dir()), device="cpu")
    return model.encode(SENTENCES, normalize_embeddings=True, convert_to_numpy=True)


@pytest.fixture(scope="module")
def ours():
    return embed(SENTENCES, batch_size=5)  # 5 does not divide 12: the last batch is short


def test_shape_dtype_and_unit_length(ours):
    assert ours.shape == (len(SENTENCES), EMBEDDING_DIM) == (12, 384), ours.shape
    assert ours.dtype == np.float32, ours.dtype
    np.testing.assert_allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5,
                               err_msg="embed must return unit-length rows (dot product = cosine)")


def test_agrees_with_sentence_transformers(ours, oracle):
    cosines = np.sum(ours * oracle, axis=1) / np.linalg.norm(oracle, axis=1)
    worst = int(np.argmin(cosines))
    assert cosines.min() >= 0.9999, f"sentence {worst} {SENTENCES[worst][:40]!r}: cosine {cosines[worst]:.6f}"


def test_batch_size_does_not_change_the_answer(ours):
    one_by_one = embed(SENTENCES, batch_size=1)  # no padding at all
    np.testing.assert_allclose(one_by_one, ours, atol=2e-5,
                               err_msg="padding leaked into the mean: mask it out when pooling")


def test_similar_meanings_land_close(ours):
    close = float(ours[0] @ ours[1])  # "neural networks" . "deep learning"
    far = float(ours[0] @ ours[2])  # "neural networks" . "a recipe for tomato soup"
    assert close > far + 0.3, f"close {close:.3f} vs far {far:.3f}"


def test_mean_pool_skips_padding_and_a_plain_mean_does_not():
    g = torch.Generator().manual_seed(0)
    hidden = torch.randn(2, 5, 3, generator=g)
    mask = torch.tensor([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]])
    pooled = mean_pool(hidden, mask)
    torch.testing.assert_close(pooled[0], hidden[0, :3].mean(0))
    torch.testing.assert_close(pooled[1], hidden[1].mean(0))
    wrong = hidden.mean(dim=1)  # the learner's slip: averaging the padding vectors too
    assert not torch.allclose(wrong[0], pooled[0]), "a plain mean must differ when there is padding"


def test_mean_pool_checks_shapes():
    with pytest.raises(ValueError, match="attention_mask has shape"):
        mean_pool(torch.zeros(2, 5, 3), torch.ones(2, 4))


def test_single_string_is_refused_with_a_hint():
    with pytest.raises(TypeError, match=r"embed\(\['neural networks'\]\)"):
        embed("neural networks")


def test_empty_list_and_bad_batch_size():
    assert embed([]).shape == (0, EMBEDDING_DIM)
    with pytest.raises(ValueError, match="batch_size"):
        embed(["a"], batch_size=0)


def test_loads_with_the_network_blocked(monkeypatch):
    def refuse(*args, **kwargs):
        raise OSError("network access attempted while loading the model")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    load_encoder.cache_clear()  # force a fresh load from the package files
    try:
        vector = embed(["offline"])
    finally:
        load_encoder.cache_clear()
    assert vector.shape == (1, EMBEDDING_DIM)
