"""Lesson 7's Transformer next to torch.nn.Transformer: one training step, side by side.

    python benchmarks/bench_fused.py                          # L = 100 300 1000, B = 8, 2 threads
    python benchmarks/bench_fused.py --record                 # also write the numbers lesson 8 shows
    nice -n 5 python benchmarks/bench_fused.py --record --models transformer transformer_weights torch
    python benchmarks/bench_fused.py --lengths 100 300 --threads 1 --repeats 5

A step is a teacher-forced forward pass, the loss and the backward pass on B toy sentence pairs of
L words (attnkit/transformer/training_speed.py). Four models, the same D = 64, 4 heads, 2 + 2
layers, d_ff = 256: ``transformer`` (attnkit's as it trains: torch's fused attention kernel, no
weights stored), ``transformer_weights`` (the same model storing every layer's (B, H, L, S)
attention weights), ``torch`` (torch.nn.Transformer with the same embeddings and positions) and
``gru`` (lesson 1's GRU with attention, D = 128). Prints the device, versions and load, then per
length each model's median step and its ratio to torch's (taken repeat by repeat, one run).
``--record`` writes attnkit/transformer/recorded_training_speed.json, with the load average before
and after the run and the process's niceness. Timings are never asserted.
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
from pathlib import Path

import numpy as np
import torch

from attnkit.experiments.timing import speedup
from attnkit.transformer.training_speed import RECORDED, time_training_steps

MODELS = ("transformer", "transformer_weights", "torch", "gru")
OUT = Path(__file__).resolve().parents[1] / "attnkit" / "transformer" / RECORDED


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lengths", type=int, nargs="+", default=[100, 300, 1000])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--models", nargs="+", default=list(MODELS))
    parser.add_argument("--record", action="store_true", help=f"write the medians to {OUT}")
    args = parser.parse_args()
    device = f"cpu: {cpu_name()}, {os.cpu_count()} cores, {args.threads} torch threads"
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    versions = {"torch": torch.__version__, "numpy": np.__version__, "python": platform.python_version()}
    print(f"{device}; " + ", ".join(f"{k} {v}" for k, v in versions.items()) + f"; load average {load:.1f}")
    result = time_training_steps(args.lengths, args.repeats, args.batch_size, models=args.models,
                                 num_threads=args.threads, progress=False)
    print(f"B = {args.batch_size}, {args.repeats} repeats; ms per step (median) and 'x torch' = this model's "
          f"step / torch.nn.Transformer's (median of the repeat-by-repeat ratios)")
    print(f"{'L':>6} " + " ".join(f"{m:>30}" for m in args.models))
    for n, L in enumerate(result.lengths):
        cells = []
        for m in args.models:
            ratio = speedup(result, m, "torch")[0][n] if "torch" in args.models else float("nan")
            cells.append(f"{result.median(m)[n] * 1e3:10.1f} ms {ratio:8.2f}x torch")
        print(f"{L:>6} " + " ".join(f"{c:>30}" for c in cells))
    if args.record:
        load_after = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
        record = {"device": device, "versions": versions, "date": datetime.date.today().isoformat(),
                  "load": round(load, 1), "load_after": round(load_after, 1), "nice": os.nice(0),
                  "batch_size": args.batch_size, "threads": args.threads,
                  "repeats": args.repeats, "lengths": list(result.lengths),
                  "median_ms": {m: [round(float(t) * 1e3, 1) for t in result.median(m)] for m in args.models},
                  "command": "python benchmarks/bench_fused.py --record " + " ".join(
                      ["--lengths", *map(str, args.lengths), "--models", *args.models])}
        OUT.write_text(json.dumps(record, indent=1) + "\n")
        print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
