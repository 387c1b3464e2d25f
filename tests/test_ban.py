"""attnkit.grading.kernel.ban: ready-made implementations reached from C, and profiler changes."""
from __future__ import annotations

import functools
import operator
import sys

import numpy as np
import pytest
import torch

from attnkit.grading.kernel.ban import Ban, Forbidden

SOFTMAX = ["torch.softmax", "torch.nn.functional.softmax", "torch.Tensor.softmax", "scipy.special.softmax"]
X = torch.randn(2, 3)


@pytest.mark.parametrize("reach", [
    lambda: torch.softmax(X, -1),
    lambda: functools.partial(torch.softmax, dim=-1)(X),
    lambda: list(map(torch.softmax, [X], [-1])),
    lambda: operator.methodcaller("softmax", -1)(X),
    lambda: operator.call(torch.nn.functional.softmax, X, -1),
    lambda: torch.ops.aten._softmax(X, -1, False),
    lambda: torch._C._nn.scaled_dot_product_attention(X[None], X[None], X[None]),
], ids=["direct", "partial", "map", "methodcaller", "operator.call", "torch.ops", "torch._C._nn"])
def test_torch_reached_from_c_is_caught(reach) -> None:
    ban = Ban(SOFTMAX + ["torch.nn.functional.scaled_dot_product_attention"])
    with pytest.raises(Forbidden):
        with ban:
            reach()
    assert ban.hits and not ban.changes


def test_python_ready_mades_are_caught_however_called() -> None:
    import scipy.special

    ban = Ban(SOFTMAX)
    with pytest.raises(Forbidden):
        with ban:
            list(map(functools.partial(scipy.special.softmax, axis=-1), [np.ones(3)]))
    assert "scipy.special.softmax" in ban.hits[0]


def test_an_honest_computation_passes() -> None:
    ban = Ban(SOFTMAX)
    with ban:
        e = torch.exp(X - X.max(dim=-1, keepdim=True).values)
        out = e / e.sum(dim=-1, keepdim=True)
    assert torch.allclose(out, torch.softmax(X, -1)) and ban.hits == [] and ban.changes == []


def test_profiler_changes_are_reported_even_when_put_back() -> None:
    from sys import setprofile

    ban = Ban(SOFTMAX)
    with ban:  # (the kernel's audit hook passes sys.setprofile's audit event to ban.audit; here by hand)
        saved = sys.getprofile()
        list(map(setprofile, [None]))
        ban.audit("sys.setprofile", ())
        list(map(setprofile, [saved]))
        ban.audit("sys.setprofile", ())
    assert ban.changes and "sys.setprofile" in ban.changes[0]
    removed = Ban(SOFTMAX)
    with removed:
        sys.setprofile(None)
    assert any("profiler was removed" in c for c in removed.changes)


def test_a_popped_torch_mode_is_reported() -> None:
    ban = Ban(SOFTMAX)
    with ban:
        torch._C._pop_torch_function_stack()
    assert any("torch function mode" in c for c in ban.changes)
    assert torch._C._len_torch_function_stack() == 0
