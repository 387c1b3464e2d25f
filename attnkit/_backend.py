"""The few array operations attnkit needs, for numpy arrays and torch tensors alike.

Each function takes what the learner passed and returns the same kind, so the lesson code reads
the same for both: ``tanh(x)`` is ``np.tanh`` or ``torch.tanh`` as appropriate.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import torch

__all__ = ["is_torch", "as_float", "tanh", "amax", "where", "like", "matmul"]


def is_torch(x: Any) -> bool:
    return isinstance(x, torch.Tensor)


def as_float(x: Any) -> Any:
    """Integer or boolean input becomes float64 (numpy) or float32 (torch); floats pass through."""
    if is_torch(x):
        return x if x.is_floating_point() else x.to(torch.get_default_dtype())
    x = np.asarray(x)
    return x if np.issubdtype(x.dtype, np.floating) else x.astype(np.float64)


def like(x: Any, ref: Any) -> Any:
    """``x`` (numpy or torch) as the kind, device and, for floats, dtype of ``ref``."""
    if is_torch(ref):
        t = x if is_torch(x) else torch.from_numpy(np.asarray(x))
        return t.to(device=ref.device, dtype=ref.dtype if t.is_floating_point() else t.dtype)
    if is_torch(x):
        x = x.detach().cpu().numpy()
    x = np.asarray(x)
    return x.astype(ref.dtype) if np.issubdtype(x.dtype, np.floating) else x


def tanh(x: Any) -> Any:
    return torch.tanh(x) if is_torch(x) else np.tanh(x)


def amax(x: Any, axis: int) -> Any:
    return torch.amax(x, dim=axis, keepdim=True) if is_torch(x) else np.max(x, axis=axis, keepdims=True)


def where(cond: Any, a: Any, b: Any) -> Any:
    if is_torch(cond) or is_torch(a) or is_torch(b):
        ref = next(t for t in (a, b, cond) if is_torch(t))
        cond = like(cond, ref) if not is_torch(cond) else cond
        a = a if is_torch(a) else torch.as_tensor(a, dtype=ref.dtype, device=ref.device)
        b = b if is_torch(b) else torch.as_tensor(b, dtype=ref.dtype, device=ref.device)
        return torch.where(cond, a, b)
    return np.where(cond, a, b)


def matmul(a: Any, b: Any) -> Any:
    """``a @ b`` with the same result; stacked numpy matrices go to BLAS one matrix at a time.

    numpy's own loop over stacked matrices was 4-5x slower than one BLAS call per matrix at the
    benchmark's size (B=8, H=8, L=S=512, d_k=64; see benchmarks/bench_attention.py).
    """
    if is_torch(a) or is_torch(b) or a.ndim < 2 or b.ndim < 2 or max(a.ndim, b.ndim) == 2:
        return a @ b
    batch = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    a3 = np.broadcast_to(a, batch + a.shape[-2:]).reshape(-1, *a.shape[-2:])  # (..., n, m) -> (prod(...), n, m)
    b3 = np.broadcast_to(b, batch + b.shape[-2:]).reshape(-1, *b.shape[-2:])  # (..., m, p) -> (prod(...), m, p)
    out = np.empty((a3.shape[0], a.shape[-2], b.shape[-1]), dtype=np.result_type(a, b))
    for i in range(a3.shape[0]):
        np.matmul(a3[i], b3[i], out=out[i])
    return out.reshape(batch + out.shape[-2:])  # (prod(...), n, p) -> (..., n, p)
