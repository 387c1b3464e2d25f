"""The newsletter's "1000 words = 1 parallel step, 100x faster", measured side by side in one run.

    python benchmarks/bench_parallelism.py                 # lengths 10..1000, 1 thread and all threads
    python benchmarks/bench_parallelism.py --repeats 21 --batch-size 8

Four ways of turning a (B, L, D) sequence into L outputs (see attnkit/parallelism.py): a GRU cell
looped in Python, torch's fused GRU, attention one query row at a time, and attention in one call.
Prints, per thread count and length, how many times faster one-call attention was than each of
the others (median over paired repeats, with the range). Timings are never asserted in tests.
"""
from __future__ import annotations

import argparse

import torch

from attnkit.experiments.timing import measure_parallelism, speedup

PAIRS = [("rnn_loop", "attention"), ("rnn_fused", "attention"), ("attention_loop", "attention")]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lengths", type=int, nargs="+", default=[10, 30, 100, 300, 1000])
    parser.add_argument("--repeats", type=int, default=11)
    parser.add_argument("--d-model", type=int, default=128)
    parser.add_argument("--batch-size", type=int, default=1)
    args = parser.parse_args()
    for threads in sorted({1, torch.get_num_threads()}):
        result = measure_parallelism(args.lengths, args.repeats, args.d_model, args.batch_size,
                                     num_threads=threads, progress=False)
        print(f"\n{threads} thread(s), B={args.batch_size}, D={args.d_model}, {args.repeats} repeats; "
              f"'x' = how many times faster attention in one call was (median [min - max])")
        print(f"{'L':>6} {'attention ms':>13}  " + "  ".join(f"{'vs ' + slow:>26}" for slow, _ in PAIRS))
        for n, L in enumerate(result.lengths):
            ratios = [speedup(result, *pair) for pair in PAIRS]
            cells = [f"{r[0][n]:7.1f}x [{r[1][n]:6.1f} - {r[2][n]:6.1f}]" for r in ratios]
            print(f"{L:>6} {result.median('attention')[n] * 1e3:13.3f}  " + "  ".join(f"{c:>26}" for c in cells))


if __name__ == "__main__":
    main()
