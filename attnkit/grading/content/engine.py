"""The machinery under the checks: run a learner's function safely, then name its mistake.

A check is two halves with plain data between them, so that the second half can run in another
process than the learner's code (the kernel never needs to hold a reference answer):

* :func:`produce` (kernel side) calls the learner's function on one :class:`Case` under
  :func:`quiet`, :func:`isolate` and :func:`forbid`, and returns ``{"value": output}`` with the
  output as plain data (numpy arrays, numbers, strings, lists and tuples of them) or
  ``{"error": message}`` when it raised or called a forbidden built-in;
* :func:`judge` (grader side) compares the output with the exercise's reference and, when they
  differ, runs every catalogued bug of the exercise on the same case: the bug whose output the
  learner's matches names the misconception. Otherwise the message says which case failed and how
  (shape, NaN, which entry is off by more than the exercise's tolerance), never the right values.

:func:`check` is both halves in one process: what the quizzes' test cells call (through
:mod:`attnkit.grading.checks`). A failing check raises :class:`CheckFailed`, an ``AssertionError``
that a notebook shows as its message alone (no frames of this package); nbgrader still counts
the cell as failed.

The runner also handles nbgrader's traps: anything the learner's code writes to stderr (prints,
warnings, numpy overflow notes) is swallowed, because nbgrader zeroes a test cell that shows any
stderr output; and forbidden built-ins raise while the learner's code runs, so an answer that
delegates to ``attnkit.scaled_dot_product_attention`` or torch's fused attention earns nothing.
A forbidden path that does not resolve is an error (fail closed), unless its top-level package is
not installed at all (then the learner cannot call it either).
"""
from __future__ import annotations

import contextlib
import copy
import importlib
import importlib.util
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from attnkit.grading.kernel.quiet import quiet

if TYPE_CHECKING:
    from attnkit.grading.content.catalogue import Exercise

__all__ = ["Case", "CheckFailed", "quiet", "forbid", "isolate", "plain", "produce", "judge", "diagnose", "check",
           "same", "fail", "NOT_ANSWERED"]

# the misconception id of an exercise or answer left as handed out (raises NotImplementedError, ``...``)
NOT_ANSWERED = "not_answered"


_INHERITED = object()  # marks a patched class attribute that was inherited, to delete on restore


class _BuiltinUsed(Exception):
    """Raised by a forbidden built-in while the learner's code runs."""


class CheckFailed(AssertionError):
    """A check's verdict: the message names the mistake. In a notebook it shows as the message
    alone (IPython calls ``_render_traceback_``), not as frames of the grading package.

    Attributes:
        misconception: the id of what was recognised (a catalogued bug's id, a typical wrong
            answer's id from :func:`attnkit.grading.content.questions.answer_id`, or
            :data:`NOT_ANSWERED`); ``None`` when the mistake is not a catalogued one.
    """

    def __init__(self, message: str = "", misconception: str | None = None) -> None:
        super().__init__(message)
        self.misconception = misconception

    def _render_traceback_(self) -> list[str]:
        return [f"{type(self).__name__}: {line}" if i == 0 else line
                for i, line in enumerate(str(self).splitlines() or [""])]


def fail(message: str, misconception: str | None = None) -> None:
    """Raise the one kind of error a check raises: :class:`CheckFailed` carrying ``message`` and
    the id of the misconception recognised (``None``: not a catalogued one)."""
    __tracebackhide__ = True
    raise CheckFailed(message, misconception)


class Case:
    """One input to an exercise: a short description, positional and keyword arguments (plain data:
    numpy arrays, numbers, strings, lists of them)."""

    def __init__(self, description: str, *args: Any, **kwargs: Any) -> None:
        self.description, self.args, self.kwargs = description, args, kwargs

    def call(self, fn: Callable[..., Any], backend: str = "numpy") -> Any:
        """``fn(*args, **kwargs)`` on fresh copies; ``backend="torch"`` passes arrays as tensors."""
        def arg(x: Any) -> Any:
            x = copy.deepcopy(x)
            return torch.from_numpy(x) if backend == "torch" and isinstance(x, np.ndarray) else x

        return fn(*map(arg, self.args), **{k: arg(v) for k, v in self.kwargs.items()})

    def __repr__(self) -> str:
        return f"Case({self.description!r})"


