"""Golden tests of the messages a learner reads: argument, expected shape in legend letters, what was given, a hint."""
import re

import numpy as np
import pytest
import torch

from attnkit import (
    AttentionShapeError,
    causal_mask,
    merge_heads,
    multi_head_attention,
    padding_mask,
    scaled_dot_product_attention,
    split_heads,
)

q, k, v = np.zeros((2, 5, 8)), np.zeros((2, 7, 8)), np.zeros((2, 7, 4))
E = np.eye(8)

CASES = {
    "wrong rank": (
        lambda: scaled_dot_product_attention(np.zeros(8), k, v),
        "query has shape (8,) but expected (..., L, d_k): it needs at least 2 dims, got 1; "
        "query holds one row per query position",
    ),
    "mismatched d_k": (
        lambda: scaled_dot_product_attention(q, np.zeros((2, 7, 16)), v),
        "key has shape (2, 7, 16) but expected (..., S, d_k) = (..., 7, 8): d_k must match query's last dim",
    ),
    "key/value length mismatch": (
        lambda: scaled_dot_product_attention(q, k, np.zeros((2, 6, 4))),
        "value has shape (2, 6, 4) but expected (..., S, d_v) = (..., 7, 4): key and value must have "
        "the same length S: one value per key",
    ),
    "mask of the wrong shape": (
        lambda: scaled_dot_product_attention(q, k, v, mask=np.ones((5, 6), bool)),
        "mask has shape (5, 6) but expected one broadcastable to (..., L, S) = (2, 5, 7): rows are "
        "queries (L), columns are keys (S); use mask[:, None] to add a head dim",
    ),
    "mask of the wrong dtype": (
        lambda: scaled_dot_product_attention(q, k, v, mask=np.ones((5, 7))),
        "mask has dtype float64 but expected a boolean mask (True = may attend): convert with "
        "mask.astype(bool) (numpy) or mask.bool() (torch); float masks of 0/-inf are added to scores "
        "instead, which attnkit does not do",
    ),
    "torch mask of the wrong dtype": (
        lambda: scaled_dot_product_attention(*map(torch.from_numpy, (q, k, v)), mask=torch.ones(5, 7)),
        "mask has dtype torch.float32 but expected a boolean mask (True = may attend)",
    ),
    "mixed numpy and torch": (
        lambda: scaled_dot_product_attention(q, torch.zeros(2, 7, 8), v),
        "query, key and value must all be numpy arrays or all torch tensors, but query is numpy, key is "
        "torch, value is numpy",
    ),
    "batch dims do not broadcast": (
        lambda: scaled_dot_product_attention(q, np.zeros((3, 7, 8)), np.zeros((3, 7, 4))),
        "the batch dims of query (2, 5, 8), key (3, 7, 8) and value (3, 7, 4) do not broadcast",
    ),
    "a list instead of an array": (
        lambda: scaled_dot_product_attention([[1.0]], k, v),
        "query must be a numpy array or a torch tensor, but got list",
    ),
    "heads that do not divide D": (
        lambda: split_heads(np.zeros((2, 5, 12)), 5),
        "num_heads=5 must be a positive int dividing D = 12: x has shape (2, 5, 12) = (B, L, D)",
    ),
    "merge_heads on 3-D input": (
        lambda: merge_heads(np.zeros((2, 5, 12))),
        "x has shape (2, 5, 12) but expected (B, H, L, d_k): it needs 4 dims, got 3",
    ),
    "projection of the wrong width": (
        lambda: multi_head_attention(q, q, q, 2, E, E, E, np.eye(6)),
        "W_o has shape (6, 6) but expected (D, D_out) = (8, 6)",
    ),
    "causal_mask given a tensor": (
        lambda: causal_mask(np.zeros(3)),
        "causal_mask's L must be a positive int (a sequence length)",
    ),
    "padding longer than S": (
        lambda: padding_mask([2, 9], 4),
        "lengths must lie in 0..S = 0..4, but got [2, 9]",
    ),
}


