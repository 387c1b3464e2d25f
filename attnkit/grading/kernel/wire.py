"""The frames between the grader and a grading kernel: JSON plus raw arrays, bounded before use.

A frame is an 8-byte header (the JSON length, the array bytes length), a JSON object
``{"m": message, "a": [{"dtype": ..., "shape": [...]}, ...]}`` and the arrays' raw bytes, one
after the other, little-endian, never compressed and never pickled. The reader checks every bound
*before* it allocates anything: the two lengths against :class:`Bounds`, the JSON's nesting depth
and item count, each array's dtype (plain numbers only) and that the shapes add up to exactly the
bytes announced. Reading a frame therefore costs at most about the bytes it is allowed to hold;
anything else raises :class:`WireError`.

Values travel as trees (:func:`encode`, :func:`decode`): JSON for numbers, strings, lists, tuples
and string-keyed dicts; ``{"__nd__": i}`` for array ``i`` (numpy, or torch tensors, which come
back as tensors where the receiver asks for them); ``{"__opaque__": kind}`` for anything else.

This module is kernel-side (it exists inside the sandbox) and is used by both sides.
"""
from __future__ import annotations

import json
import math
import os
import select
import struct
import sys
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["Bounds", "WireError", "Opaque", "encode", "decode", "send", "receive", "pack", "DTYPES"]

_HEADER = struct.Struct("!II")
# the only dtypes an array may have on the wire (little-endian numbers and booleans)
DTYPES = frozenset({"|b1", "|i1", "<i2", "<i4", "<i8", "|u1", "<u2", "<u4", "<u8", "<f2", "<f4", "<f8", "<c8",
                    "<c16"})
_write, _read = os.write, os.read  # the learner may rebind os's; these stay the runner's


@dataclass(frozen=True)
class Bounds:
    """What one frame may hold (see :class:`attnkit.grading.limits.GradingLimits`)."""

    json_bytes: int = 8 << 20
    json_depth: int = 32
    json_items: int = 200_000
    reply_bytes: int = 256 << 20


class WireError(ValueError):
    """A frame that breaks the format or its bounds."""


class Opaque:
    """Something the learner returned that is not plain data (it compares unequal to everything)."""

    def __init__(self, kind: str) -> None:
        self.kind = kind

    def __repr__(self) -> str:
        return f"<{self.kind}>"


# values -------------------------------------------------------------------------------------

def encode(value: Any, arrays: list[np.ndarray], depth: int = 0) -> Any:
    """A JSON-able tree of ``value``; its arrays go to ``arrays`` and are referenced by index."""
    if depth > 20:
        return {"__opaque__": "nested too deep"}
    if value is None or isinstance(value, (bool, str)):
        return value if type(value) in (bool, str, type(None)) else {"__opaque__": type(value).__name__}
    if type(value) is int:
        return value if abs(value) < 2**62 else float(value)
    if type(value) is float:
        return value if math.isfinite(value) else {"__float__": repr(value)}
    if isinstance(value, (np.generic, np.ndarray)):
        array = np.asarray(value)
        if _wire_dtype(array.dtype) is None:
            return {"__opaque__": f"numpy array of dtype {array.dtype}"}
        arrays.append(array)
        return {"__nd__": len(arrays) - 1, "scalar": isinstance(value, np.generic)}
    torch = sys.modules.get("torch")
    if torch is not None and isinstance(value, torch.Tensor):
        tensor = value.detach().cpu()
        dtype = str(tensor.dtype).replace("torch.", "")
        if tensor.dtype == torch.bfloat16:
            tensor = tensor.float()
        array = tensor.resolve_conj().resolve_neg().numpy()
        if _wire_dtype(array.dtype) is None:
            return {"__opaque__": f"tensor of dtype {dtype}"}
        arrays.append(array)
        return {"__nd__": len(arrays) - 1, "torch": dtype}
    if isinstance(value, (tuple, list)) and type(value) in (tuple, list):
        items = [encode(v, arrays, depth + 1) for v in value]
        return {"__tuple__": items} if isinstance(value, tuple) else items
    if type(value) is dict and all(type(k) is str for k in value):
        return {"__dict__": {k: encode(v, arrays, depth + 1) for k, v in value.items()}}
    return {"__opaque__": type(value).__name__[:100]}


def decode(tree: Any, arrays: list[np.ndarray], torch_module: Any = None) -> Any:
    """The inverse of :func:`encode` (tensors come back as tensors if ``torch_module`` is given).

    Raises:
        WireError: the tree refers to an array that is not there, or has an unknown form.
    """
    if isinstance(tree, list):
        return [decode(v, arrays, torch_module) for v in tree]
    if not isinstance(tree, dict):
        return tree
    if "__nd__" in tree:
        index = tree["__nd__"]
        if type(index) is not int or not 0 <= index < len(arrays):
            raise WireError(f"a value refers to array {index!r}, which the message does not hold")
        array = arrays[index]
        if tree.get("torch") and torch_module is not None:
            dtype = getattr(torch_module, str(tree["torch"]), None)
            tensor = torch_module.from_numpy(np.array(array))
            return tensor.to(dtype) if isinstance(dtype, torch_module.dtype) else tensor
        return array[()] if tree.get("scalar") else array
    if "__tuple__" in tree and isinstance(tree["__tuple__"], list):
        return tuple(decode(v, arrays, torch_module) for v in tree["__tuple__"])
    if "__dict__" in tree and isinstance(tree["__dict__"], dict):
        return {k: decode(v, arrays, torch_module) for k, v in tree["__dict__"].items()}
    if "__float__" in tree and tree["__float__"] in ("nan", "inf", "-inf"):
        return float(tree["__float__"])
    if "__opaque__" in tree:
        return Opaque(str(tree["__opaque__"])[:200])
    raise WireError(f"a value of unknown form (keys {sorted(tree)[:5]})")


