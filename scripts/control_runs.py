"""The control runs behind lesson 1's conclusion: more seeds, and a longer budget for the fixed vector.

    .venv/bin/python scripts/control_runs.py          # about 12 minutes on one core

Lesson 1 compares one seed of each model after the same 8 epochs. Is the fixed vector's fall with
sentence length a property of the architecture, or of that seed and that budget? This script
trains the same models on the same data (``translation_dataset()``) with other seeds, and the
fixed-vector model for three times the epochs, and writes each run's token accuracy by source
length to ``attnkit/translation/checkpoints/control_runs.json`` (read by
:func:`attnkit.translation.training.load_control_runs`). Single-threaded, so a rerun gives the
same numbers. The seed-0, 8-epoch runs are the shipped checkpoints, evaluated, not retrained.
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch

from attnkit.translation.seq2seq import build_model
from attnkit.translation.toy_language import translation_dataset
from attnkit.translation.training import EPOCHS, accuracy_by_length, load_pretrained, train

OUT = Path(__file__).resolve().parents[1] / "attnkit" / "translation" / "checkpoints" / "control_runs.json"

# (kind, d_model, seed, epochs) of every run
RUNS = [("fixed", 128, 0, EPOCHS), ("attention", 128, 0, EPOCHS),
        ("fixed", 128, 1, EPOCHS), ("fixed", 128, 2, EPOCHS), ("fixed", 128, 3, EPOCHS),
        ("attention", 128, 1, EPOCHS), ("attention", 128, 2, EPOCHS),
        ("fixed", 128, 0, 3 * EPOCHS)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    torch.set_num_threads(1)
    train_pairs, test_pairs = translation_dataset()
    runs = []
    for kind, d_model, seed, epochs in RUNS:
        start = time.perf_counter()
        if seed == 0 and epochs == EPOCHS:
            model = load_pretrained(f"{kind}_{d_model}")
        else:
            model = build_model(kind, d_model, seed=seed)
            train(model, train_pairs, epochs=epochs, seed=seed, progress=False)
        accuracy = accuracy_by_length(model, test_pairs)
        runs.append({"kind": kind, "d_model": d_model, "seed": seed, "epochs": epochs,
                     "seconds": round(time.perf_counter() - start, 1),
                     "accuracy_by_length": {str(n): round(a, 4) for n, a in accuracy.items()}})
        print(f"{kind} D={d_model} seed={seed} epochs={epochs}: "
              f"{accuracy[min(accuracy)]:.2f} at {min(accuracy)} words, {accuracy[max(accuracy)]:.2f} at "
              f"{max(accuracy)} words ({runs[-1]['seconds']:.0f} s)", flush=True)
        args.out.write_text(json.dumps({"runs": runs}, indent=1) + "\n")  # after each run: partial results survive


if __name__ == "__main__":
    main()
