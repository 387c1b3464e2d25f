"""Attention throughput, measured side by side in one run: attnkit (numpy, torch) vs torch.

    make bench            # B=8, H=8, L=S=512, d_k=64, float32, this machine's CPU threads

Prints the median time of each contender over interleaved rounds and the ratios the course cares
about: attnkit's torch path vs torch's fused scaled_dot_product_attention, and attnkit's numpy path
vs a plain unfused torch version (matmul, softmax, matmul). Timings are never asserted in tests.
"""
from __future__ import annotations

import argparse
import math
import random
import statistics
import time

import numpy as np
import torch
import torch.nn.functional as F

from attnkit import attention_output, scaled_dot_product_attention


def unfused_torch(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """The 3-line textbook version, in torch: the baseline for the numpy path."""
    weights = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(q.shape[-1]), dim=-1)  # (B, H, L, S)
    return weights @ v  # (B, H, L, d_v)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--B", type=int, default=8)
    parser.add_argument("--H", type=int, default=8)
    parser.add_argument("--L", type=int, default=512)
    parser.add_argument("--d_k", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    g = torch.Generator().manual_seed(0)
    shape = (args.B, args.H, args.L, args.d_k)
    q, k, v = (torch.randn(*shape, generator=g) for _ in range(3))
    qn, kn, vn = (t.numpy() for t in (q, k, v))
    contenders = {
        "torch SDPA (fused)": lambda: F.scaled_dot_product_attention(q, k, v),
        "torch unfused": lambda: unfused_torch(q, k, v),
        "attnkit torch (weights)": lambda: scaled_dot_product_attention(q, k, v),
        "attnkit torch": lambda: attention_output(q, k, v),
        "attnkit numpy": lambda: scaled_dot_product_attention(qn, kn, vn),
    }
    ref = F.scaled_dot_product_attention(q, k, v)
    for name, fn in contenders.items():  # warm up, and check every contender computes the same thing
        out = fn()
        out = out[0] if isinstance(out, tuple) else out
        out = torch.from_numpy(out) if isinstance(out, np.ndarray) else out
        assert torch.allclose(out, ref, atol=1e-4), f"{name} disagrees with torch SDPA"
    times: dict[str, list[float]] = {name: [] for name in contenders}
    with torch.inference_mode():
        order = list(contenders)
        for round_ in range(args.rounds):  # interleaved, so drift on a noisy machine hits all alike
            random.Random(round_).shuffle(order)  # and in a new order each round: no fixed neighbour
            for name in order:
                fn = contenders[name]
                # one untimed call first: torch's OpenMP threads and numpy's OpenBLAS threads spin
                # for a while after each call, and the pool switch would be charged to whoever
                # runs next (a pause instead lets the idle CPUs slow down: worse)
                fn()
                start = time.perf_counter()
                fn()
                times[name].append(time.perf_counter() - start)
    med = {name: statistics.median(t) for name, t in times.items()}
    print(f"B={args.B} H={args.H} L=S={args.L} d_k={args.d_k} float32, torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads, median of {args.rounds} shuffled rounds "
          f"(each timed call right after an untimed one)")
    for name, t in times.items():
        print(f"  {name:<20} {1e3 * med[name]:8.1f} ms  (range {1e3 * min(t):.1f}-{1e3 * max(t):.1f})")
    best = {name: min(t) for name, t in times.items()}
    for a, b in (("attnkit torch", "torch SDPA (fused)"), ("attnkit torch (weights)", "torch unfused"),
                 ("attnkit numpy", "torch unfused")):
        print(f"throughput {a} / {b}: {med[b] / med[a]:.2f}x by medians, {best[b] / best[a]:.2f}x by best times")


if __name__ == "__main__":
    main()
