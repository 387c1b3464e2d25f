"""The ban on ready-made implementations, kernel side: what a learner's call may not reach.

While the grader's call of a learner's function runs, three watchers look for the forbidden
implementations the grader named (dotted paths such as ``torch.nn.functional.softmax``):

* a *profiler* (``sys.setprofile``, and ``threading.setprofile`` for threads started meanwhile)
  sees every Python function entered, whoever called it (a ``functools.partial``, ``map``, a
  default argument), and every C function called from Python;
* a torch *function mode* sees every torch operation, also one called from C (``partial``,
  ``map``, ``operator.methodcaller``, ``torch._C._nn``, ``torch.ops.aten``), which the profiler
  cannot see;
* an *audit hook* event (``sys.setprofile`` raises one, however it is reached) and a comparison
  after the call catch a learner that changes the profiler, the threads' profiler or the torch
  mode stack while it runs.

A hit raises :class:`Forbidden` in the learner's code and is reported to the grader, which fails
the check; a change of the watchers is reported as evidence (a flag). What the watchers cannot
see is said in docs/grading.md's threat model: everything here runs in the learner's process.
"""
from __future__ import annotations

import sys
import threading
import types
from collections.abc import Callable
from typing import Any

__all__ = ["Forbidden", "Ban", "patterns"]

_setprofile, _getprofile, _thread_setprofile = sys.setprofile, sys.getprofile, threading.setprofile
_SPECIAL_TOKENS = {"scaled_dot_product_attention": "scaled_dot_product",
                   "multi_head_attention_forward": "multi_head_attention",
                   "multi_head_attention": "multi_head_attention"}
_LIBRARY_ROOTS = ("attnkit", "torch", "scipy", "numpy", "jax", "tensorflow", "sklearn", "transformers",
                  "sentence_transformers")
_PROFILER_SETTERS = {("threading", "setprofile"), ("threading", "settrace"), ("threading", "setprofile_all_threads"),
                     ("threading", "settrace_all_threads")}


class Forbidden(BaseException):
    """Raised in the learner's code when it enters a forbidden ready-made implementation."""


def patterns(paths: list[str]) -> list[tuple[str, str, str]]:
    """Dotted paths -> (path, library root, token that the called function's name contains)."""
    out = []
    for path in paths:
        parts = str(path).split(".")
        name = parts[-1] if parts[-1] != "forward" or len(parts) < 2 else parts[-2]
        out.append((str(path), parts[0], _SPECIAL_TOKENS.get(name, name)))
    return out


def _torch_mode_class() -> type | None:
    torch = sys.modules.get("torch")
    if torch is None:
        return None
    from torch.overrides import TorchFunctionMode

    class Watch(TorchFunctionMode):
        """Every torch operation, however it was reached: checked against the ban."""

        def __init__(self, ban: Ban) -> None:
            super().__init__()
            self.ban = ban

        def __torch_function__(self, func: Any, types_: Any, args: tuple = (), kwargs: dict | None = None) -> Any:
            name = f"{getattr(func, '__qualname__', '') or ''} {getattr(func, '__name__', '') or ''} {func}"
            self.ban.check("torch", "torch", name)
            return func(*args, **(kwargs or {}))

    return Watch


class Ban:
    """The watchers of one call: ``with ban: fn(...)``; then ``hits`` and ``changes``."""

    def __init__(self, forbidden: list[str]) -> None:
        self.patterns = patterns(forbidden)
        self.hits: list[str] = []
        self.changes: list[str] = []
        self.active = False
        self._mode: Any = None
        self._profiler = self._make_profiler()

    def check(self, root: str, module: str, name: str) -> None:
        for path, want_root, token in self.patterns:
            if root == want_root and token in name:
                self.hits.append(f"{path} (reached as {module}.{name.split(' ')[0] or name})"[:300])
                raise Forbidden(path)

    def _make_profiler(self) -> Callable:
        def profiler(frame: types.FrameType, event: str, arg: Any) -> None:
            if event == "call":
                module = frame.f_globals.get("__name__", "") or ""
                name = frame.f_code.co_qualname
                if (module, name) in _PROFILER_SETTERS:
                    self.changes.append(f"called {module}.{name} while its function was judged")
            elif event == "c_call":
                owner = getattr(arg, "__self__", None)
                module = getattr(arg, "__module__", None) or type(owner).__module__ or ""
                name = getattr(arg, "__qualname__", "") or getattr(arg, "__name__", "")
                if isinstance(owner, types.ModuleType):
                    module = owner.__name__
            else:
                return
            root = str(module).split(".")[0]
            if root in _LIBRARY_ROOTS:
                self.check(root, str(module), str(name))
        return profiler

    def audit(self, event: str, args: tuple) -> None:
        """Called by the kernel's audit hook while learner code runs. (A profiler that raised on a
        hit is switched off by Python itself, which raises the same event: not counted.)"""
        if self.active and not self.hits and event in ("sys.setprofile", "sys.settrace", "sys._setprofileallthreads",
                                     "sys._settraceallthreads"):
            self.changes.append(f"called {event} while its function was judged")

    def __enter__(self) -> Ban:
        if not self.patterns:
            return self
        mode = _torch_mode_class()
        if mode is not None:
            self._mode = mode(self)
            self._mode.__enter__()
        _thread_setprofile(self._profiler)
        _setprofile(self._profiler)
        self.active = True
        return self

    def __exit__(self, *exc: Any) -> None:
        if not self.patterns:
            return
        self.active = False
        # a profiler that raised (a hit) is switched off by Python itself: not a change
        if _getprofile() is not self._profiler and not self.hits:
            self.changes.append("the grader's profiler was removed or replaced while its function ran")
        if getattr(threading, "_profile_hook", self._profiler) is not self._profiler:
            self.changes.append("the profiler of new threads was changed while its function ran")
        _setprofile(None)
        _thread_setprofile(None)
        if self._mode is not None:
            self._leave_mode()

    def _leave_mode(self) -> None:
        import torch
        from torch.overrides import _get_current_function_mode_stack

        stack = _get_current_function_mode_stack()
        if stack and stack[-1] is self._mode:
            self._mode.__exit__(None, None, None)
            return
        self.changes.append("the grader's torch function mode was removed or covered while its function ran")
        while any(mode is self._mode for mode in _get_current_function_mode_stack()):
            torch._C._pop_torch_function_stack()