def _installed(path: str) -> bool:
    return importlib.util.find_spec(path.split(".")[0]) is not None


def _owner(path: str) -> tuple[Any, str, Any] | None:
    """``"torch.nn.functional.softmax"`` -> (owner object, attribute name, current value); ``None``
    only when the path's top-level package is not installed.

    Raises:
        LookupError: the package is installed but the path does not resolve.
    """
    if not _installed(path):
        return None
    from attnkit.grading.content.catalogue import resolve

    owner_path, name = path.rsplit(".", 1)
    owner = resolve(owner_path)
    if not hasattr(owner, name):
        raise LookupError(f"forbidden path {path!r} does not resolve: {owner_path} has no {name!r}")
    return owner, name, getattr(owner, name)


@contextlib.contextmanager
def forbid(fn: Callable[..., Any], paths: Sequence[str]) -> Iterator[None]:
    """While active, each built-in in ``paths`` raises, wherever the learner's ``fn`` reaches it
    (through its module, a package-level alias, or a name imported into the notebook's globals).

    Raises:
        LookupError: a path does not resolve (fail closed: a renamed module must not quietly
            switch a ban off). A path whose top-level package is not installed is skipped.
    """
    found = [f for f in map(_owner, paths) if f is not None]  # all resolved before anything is patched
    patches: list[tuple[Any, str, Any]] = []
    scope = getattr(fn, "__globals__", {})
    for path, (owner, name, original) in zip([p for p in paths if _installed(p)], found):
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


def plain(x: Any) -> Any:
    """``x`` as plain data: tensors become numpy arrays, numpy scalars numbers, lists and tuples
    keep their kind; anything else becomes ``{"type": <its type name>}``."""
    if isinstance(x, torch.Tensor):
        return x.detach().cpu().numpy()
    if isinstance(x, np.generic):
        return x.item()
    if isinstance(x, (np.ndarray, str, bool, int, float, type(None))):
        return x
    if isinstance(x, (list, tuple)):
        return type(x)(plain(v) for v in x)
    return {"type": type(x).__name__}


def _exercise(exercise: Exercise | str) -> Exercise:
    if isinstance(exercise, str):
        from attnkit.grading.content.catalogue import exercise as find

        return find(exercise)
    return exercise


def _adapter(ex: Exercise) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    from attnkit.grading.content.catalogue import resolve

    return resolve(ex.adapter) if ex.adapter else (lambda f: f)


def _replacements(ex: Exercise) -> dict[str, Any]:
    from attnkit.grading.content.catalogue import resolve

    return {name: resolve(path) for name, path in ex.replacements.items()}


def produce(fn: Callable[..., Any], exercise: Exercise | str, case: Case) -> dict[str, Any]:
    """Kernel side: run the learner's ``fn`` on ``case``; ``{"value": plain output}`` or
    ``{"error": message}`` (it raised, is not written yet, or called a forbidden built-in)."""
    ex = _exercise(exercise)
    with quiet(), isolate(fn, _replacements(ex)), forbid(fn, ex.forbidden):
        try:
            return {"value": plain(case.call(_adapter(ex)(fn), ex.backend))}
        except _BuiltinUsed as used:
            message = (ex.bug(ex.builtin_bug).message if ex.builtin_bug else
                       f"this calls {used}, a ready-made version of what the exercise asks you to "
                       f"write, so it earns no credit.")
            return {"error": f"{ex.name}: {message}", "misconception": ex.builtin_bug}
        except NotImplementedError:
            return {"error": f"{ex.name} is not written yet (it raises NotImplementedError)",
                    "misconception": NOT_ANSWERED}
        except (Exception, SystemExit) as exc:  # the learner's code raised (or called exit()): report it
            return {"error": f"{ex.name} raised {type(exc).__name__}: {exc} (on {case.description})"}


def same(got: Any, expected: Any, rtol: float = 1e-5, atol: float = 1e-7) -> bool:
    """Whether ``got`` equals ``expected``: same structure, same shapes, close values (NaN == NaN)."""
    if isinstance(expected, (tuple, list)):
        return (isinstance(got, (tuple, list)) and len(got) == len(expected)
                and all(same(g, e, rtol, atol) for g, e in zip(got, expected)))
    got, expected = plain(got), plain(expected)
    if isinstance(got, dict) or isinstance(expected, dict):  # {"type": ...}: not a result at all
        return False
    if isinstance(expected, str) or isinstance(got, str):
        return got == expected
    try:
        got, expected = np.asarray(got, dtype=float), np.asarray(expected, dtype=float)
    except (TypeError, ValueError):
        return False
    return got.shape == expected.shape and bool(np.allclose(got, expected, rtol, atol, equal_nan=True))


