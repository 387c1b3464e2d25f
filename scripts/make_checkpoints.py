"""Train the translation models of lessons 1, 2 and 7 from a seed and write attnkit/translation/checkpoints/*.pt.

    .venv/bin/python scripts/make_checkpoints.py                 # all of attnkit.translation.training.CHECKPOINTS
    .venv/bin/python scripts/make_checkpoints.py attention_128   # just one
    .venv/bin/python scripts/make_checkpoints.py transformer_64 --epochs 1 --limit 64 --out /tmp/x  # a quick check

Each model trains on ``translation_dataset()[0]`` (seed 0) with ``seed=0``, single-threaded so
that two runs give the same weights. Prints the token accuracy by length on the test pairs.
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch

from attnkit.translation.toy_language import translation_dataset
from attnkit.translation.training import (
    CHECKPOINTS,
    EPOCHS,
    accuracy_by_length,
    build_translator,
    save_checkpoint,
    train,
)

OUT = Path(__file__).resolve().parents[1] / "attnkit" / "translation" / "checkpoints"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", default=sorted(CHECKPOINTS), help="checkpoints to make")
    parser.add_argument("--epochs", type=int, default=EPOCHS)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=OUT, help="folder for the .pt files")
    parser.add_argument("--limit", type=int, default=None,
                        help="train on the first LIMIT pairs only and skip the evaluation (a quick check "
                             "that two runs give the same file; tests use it)")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)  # deterministic and, on 2 shared cores, no slower
    train_pairs, test_pairs = translation_dataset()
    train_pairs = train_pairs[: args.limit]
    args.out.mkdir(parents=True, exist_ok=True)
    for name in args.names:
        kind, d_model = CHECKPOINTS[name]
        model = build_translator(kind, d_model, seed=args.seed)
        start = time.perf_counter()
        losses = train(model, train_pairs, epochs=args.epochs, seed=args.seed)
        seconds = time.perf_counter() - start
        path = args.out / f"{name}.pt"
        save_checkpoint(model, path, training={"epochs": args.epochs, "seed": args.seed, "steps": len(losses)})
        print(f"{name}: {seconds:.0f} s, {len(losses)} steps, final loss {sum(losses[-50:]) / len(losses[-50:]):.4f}, "
              f"{path.stat().st_size / 1e6:.2f} MB")
        if args.limit is None:
            accuracy = accuracy_by_length(model, test_pairs)
            print("  accuracy by length:", {n: round(a, 3) for n, a in accuracy.items()})


if __name__ == "__main__":
    main()
