"""attnkit's own MiniLM encoder against two oracles: sentence-transformers and transformers."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from attnkit import AttentionShapeError, scaled_dot_product_attention
from attnkit.transformer.minilm import EncoderOutput, load_minilm
from attnkit.transformer.pretrained import model_dir

SENTENCES = [
    "The animal didn't cross the street because it was too tired.",
    "The animal didn't cross the street because it was too wide.",
    "The cat sat on the mat.",
    "The quick brown fox jumps over the lazy dog near the barn.",
    "Le chat noir est assis.",
    "neural networks",
    "deep learning",
    "Attention lets every word look at every other word.",
    "RNNs process a sentence one word at a time, carrying a hidden state.",
    "Transformers replaced recurrence with stacked self-attention layers.",
    "How do I bake sourdough bread at home?",
    "The stock market fell sharply on Tuesday after the announcement.",
    "She plays the violin in the city orchestra.",
    "Photosynthesis turns light into chemical energy.",
    "Is it going to rain tomorrow in Paris?",
    "A dog bites a man.",
    "A man bites a dog.",
    "1234 5678 numbers and symbols: $%& ?!",
    "Supercalifragilisticexpialidocious words split into many word pieces.",
    "x",
    "The library has books about cooking, gardening and neural networks.",
    "Keep the book open and scan back to the relevant paragraph.",
    # longer than the model's 256-token limit, so truncation is tested too
    " ".join(["attention is all you need"] * 70),
]


@pytest.fixture(scope="module")
def model():
    return load_minilm()


@pytest.fixture(scope="module")
def reference_embeddings():
    from sentence_transformers import SentenceTransformer

    st = SentenceTransformer(str(model_dir()), device="cpu")
    return st.encode(SENTENCES, batch_size=4, normalize_embeddings=True, convert_to_numpy=True)


@pytest.fixture(scope="module")
def hf_outputs():
    """transformers' BertModel with plain (eager) softmax attention on a padded batch."""
    from transformers import AutoModel, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(model_dir())
    bert = AutoModel.from_pretrained(model_dir(), attn_implementation="eager").eval()
    batch = tokenizer(SENTENCES[:6], padding=True, return_tensors="pt")
    with torch.no_grad():
        out = bert(**batch, output_attentions=True)
    return batch, out


def learner_attention(query, key, value, mask=None, scale=None):
    """What a learner writes: four lines of torch, the mask as True = may attend."""
    scores = query @ key.transpose(-2, -1) / math.sqrt(query.shape[-1])  # (B, H, L, S)
    scores = scores.masked_fill(~mask, float("-inf"))
    weights = torch.softmax(scores, dim=-1)
    return weights @ value, weights


def test_sentence_embeddings_match_sentence_transformers(model, reference_embeddings):
    ours = model.encode(SENTENCES, batch_size=4)  # small batches: only the long one pads to 256
    assert ours.shape == (len(SENTENCES), 384) and ours.dtype == np.float32
    cosine = (ours * reference_embeddings).sum(axis=1)
    assert cosine.min() >= 0.9999, f"worst cosine {cosine.min():.6f} for {SENTENCES[cosine.argmin()]!r}"
    np.testing.assert_allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)


def test_batch_size_does_not_change_embeddings(model):
    one_by_one = np.concatenate([model.encode([s]) for s in SENTENCES[:5]])
    np.testing.assert_allclose(model.encode(SENTENCES[:5], batch_size=5), one_by_one, atol=1e-5)


def test_hidden_states_and_attentions_match_transformers(model, hf_outputs):
    batch, reference = hf_outputs
    with torch.no_grad():
        ours = model(batch["input_ids"], batch["attention_mask"])
    assert isinstance(ours, EncoderOutput)
    expected = torch.stack(reference.attentions)  # (layers, B, H, L, L)
    assert ours.attentions.shape == expected.shape == (6, 6, 12, *batch["input_ids"].shape[1:] * 2)
    real = batch["attention_mask"].bool()  # padded query rows are undefined; compare real ones
    for b in range(len(real)):
        n = int(real[b].sum())
        diff = (ours.attentions[:, b, :, :n, :] - expected[:, b, :, :n, :]).abs().max()
        assert diff <= 1e-4, f"sentence {b}: attention weights differ by {diff:.2e}"
        hidden = (ours.hidden_states[b, :n] - reference.last_hidden_state[b, :n]).abs().max()
        assert hidden <= 1e-4, f"sentence {b}: hidden states differ by {hidden:.2e}"


