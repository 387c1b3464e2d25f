"""The newsletter's "100x faster training", measured: one training step, GRU vs Transformer (lesson 8).

    python benchmarks/bench_training.py                       # lengths 10..1000, CPU, 1 thread and all
    python benchmarks/bench_training.py --device cuda          # any device torch sees
    python benchmarks/bench_training.py --repeats 7 --batch-size 16 --threads 1

A step is a teacher-forced forward pass, the loss and the backward pass on B toy sentence pairs
of L words (attnkit/transformer/training_speed.py): lesson 1's GRU encoder-decoder with attention
(D=128) against lesson 7's Transformer (D=64, 2+2 layers, 4 heads), which trains with torch's fused
attention kernel and stores no attention weights (benchmarks/bench_fused.py puts it next to
torch.nn.Transformer and next to the same model storing its weights). Prints the device and the
versions, then per length the median and range of each model's step, the time per target token,
and how many times faster the Transformer's step was (ratio taken repeat by repeat). Timings are
never asserted in tests.
"""
from __future__ import annotations

import argparse
import platform

import numpy as np
import torch

from attnkit.experiments.timing import speedup
from attnkit.transformer.training_speed import time_training_steps


def describe(device: torch.device) -> str:
    if device.type == "cuda":
        return f"cuda: {torch.cuda.get_device_name(device)}"
    return f"cpu: {platform.processor() or platform.machine()}, {torch.get_num_threads()} torch threads available"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lengths", type=int, nargs="+", default=[10, 30, 100, 300, 1000])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--threads", type=int, nargs="+", default=None,
                        help="CPU thread counts to run (default: 1 and all torch has)")
    args = parser.parse_args()
    device = torch.device(args.device)
    print(f"torch {torch.__version__}, numpy {np.__version__}, python {platform.python_version()}")
    print(f"device {describe(device)}")
    thread_counts = args.threads or sorted({1, torch.get_num_threads()}) if device.type == "cpu" else [None]
    for threads in thread_counts:
        result = time_training_steps(args.lengths, args.repeats, args.batch_size, device=device,
                                     num_threads=threads, progress=False)
        ratio, low, high = speedup(result, "gru", "transformer")
        print(f"\n{result.num_threads if device.type == 'cpu' else device} thread(s), B={args.batch_size}, "
              f"{args.repeats} repeats; ms per step: median [min - max]; 'x' = GRU step / Transformer step")
        print(f"{'L':>6} {'GRU ms':>24} {'Transformer ms':>24} {'GRU us/token':>13} {'Tr. us/token':>13} {'ratio':>22}")
        for n, L in enumerate(result.lengths):
            cells = []
            for model in ("gru", "transformer"):
                median, (fast, slow) = result.median(model)[n], (s[n] for s in result.spread(model))
                cells.append(f"{median * 1e3:9.1f} [{fast * 1e3:6.1f} - {slow * 1e3:6.1f}]")
            per_token = [result.median(model)[n] / (args.batch_size * L) * 1e6 for model in ("gru", "transformer")]
            print(f"{L:>6} {cells[0]:>24} {cells[1]:>24} {per_token[0]:13.1f} {per_token[1]:13.1f} "
                  f"{ratio[n]:8.2f}x [{low[n]:5.2f} - {high[n]:5.2f}]")


if __name__ == "__main__":
    main()
