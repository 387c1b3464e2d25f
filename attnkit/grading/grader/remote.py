"""The learner's names as the grader's test cells see them: values fetched, functions called remotely.

A test cell runs in the grader with the instructor's set-up names; any other name it reads is the
learner's, asked of the kernel (:class:`TestScope`): plain data comes back as data, a function as a
:class:`RemoteFunction`, whose calls run in the kernel on the grader's inputs under the ban of the
exercise's ready-made implementations, and whose other exercises (helpers) the grader computes.
"""
from __future__ import annotations

import builtins
import json
import sys
from collections.abc import Callable
from typing import Any

import numpy as np

from attnkit.grading.grader.session import Session
from attnkit.grading.kernel import wire

__all__ = ["RemoteFunction", "TestScope", "patched_checks", "torch_if_needed", "learner_exception"]


def torch_if_needed(tree: Any) -> Any:
    """torch, if the tree holds tensors (imported then) or torch is loaded already; else None."""
    if "torch" in sys.modules:
        return sys.modules["torch"]
    if '"torch"' in json.dumps(tree):
        import torch

        return torch
    return None


def _has_torch(value: Any) -> bool:
    torch = sys.modules.get("torch")
    if torch is None:
        return False
    if isinstance(value, torch.Tensor):
        return True
    if isinstance(value, (list, tuple)):
        return any(_has_torch(v) for v in value)
    if isinstance(value, dict):
        return any(_has_torch(v) for v in value.values())
    return False


_LEARNER_EXCEPTIONS: dict[str, type] = {}


def learner_exception(name: str) -> type:
    """The learner's exception class, by name (a builtin ``Exception`` where one exists)."""
    known = getattr(builtins, name, None)
    if isinstance(known, type) and issubclass(known, Exception):
        return known
    if name not in _LEARNER_EXCEPTIONS:
        _LEARNER_EXCEPTIONS[name] = type(name, (Exception,), {})
    return _LEARNER_EXCEPTIONS[name]


def _decode(session: Session, tree: Any, arrays: list[np.ndarray]) -> Any:
    try:
        return wire.decode(tree, arrays, torch_if_needed(tree))
    except wire.WireError as exc:
        session._end("protocol violation", str(exc))


class RemoteFunction:
    """The learner's function, called in the kernel on the grader's inputs; returns plain data.

    ``forbidden``: dotted paths of ready-made implementations the call may not reach (the
    kernel's ban reports them). ``__globals__``: what ``engine.isolate`` puts there (correct
    versions of the other exercises) becomes helpers the kernel asks the grader to compute.
    """

    def __init__(self, session: Session, name: str, forbidden: tuple[str, ...] = ()) -> None:
        self.session, self.name, self.forbidden = session, name, tuple(forbidden)
        self.__name__ = self.__qualname__ = name
        self.__globals__: dict[str, Any] = {}

    def configured(self, forbidden: Any = ()) -> RemoteFunction:
        return RemoteFunction(self.session, self.name, tuple(forbidden or ()))

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        arrays: list[np.ndarray] = []
        helpers = dict(self.__globals__)
        body = {"name": self.name, "args": wire.encode(list(args), arrays), "kwargs": wire.encode(kwargs, arrays),
                "forbidden": list(self.forbidden), "helpers": sorted(helpers), "torch": _has_torch((args, kwargs))}
        reply, reply_arrays = self.session.request("call", body, arrays, helpers)
        if reply["ok"]:
            return _decode(self.session, reply["value"], reply_arrays)
        if "forbidden" in reply:
            from attnkit.grading.content import engine

            self.session.evidence.append(f"{self.name} called a ready-made implementation: {reply['forbidden']}")
            raise engine._BuiltinUsed(reply["forbidden"].split(" ")[0])
        self.session.errors.append(reply["error"])
        raise learner_exception(reply["error"])(reply["message"])

    def __repr__(self) -> str:
        return f"<the learner's function {self.name}>"


class TestScope(dict):
    """Locals of a test cell run in the grader: a name the instructor's set-up did not define is
    the learner's, fetched from the kernel."""

    def __init__(self, session: Session, trusted: dict[str, Any]) -> None:
        super().__init__()
        self.session, self.trusted = session, trusted

    def __missing__(self, name: str) -> Any:
        if name in self.trusted or hasattr(builtins, name):
            raise KeyError(name)
        reply, arrays = self.session.request("get", {"name": name})
        if reply["kind"] == "missing":
            raise KeyError(name)
        if reply["kind"] == "function":
            return RemoteFunction(self.session, name)
        return _decode(self.session, reply["value"], arrays)

    def __getitem__(self, name: str) -> Any:
        if dict.__contains__(self, name):
            return dict.__getitem__(self, name)
        return self.__missing__(name)


def patched_checks() -> Callable[[], None]:
    """Make the engine's kernel half (``produce``) call a :class:`RemoteFunction` with the
    exercise's forbidden implementations (its helpers come through ``isolate``); the grader half
    (``judge``) is unchanged. Returns the function that undoes the patch."""
    from attnkit.grading.content import engine

    original = engine.produce

    def produce(fn: Any, exercise: Any, case: Any) -> dict[str, Any]:
        if isinstance(fn, RemoteFunction):
            fn = fn.configured(engine._exercise(exercise).forbidden)
        return original(fn, exercise, case)

    engine.produce = produce

    def undo() -> None:
        engine.produce = original
    return undo