def _wire_dtype(dtype: np.dtype) -> str | None:
    if dtype.hasobject or dtype.kind not in "biufc":
        return None
    name = (dtype.newbyteorder("<") if dtype.byteorder == ">" else dtype).str
    return name if name in DTYPES else None


# frames -------------------------------------------------------------------------------------

def pack(message: dict, arrays: list[np.ndarray] = (), bounds: Bounds = Bounds()) -> bytes:
    """One frame holding ``message`` and ``arrays``.

    Raises:
        WireError: it would exceed ``bounds`` (the receiver would refuse it).
    """
    specs, blobs, total = [], [], 0
    for array in arrays:
        name = _wire_dtype(array.dtype)
        if name is None:
            raise WireError(f"an array of dtype {array.dtype} cannot be sent")
        data = np.array(array, dtype=np.dtype(name), order="C")  # (ascontiguousarray makes 0-d arrays 1-d)
        specs.append({"dtype": name, "shape": list(data.shape)})
        total += data.nbytes
        if total > bounds.reply_bytes:
            raise WireError(f"the arrays exceed {bounds.reply_bytes} bytes")
        blobs.append(data.tobytes())
    data = json.dumps({"m": message, "a": specs}, allow_nan=False).encode()
    if len(data) > bounds.json_bytes:
        raise WireError(f"the message exceeds {bounds.json_bytes} bytes of JSON")
    return _HEADER.pack(len(data), total) + data + b"".join(blobs)


def send(fd: int, message: dict, arrays: list[np.ndarray] = (), bounds: Bounds = Bounds()) -> None:
    view = memoryview(pack(message, arrays, bounds))
    while view:
        view = view[_write(fd, view):]


def _read_exact(fd: int, n: int, deadline: float | None) -> bytes:
    chunks, left = [], n
    while left:
        if deadline is not None:
            wait = deadline - time.monotonic()
            if wait <= 0 or not select.select([fd], [], [], wait)[0]:
                raise TimeoutError("no answer before the deadline")
        chunk = _read(fd, min(left, 1 << 20))
        if not chunk:
            raise EOFError("the other side closed the pipe")
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def _check_tree(tree: Any, bounds: Bounds) -> None:
    """Depth and item count of parsed JSON, walked without recursion."""
    stack, items = [(tree, 1)], 0
    while stack:
        node, depth = stack.pop()
        items += 1
        if items > bounds.json_items:
            raise WireError(f"the message holds more than {bounds.json_items} values")
        if isinstance(node, (list, dict)):
            if depth > bounds.json_depth:
                raise WireError(f"the message is nested deeper than {bounds.json_depth}")
            stack.extend((v, depth + 1) for v in (node.values() if isinstance(node, dict) else node))


def _shapes(specs: Any, blob_len: int) -> list[tuple[np.dtype, tuple[int, ...]]]:
    if not isinstance(specs, list):
        raise WireError("the array list is not a list")
    out, total = [], 0
    for spec in specs:
        if not isinstance(spec, dict) or set(spec) != {"dtype", "shape"} or spec["dtype"] not in DTYPES:
            raise WireError(f"an array of unknown form: {str(spec)[:100]}")
        shape = spec["shape"]
        if not isinstance(shape, list) or len(shape) > 32 or \
                not all(type(n) is int and 0 <= n < 2**62 for n in shape):
            raise WireError(f"an array of impossible shape: {str(shape)[:100]}")
        dtype = np.dtype(spec["dtype"])
        total += math.prod(shape) * dtype.itemsize
        if total > blob_len:
            raise WireError("the arrays' shapes announce more bytes than the message holds")
        out.append((dtype, tuple(shape)))
    if total != blob_len:
        raise WireError("the arrays' shapes do not add up to the bytes the message holds")
    return out


def receive(fd: int, deadline: float | None = None, bounds: Bounds = Bounds()) -> tuple[dict, list[np.ndarray]]:
    """Read one frame: (message, arrays).

    Raises:
        WireError: the frame breaks the format or ``bounds``.
        TimeoutError: ``deadline`` (``time.monotonic()``) passed first.
        EOFError: the other side closed the pipe.
    """
    json_len, blob_len = _HEADER.unpack(_read_exact(fd, _HEADER.size, deadline))
    if json_len > bounds.json_bytes or blob_len > bounds.reply_bytes:
        raise WireError(f"a message too large ({json_len} bytes of JSON, {blob_len} of arrays)")
    try:
        frame = json.loads(_read_exact(fd, json_len, deadline))
    except (ValueError, RecursionError, UnicodeDecodeError) as exc:
        raise WireError(f"not JSON: {type(exc).__name__}") from None
    _check_tree(frame, bounds)
    if not isinstance(frame, dict) or set(frame) != {"m", "a"} or not isinstance(frame["m"], dict):
        raise WireError("not a message")
    layout = _shapes(frame["a"], blob_len)
    blob = _read_exact(fd, blob_len, deadline) if blob_len else b""
    arrays, offset = [], 0
    for dtype, shape in layout:
        count = math.prod(shape)
        try:
            arrays.append(np.frombuffer(blob, dtype, count, offset).reshape(shape) if count else np.zeros(shape, dtype))
        except (ValueError, MemoryError) as exc:
            raise WireError(f"an array of impossible shape {shape}: {exc}") from None
        offset += count * dtype.itemsize
    return frame["m"], arrays