@pytest.mark.parametrize("case", CASES)
def test_error_message(case):
    call, message = CASES[case]
    with pytest.raises(AttentionShapeError, match=re.escape(message)) as info:
        call()
    assert isinstance(info.value, ValueError), "learners can catch it as a ValueError"
    error = info.value
    assert error.__cause__ is None and (error.__context__ is None or error.__suppress_context__), "no chained noise"


def test_errors_survive_python_dash_O():
    """The checks are ifs, not asserts, so `python -O` keeps them."""
    import subprocess
    import sys

    code = ("import numpy as np, attnkit\n"
            "try:\n    attnkit.scaled_dot_product_attention(np.zeros((5, 8)), np.zeros((7, 4)), np.zeros((7, 4)))\n"
            "except attnkit.AttentionShapeError as e:\n    print('caught', e)\n")
    out = subprocess.run([sys.executable, "-O", "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.startswith("caught key has shape (7, 4)")


def test_raise_from_none_only_inside_except():
    """``raise ... from None`` hides an exception being handled; outside ``except`` it only hides a
    caller's, which a learner may need to see."""
    import ast
    from pathlib import Path

    root = Path(__file__).resolve().parents[1] / "attnkit"
    found = []
    for path in sorted(root.rglob("*.py")):
        tree = ast.parse(path.read_text())
        handlers = [h for h in ast.walk(tree) if isinstance(h, ast.ExceptHandler)]
        inside = {id(n) for h in handlers for n in ast.walk(h)}
        found += [f"{path.relative_to(root)}:{n.lineno}" for n in ast.walk(tree)
                  if isinstance(n, ast.Raise) and isinstance(n.cause, ast.Constant) and n.cause.value is None
                  and id(n) not in inside]
    assert not found, f"raise ... from None outside an except block: {found}"


def _mixed_calls():
    """Every public function with two or more data arguments, called with one of them numpy and
    the rest torch (or the reverse)."""
    n, t = np.ones((2, 3, 4)), torch.ones(2, 3, 4)
    W, Wt = np.eye(4), torch.eye(4)
    import attnkit as ak

    return {
        "scaled_dot_product_attention": lambda: ak.scaled_dot_product_attention(t, n, t),
        "attention_output": lambda: ak.attention_output(t, t, n),
        "dot_product_scores": lambda: ak.dot_product_scores(n, t),
        "additive_scores": lambda: ak.additive_scores(t, t, W, Wt, torch.ones(4)),
        "attend": lambda: ak.attend(torch.ones(2, 3, 3) / 3, n),
        "multi_head_attention": lambda: ak.multi_head_attention(t, t, t, 2, Wt, Wt, W, Wt),
        "cosine_similarity": lambda: ak.cosine_similarity(np.ones(4), torch.ones(3, 4)),
        "top_k": lambda: ak.top_k(torch.ones(4), np.ones((3, 4)), 1),
        "soft_lookup": lambda: ak.soft_lookup(torch.ones(4), torch.ones(3, 4), np.ones((3, 2))),
        "hard_lookup": lambda: ak.hard_lookup(np.ones(4), np.ones((3, 4)), torch.ones((3, 2))),
    }


@pytest.mark.parametrize("name", list(_mixed_calls()))
def test_one_rule_for_mixing_numpy_and_torch(name):
    """Data arguments of one call are all numpy or all torch (attnkit's docstring states the rule)."""
    with pytest.raises(AttentionShapeError, match="must all be numpy arrays or all torch tensors"):
        _mixed_calls()[name]()


@pytest.mark.parametrize("kind", ["numpy", "torch"])
def test_a_numpy_mask_is_the_one_exception(kind):
    import attnkit as ak

    x = torch.ones(1, 3, 4) if kind == "torch" else np.ones((1, 3, 4))
    out, weights = ak.scaled_dot_product_attention(x, x, x, mask=ak.causal_mask(3))
    assert type(out) is type(x) and type(weights) is type(x)
    assert "numpy or torch, one rule" in ak.__doc__
