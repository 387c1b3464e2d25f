"""attnkit._backend: each operation returns the kind (numpy or torch) it was given, with numpy's answer."""
import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from attnkit import _backend as bk

small = st.integers(1, 4)


@settings(max_examples=40, deadline=None)
@given(st.tuples(small, small, small, small), st.integers(0, 2))
def test_matmul_equals_numpy_for_stacked_and_broadcast_batches(shape, drop):
    B, n, m, p = shape
    rng = np.random.default_rng(B * 100 + n * 10 + m)
    a = rng.normal(size=(B, 2, n, m))
    b = rng.normal(size=(B, 2, m, p)[drop:])  # fewer batch dims broadcast
    np.testing.assert_allclose(bk.matmul(a, b), np.matmul(a, b), atol=1e-12)
    out = bk.matmul(torch.from_numpy(a), torch.from_numpy(b))
    assert isinstance(out, torch.Tensor)
    np.testing.assert_allclose(out.numpy(), np.matmul(a, b), atol=1e-12)


@pytest.mark.parametrize("given_dtype, numpy_dtype, torch_dtype",
                         [(np.int64, np.float64, torch.float32), (np.bool_, np.float64, torch.float32),
                          (np.float32, np.float32, torch.float32)])
def test_as_float_keeps_floats_and_lifts_ints_and_bools(given_dtype, numpy_dtype, torch_dtype):
    x = np.ones(3, dtype=given_dtype)
    assert bk.as_float(x).dtype == numpy_dtype
    assert bk.as_float(torch.from_numpy(x)).dtype == torch_dtype


def test_like_converts_kind_and_float_dtype_but_not_bools():
    ref32 = torch.zeros(2, dtype=torch.float32)
    assert bk.like(np.ones(2), ref32).dtype == torch.float32
    assert bk.like(np.ones(2, dtype=bool), ref32).dtype == torch.bool
    back = bk.like(torch.ones(2, dtype=torch.float64), np.zeros(2, dtype=np.float32))
    assert isinstance(back, np.ndarray) and back.dtype == np.float32


@settings(max_examples=30, deadline=None)
@given(arrays(np.float64, st.tuples(small, small), elements=st.floats(-5, 5)), st.booleans())
def test_where_tanh_and_amax_follow_numpy(x, as_torch):
    cond = x > 0
    t = torch.from_numpy(x) if as_torch else x
    for ours, theirs in ((bk.where(cond, t, 0.0), np.where(cond, x, 0.0)), (bk.tanh(t), np.tanh(x)),
                         (bk.amax(t, -1), x.max(-1, keepdims=True))):
        assert isinstance(ours, torch.Tensor) == as_torch
        np.testing.assert_allclose(np.asarray(ours), theirs)
    assert bk.is_torch(t) == as_torch