def test_padding_gets_no_attention(model):
    input_ids, attention_mask, tokens = model.tokenize(["a short one", "a much longer sentence than the first"])
    with torch.no_grad():
        weights = model(input_ids, attention_mask).attentions  # (layers, B, H, L, L)
    n = len(tokens[0])
    assert n < input_ids.shape[1]
    assert weights[:, 0, :, :, n:].abs().max() == 0, "a query attended to a [PAD] key"
    torch.testing.assert_close(weights[:, :, :, :n].sum(-1), torch.ones_like(weights[:, :, :, :n, 0]))


def test_attention_maps_for_the_newsletter_sentence(model):
    tokens, weights = model.attention_maps(SENTENCES[0])
    assert tokens[0] == "[CLS]" and tokens[-1] == "[SEP]" and "animal" in tokens and "it" in tokens
    assert weights.shape == (6, 12, len(tokens), len(tokens))
    it, animal, street = tokens.index("it"), tokens.index("animal"), tokens.index("street")
    # the numbers the issue measured with transformers' eager attention
    assert weights[3, 1, it, animal] == pytest.approx(0.68, abs=0.01)
    assert weights[3, 1, it, street] == pytest.approx(0.05, abs=0.01)
    assert weights[5, 11, it, animal] == pytest.approx(0.67, abs=0.01)


def test_attention_hook_with_attnkit_reproduces_default(model):
    default = model.encode(SENTENCES[:6])
    np.testing.assert_allclose(model.encode(SENTENCES[:6], attention=scaled_dot_product_attention), default, atol=1e-6)


def test_learners_attention_runs_the_real_model(model, reference_embeddings):
    calls = []

    def spy(query, key, value, mask=None, scale=None):
        calls.append((tuple(query.shape), tuple(mask.shape)))
        return learner_attention(query, key, value, mask)

    ours = model.encode(SENTENCES[:4], attention=spy)
    assert len(calls) == 6, "the hook must run in each of the 6 layers"
    B, L = 4, max(len(t) for t in model.tokenize(SENTENCES[:4])[2])
    assert calls[0] == ((B, 12, L, 32), (B, 1, 1, L))
    assert (ours * reference_embeddings[:4]).sum(1).min() >= 0.9999


def _no_scale(query, key, value, mask=None, scale=None):
    return scaled_dot_product_attention(query, key, value, mask, scale=1.0)


def _wrong_axis(query, key, value, mask=None, scale=None):
    scores = (query @ key.transpose(-2, -1) / math.sqrt(query.shape[-1])).masked_fill(~mask, float("-inf"))
    weights = torch.nan_to_num(torch.softmax(scores, dim=-2))  # normalised over queries, not keys
    return weights @ value, weights


def _flipped_mask(query, key, value, mask=None, scale=None):
    return scaled_dot_product_attention(query, key, value, ~mask)


@pytest.mark.parametrize("wrong", [_no_scale, _wrong_axis, _flipped_mask])
def test_wrong_attention_changes_the_embeddings(model, wrong):
    batch = SENTENCES[:4]  # different lengths, so there is padding for the flipped mask to expose
    right = model.encode(batch)
    broken = np.nan_to_num(model.encode(batch, attention=wrong))
    assert (right * broken).sum(1).min() < 0.99, f"{wrong.__name__} went unnoticed"


def test_without_positions_word_order_is_invisible(model):
    input_ids, attention_mask, _ = model.tokenize(["a dog bites a man.", "a man bites a dog."])
    with torch.no_grad():
        with_order = model(input_ids, attention_mask).hidden_states.mean(1)  # (B, L, D) -> (B, D)
        no_order = model(input_ids, attention_mask, position_ids=torch.zeros_like(input_ids)).hidden_states.mean(1)
    cos = torch.nn.functional.cosine_similarity
    assert cos(no_order[0], no_order[1], dim=0) > 0.99999
    assert cos(with_order[0], with_order[1], dim=0) < 0.999


def test_input_errors(model):
    with pytest.raises(TypeError, match="list of strings"):
        model.tokenize("one sentence")
    with pytest.raises(AttentionShapeError, match="input_ids"):
        model(torch.tensor([101, 102]), torch.tensor([1, 1]))
    input_ids, attention_mask, _ = model.tokenize(["hello"])
    with pytest.raises(AttentionShapeError, match="attention_mask"):
        model(input_ids, attention_mask[:, :-1])


def test_empty_input(model):
    assert model.encode([]).shape == (0, 384)


def test_truncates_like_sentence_transformers(model):
    input_ids, _, tokens = model.tokenize([SENTENCES[-1]])
    assert input_ids.shape == (1, 256) and tokens[0][-1] == "[SEP]"
