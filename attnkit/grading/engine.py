"""The machinery under the quiz checks: run a learner's function safely and name its mistake.

A check (see :mod:`attnkit.grading.checks`) runs the learner's function on a few cases and compares
each result with attnkit's reference. When they differ it runs every catalogued buggy version of
the exercise (:mod:`attnkit.grading.bugs`) on the same case; the bug whose output the learner's
matches names the misconception. Otherwise the message says which case failed and how (shape,
NaN, wrong values), never what the right values are.

The runner also handles nbgrader's traps: anything the learner's code writes to stderr (prints,
warnings, numpy overflow notes) is swallowed, because nbgrader zeroes a test cell that shows any
stderr output; and forbidden built-ins raise while the learner's code runs, so an answer that
delegates to ``attnkit.scaled_dot_product_attention`` or torch's fused attention earns nothing.
"""
from __future__ import annotations

import contextlib
import copy
import importlib
import io
import os
import warnings
from typing import Any, Callable, Iterator, Sequence

import numpy as np
import torch

from attnkit.grading.bugs import BUGS, buggy_function, bugs_for

__all__ = ["Case", "quiet", "forbid", "isolate", "run_case", "same", "fail"]


_INHERITED = object()  # marks a patched class attribute that was inherited, to delete on restore


class _BuiltinUsed(Exception):
    """Raised by a forbidden built-in while the learner's code runs."""


class Case:
    """One input to an exercise: a short description, positional and keyword arguments."""

    def __init__(self, description: str, *args: Any, **kwargs: Any) -> None:
        self.description, self.args, self.kwargs = description, args, kwargs

    def call(self, fn: Callable[..., Any]) -> Any:
        return fn(*copy.deepcopy(self.args), **copy.deepcopy(self.kwargs))


def fail(message: str) -> None:
    """Raise the one kind of error a check raises: an ``AssertionError`` carrying ``message``."""
    __tracebackhide__ = True
    raise AssertionError(message)


@contextlib.contextmanager
def quiet() -> Iterator[None]:
    """Swallow stderr (Python-level and file descriptor 2), warnings and numpy float notes."""
    sink = io.StringIO()
    saved_fd = None
    try:
        saved_fd = os.dup(2)
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 2)
        os.close(devnull)
    except OSError:
        saved_fd = None
    try:
        with contextlib.redirect_stderr(sink), warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            yield
    finally:
        if saved_fd is not None:
            os.dup2(saved_fd, 2)
            os.close(saved_fd)


def _resolve(path: str) -> tuple[Any, str, Any] | None:
    """``"torch.nn.functional.softmax"`` -> (owner object, attribute name, current value)."""
    parts = path.split(".")
    for cut in range(len(parts) - 1, 0, -1):
        try:
            owner = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for name in parts[cut:-1]:
            owner = getattr(owner, name, None)
        if owner is not None and hasattr(owner, parts[-1]):
            return owner, parts[-1], getattr(owner, parts[-1])
        return None
    return None


@contextlib.contextmanager
def forbid(fn: Callable[..., Any], paths: Sequence[str]) -> Iterator[None]:
    """While active, each built-in in ``paths`` raises, wherever the learner's ``fn`` reaches it
    (through its module, or a name imported into the notebook's globals)."""
    patches: list[tuple[Any, str, Any]] = []
    scope = getattr(fn, "__globals__", {})
    for path in paths:
        found = _resolve(path)
        if found is None:
            continue
        owner, name, original = found

        def forbidden(*args: Any, _path: str = path, **kwargs: Any) -> Any:
            raise _BuiltinUsed(_path)

        inherited = isinstance(owner, type) and name not in vars(owner)
        patches.append((owner, name, _INHERITED if inherited else original))
        setattr(owner, name, forbidden)
        for key, value in list(scope.items()):
            if value is original:
                patches.append((scope, key, original))
                scope[key] = forbidden
    try:
        yield
    finally:
        for owner, name, original in reversed(patches):
            if isinstance(owner, dict):
                owner[name] = original
            elif original is _INHERITED:
                delattr(owner, name)  # e.g. torch.Tensor.softmax lives on a base class
            else:
                setattr(owner, name, original)


@contextlib.contextmanager
def isolate(fn: Callable[..., Any], replacements: dict[str, Any]) -> Iterator[None]:
    """Give ``fn`` correct versions of the other exercises it calls (graded on its own merits)."""
    scope = getattr(fn, "__globals__", {})
    saved = {name: scope[name] for name in replacements if name in scope}
    scope.update(replacements)
    try:
        yield
    finally:
        for name in replacements:
            if name in saved:
                scope[name] = saved[name]
            else:
                scope.pop(name, None)


def _numpy(x: Any) -> Any:
    if isinstance(x, torch.Tensor):
        return x.detach().cpu().numpy()
    return x


