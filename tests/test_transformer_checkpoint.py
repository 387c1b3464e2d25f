"""The shipped Transformer checkpoint (lesson 7) and the script that makes it."""
import subprocess
import sys
from pathlib import Path

import torch

from attnkit.translation.seq2seq import greedy_decode
from attnkit.translation.toy_language import translation_dataset
from attnkit.translation.training import (
    CHECKPOINTS,
    EPOCHS,
    build_translator,
    load_checkpoint,
    load_pretrained,
    make_batches,
)

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = ROOT / "attnkit" / "translation" / "checkpoints" / "transformer_64.pt"


def test_shipped_file_matches_the_script_config():
    """The file holds what scripts/make_checkpoints.py would build and train: config, seed, epochs, steps."""
    saved = torch.load(SHIPPED, map_location="cpu", weights_only=True)
    kind, d_model = CHECKPOINTS["transformer_64"]
    assert saved["config"] == build_translator(kind, d_model, seed=0).config()
    steps = sum(len(make_batches(translation_dataset()[0], 64, seed=epoch)) for epoch in range(EPOCHS))
    assert saved["training"] == {"epochs": EPOCHS, "seed": 0, "steps": steps}
    assert SHIPPED.stat().st_size < 1_000_000, "the checkpoint should stay small (float16)"


def test_shipped_transformer_translates_and_crosses():
    model = load_pretrained("transformer_64")
    assert greedy_decode(model, "the small white mouse slept under a big table")[0] == \
        "la souris petite blanche dormit sous une table grande".split()


def _run_script(out: Path) -> None:
    subprocess.run([sys.executable, str(ROOT / "scripts" / "make_checkpoints.py"), "transformer_64",
                    "--epochs", "1", "--limit", "64", "--out", str(out)], check=True, timeout=300,
                   capture_output=True, cwd=ROOT)


def test_script_gives_the_same_file_twice(tmp_path):
    """A tiny budget, twice: the same weights, bit for bit (seeded, single-threaded)."""
    first, second = tmp_path / "a", tmp_path / "b"
    _run_script(first)
    _run_script(second)
    a, b = load_checkpoint(first / "transformer_64.pt"), load_checkpoint(second / "transformer_64.pt")
    for (name, x), (_, y) in zip(a.state_dict().items(), b.state_dict().items()):
        assert torch.equal(x, y), name
    assert (first / "transformer_64.pt").read_bytes() == (second / "transformer_64.pt").read_bytes()