def _describe_difference(name: str, got: Any, expected: Any, rtol: float, atol: float) -> str:
    if isinstance(got, dict):
        return f"it returned a {got.get('type')}, which is not the kind of result expected"
    if isinstance(expected, (tuple, list)) and not isinstance(got, (tuple, list)):
        return f"{name} must return {len(expected)} things (a tuple), but returned one {type(got).__name__}"
    if isinstance(expected, (tuple, list)):
        if len(got) != len(expected):
            return f"{name} must return {len(expected)} things, but returned {len(got)}"
        for i, (g, e) in enumerate(zip(got, expected)):
            if not same(g, e, rtol, atol):
                return f"item {i} of what {name} returns is wrong: " + _describe_difference(name, g, e, rtol, atol)
    g, e = np.asarray(got, dtype=object), np.asarray(expected, dtype=object)
    if g.shape != e.shape:
        return f"the result has shape {g.shape} but should have shape {e.shape}"
    if e.dtype == object and all(isinstance(x, str) for x in e.ravel()):
        return "some words are wrong"
    g, e = g.astype(float), e.astype(float)
    if np.isfinite(e).all() and not np.isfinite(g).all():
        return "the result holds NaN or inf where it should be finite (did an exp overflow?)"
    wrong = np.argwhere(~np.isclose(g, e, rtol=rtol, atol=atol, equal_nan=True))
    return f"the values are wrong, first at index {tuple(int(i) for i in wrong[0])}" if len(wrong) else "wrong"


def judge(exercise: Exercise | str, case: Case, output: dict[str, Any]) -> str | None:
    """Grader side: ``None`` if ``output`` (from :func:`produce`) is right on ``case``, else the
    message: the catalogued bug it reproduces, or how it differs from the reference."""
    return diagnose(exercise, case, output)[0]


def diagnose(exercise: Exercise | str, case: Case, output: dict[str, Any]) -> tuple[str | None, str | None]:
    """:func:`judge`'s verdict and the id of the misconception it recognised:
    ``(None, None)`` when right, ``(message, bug id)`` for a catalogued bug, ``(message, None)``
    otherwise (:data:`NOT_ANSWERED` when the exercise is not written yet)."""
    ex = _exercise(exercise)
    if "error" in output:
        recognised = output.get("misconception")
        return output["error"], recognised if recognised in (NOT_ANSWERED, ex.builtin_bug) else None
    got = output["value"]
    adapter = _adapter(ex)
    with quiet():
        expected = plain(case.call(adapter(ex.reference), ex.backend))
    if same(got, expected, ex.rtol, ex.atol):
        problem = ex.validate(got) if ex.validate else None
        return (f"{ex.name}: {problem}" if problem else None), None
    namespace = _replacements(ex)
    for bug in ex.bugs:
        if bug.id == ex.builtin_bug:
            continue
        with quiet():
            try:
                wrong = plain(case.call(adapter(bug.function(namespace)), ex.backend))
            except Exception:
                continue
        if same(got, wrong, ex.rtol, ex.atol) and not same(wrong, expected, ex.rtol, ex.atol):
            return f"{ex.name}: {bug.message} (seen on {case.description})", bug.id
    try:
        how = _describe_difference(ex.name, got, expected, ex.rtol, ex.atol)
    except (TypeError, ValueError):
        how = f"it returned a {type(got).__name__}, which is not the kind of result expected"
    return f"{ex.name} gives a wrong result on {case.description}: {how}", None


def check(fn: Callable[..., Any], exercise: Exercise | str, seed: int = 0) -> None:
    """Produce and judge every case of ``exercise`` built from ``seed``, in this process.

    Raises:
        CheckFailed: the first case whose output is wrong, with the message that names the mistake
            and the id of the misconception recognised (its ``misconception``).
    """
    __tracebackhide__ = True
    ex = _exercise(exercise)
    for case in ex.cases(seed):
        message, misconception = diagnose(ex, case, produce(fn, ex, case))
        if message is not None:
            fail(message, misconception)