def same(got: Any, expected: Any, rtol: float = 1e-5, atol: float = 1e-7) -> bool:
    """Whether ``got`` equals ``expected``: same structure, same shapes, close values (NaN == NaN)."""
    if isinstance(expected, (tuple, list)):
        return (isinstance(got, (tuple, list)) and len(got) == len(expected)
                and all(same(g, e, rtol, atol) for g, e in zip(got, expected)))
    got, expected = _numpy(got), _numpy(expected)
    if isinstance(expected, str):
        return got == expected
    try:
        got, expected = np.asarray(got, dtype=float), np.asarray(expected, dtype=float)
    except (TypeError, ValueError):
        return False
    return got.shape == expected.shape and bool(np.allclose(got, expected, rtol, atol, equal_nan=True))


def _describe_difference(name: str, got: Any, expected: Any) -> str:
    if isinstance(expected, (tuple, list)) and not isinstance(got, (tuple, list)):
        return f"{name} must return {len(expected)} things (a tuple), but returned one {type(got).__name__}"
    if isinstance(expected, (tuple, list)):
        if len(got) != len(expected):
            return f"{name} must return {len(expected)} things, but returned {len(got)}"
        for i, (g, e) in enumerate(zip(got, expected)):
            if not same(g, e):
                return f"item {i} of what {name} returns is wrong: " + _describe_difference(name, g, e)
    g, e = np.asarray(_numpy(got), dtype=object), np.asarray(_numpy(expected), dtype=object)
    if g.shape != e.shape:
        return f"the result has shape {g.shape} but should have shape {e.shape}"
    if e.dtype == object and all(isinstance(x, str) for x in e.ravel()):
        return "some words are wrong"
    g, e = g.astype(float), e.astype(float)
    if np.isfinite(e).all() and not np.isfinite(g).all():
        return "the result holds NaN or inf where it should be finite (did an exp overflow?)"
    wrong = np.argwhere(~np.isclose(g, e, rtol=1e-5, atol=1e-7, equal_nan=True))
    return f"the values are wrong, first at index {tuple(int(i) for i in wrong[0])}" if len(wrong) else "wrong"


def run_case(fn: Callable[..., Any], quiz: str, exercise: str, case: Case, reference: Callable[..., Any],
             forbidden: Sequence[str] = (), builtin_bug: str | None = None,
             replacements: dict[str, Any] | None = None, rtol: float = 1e-5, atol: float = 1e-7,
             adapter: Callable[[Callable[..., Any]], Callable[..., Any]] | None = None) -> None:
    """Run ``fn`` on ``case``; return quietly if it agrees with ``reference``, else raise the
    message of the catalogued bug it reproduces, or a description of the failing case.

    Args:
        fn: the learner's function; quiz: quiz id; exercise: the function's name in the quiz.
        case: the inputs; reference: the right answer's function (called on the same inputs).
        forbidden: dotted paths of built-ins that raise while ``fn`` runs.
        builtin_bug: the catalogue id whose message a forbidden call earns.
        replacements: correct versions of other exercises, put in ``fn``'s globals while it runs.
        rtol, atol: relative and absolute tolerance of the comparison.
        adapter: turns an exercise function into what ``case`` calls (e.g. a model that runs it).
    """
    __tracebackhide__ = True
    adapter = adapter or (lambda f: f)
    expected = case.call(reference)
    with quiet(), isolate(fn, replacements or {}), forbid(fn, forbidden):
        try:
            got = case.call(adapter(fn))
            error = None
        except _BuiltinUsed as used:
            error = f"{exercise}: " + (BUGS[builtin_bug].message if builtin_bug else
                                       f"this calls {used}, a ready-made version of what the exercise asks "
                                       f"you to write, so it earns no credit.")
        except NotImplementedError:
            error = f"{exercise} is not written yet (it raises NotImplementedError)"
        except Exception as exc:  # the learner's code raised: report it, on this case
            error = f"{exercise} raised {type(exc).__name__}: {exc} (on {case.description})"
    if error is not None:
        fail(error)
    if same(got, expected, rtol, atol):
        return
    namespace = dict(replacements or {})
    for bug in bugs_for(quiz, exercise):
        if bug.id == builtin_bug:
            continue
        with quiet():
            try:
                wrong = case.call(adapter(buggy_function(bug.id, namespace)))
            except Exception:
                continue
        if same(got, wrong, rtol, atol) and not same(wrong, expected, rtol, atol):
            fail(f"{exercise}: {bug.message} (seen on {case.description})")
    try:
        how = _describe_difference(exercise, got, expected)
    except (TypeError, ValueError):
        how = f"it returned a {type(got).__name__}, which is not the kind of result expected"
    fail(f"{exercise} gives a wrong result on {case.description}: {how}")
