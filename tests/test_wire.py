"""attnkit.grading.kernel.wire: frames bounded before anything is allocated."""
from __future__ import annotations

import json
import struct
import tempfile
import tracemalloc

import numpy as np
import pytest
import torch

from attnkit.grading.kernel import wire


def _through_pipe(data: bytes, bounds: wire.Bounds | None = None) -> tuple[dict, list]:
    """What ``receive`` makes of ``data`` (from a file: a pipe would need a writer thread)."""
    with tempfile.TemporaryFile() as fh:
        fh.write(data)
        fh.flush()
        fh.seek(0)
        return wire.receive(fh.fileno(), None, bounds or wire.Bounds())


def test_values_round_trip_as_plain_data() -> None:
    value = {"a": [1, 2.5, "x", None, True], "b": (np.arange(6).reshape(2, 3), np.float32(1.5)),
             "t": torch.ones(2, dtype=torch.float64), "nan": float("nan")}
    arrays: list[np.ndarray] = []
    tree = wire.encode(value, arrays)
    message, received = _through_pipe(wire.pack({"value": tree}, arrays))
    back = wire.decode(message["value"], received, torch)
    assert back["a"] == [1, 2.5, "x", None, True] and np.array_equal(back["b"][0], np.arange(6).reshape(2, 3))
    assert back["b"][1] == np.float32(1.5) and isinstance(back["t"], torch.Tensor) and np.isnan(back["nan"])
    assert isinstance(back["b"][1], np.float32) and np.ndim(back["b"][1]) == 0
    assert isinstance(wire.decode(wire.encode(object(), []), []), wire.Opaque)


@pytest.mark.parametrize("value", [np.float64(32.0), np.sqrt(1024), np.array(2.5), np.int64(7)])
def test_numpy_scalars_and_0d_arrays_keep_no_dimensions(value) -> None:
    """An answer computed with numpy (``np.sqrt(1024)``) arrives as a number, not a 1-element array."""
    arrays: list[np.ndarray] = []
    tree = wire.encode(value, arrays)
    message, received = _through_pipe(wire.pack({"value": tree}, arrays))
    back = wire.decode(message["value"], received)
    assert np.ndim(back) == 0 and back == value and type(back) is type(value)
    assert isinstance(wire.decode(wire.encode(np.array([object()]), []), []), wire.Opaque)


def test_shapes_must_add_up_to_the_bytes_sent_before_anything_is_allocated() -> None:
    # a 2 GiB array announced, 1 KiB sent (what a deflated .npz member would announce)
    data = json.dumps({"m": {}, "a": [{"dtype": "<f8", "shape": [1 << 28]}]}).encode()
    tracemalloc.start()
    with pytest.raises(wire.WireError, match="announce more bytes"):
        _through_pipe(struct.pack("!II", len(data), 1024) + data + bytes(1024))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 10 << 20


@pytest.mark.parametrize("spec", [{"dtype": "|O", "shape": [1]}, {"dtype": "<f8", "shape": [-1]},
                                  {"dtype": "<f8", "shape": "big"}, {"dtype": "<f8", "shape": [1], "x": 1}])
def test_only_plain_numbers_of_sane_shape(spec: dict) -> None:
    data = json.dumps({"m": {}, "a": [spec]}).encode()
    with pytest.raises(wire.WireError):
        _through_pipe(struct.pack("!II", len(data), 8) + data + bytes(8))


def test_json_size_depth_and_count_are_bounded() -> None:
    bounds = wire.Bounds(json_bytes=1 << 20, json_depth=8, json_items=1000)
    deep = b'{"m": {"v": ' + b"[" * 100 + b"]" * 100 + b'}, "a": []}'
    with pytest.raises(wire.WireError, match="nested deeper"):
        _through_pipe(struct.pack("!II", len(deep), 0) + deep, bounds)
    very_deep = b"[" * 200_000 + b"]" * 200_000  # past the JSON parser's own recursion limit
    with pytest.raises(wire.WireError):
        _through_pipe(struct.pack("!II", len(very_deep), 0) + very_deep, wire.Bounds(json_bytes=1 << 20))
    many = json.dumps({"m": {"v": [0] * 5000}, "a": []}).encode()
    with pytest.raises(wire.WireError, match="more than 1000 values"):
        _through_pipe(struct.pack("!II", len(many), 0) + many, bounds)
    with pytest.raises(wire.WireError, match="too large"):
        _through_pipe(struct.pack("!II", 2 << 20, 0) + b"{", bounds)


def test_a_value_too_large_is_refused_by_its_sender() -> None:
    with pytest.raises(wire.WireError):
        wire.pack({}, [np.zeros(1000)], wire.Bounds(reply_bytes=100))
    with pytest.raises(wire.WireError):
        wire.decode({"__nd__": 3}, [])
