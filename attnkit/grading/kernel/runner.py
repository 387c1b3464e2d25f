"""The kernel side of judged grading: runs one submission in the sandbox, answers the grader.

Started by the grader (:mod:`attnkit.grading.grader.session`) as a script inside the sandbox, or
forked from a warm parent (:mod:`attnkit.grading.kernel.zygote`). It never sees a test cell and
never says what a cell is: the grader drives, and each of its requests, tagged, gets exactly one
typed reply carrying the same tag (see :mod:`attnkit.grading.grader.protocol` for what the grader
accepts; anything else ends the kernel):

=========================================  ==================================================
request                                    reply
=========================================  ==================================================
``start`` (the time limit, the bounds)     ``started``
``run`` ``source``: a cell, by the grader  ``ran``: its outputs (text) and the error's name
``get`` ``name``                           ``value``: missing, a function, or plain data
``call`` ``name`` ``args`` ``kwargs``      ``called``: the value, the error, or the forbidden
                                           implementation reached; before it, ``helper``
                                           requests the grader answers (other exercises)
``evidence``                               ``evidence``: what the kernel saw of tampering
``end``                                    ``ended``: the evidence; then the kernel exits
=========================================  ==================================================

Values travel as plain data (:mod:`attnkit.grading.kernel.wire`: JSON and raw arrays, never
pickle). The grader compares and decides the points in its own process.
"""
from __future__ import annotations

import io
import os
import signal
import sys
import traceback
from collections.abc import Callable
from typing import Any

import numpy as np

if __package__:
    from attnkit.grading.kernel import wire
    from attnkit.grading.kernel.ban import Ban
    from attnkit.grading.kernel.evidence import Evidence
    from attnkit.grading.kernel.quiet import quiet
else:  # run as a script (a one-off kernel): the siblings by name, without importing attnkit
    import wire  # type: ignore[no-redef]
    from ban import Ban  # type: ignore[no-redef]
    from evidence import Evidence  # type: ignore[no-redef]
    from quiet import quiet  # type: ignore[no-redef]

__all__ = ["Kernel", "CellTimeout"]


class CellTimeout(BaseException):
    """Raised in the learner's code when a cell or a call runs past its time."""


def _too_large(kind: str, why: str) -> dict:
    """The reply that replaces one whose value cannot be sent (it exceeds the bounds)."""
    return {"ran": {"outputs": [], "error": "ValueError"},
            "value": {"kind": "value", "value": {"__opaque__": "a value too large to send"}},
            "called": {"ok": False, "error": "ValueError", "message": f"the result is too large to send: {why}"},
            }.get(kind, {"items": [f"a reply too large to send: {why}"]})


class Kernel:
    """Executes the cells the grader sends and answers its requests."""

    def __init__(self, fd_in: int, fd_out: int) -> None:
        self.fd_in, self.fd_out = fd_in, fd_out
        self.evidence = Evidence()
        self.bounds = wire.Bounds()
        self.cell_s = 60.0

    def reply(self, tag: str, kind: str, body: dict, arrays: list[np.ndarray] = ()) -> None:
        try:
            wire.send(self.fd_out, {"tag": tag, "type": kind, **body}, arrays, self.bounds)
        except wire.WireError as exc:
            wire.send(self.fd_out, {"tag": tag, "type": kind, **_too_large(kind, str(exc))}, [], self.bounds)

    def _alarm(self, seconds: float) -> None:
        signal.setitimer(signal.ITIMER_REAL, seconds, 1.0 if seconds else 0)

    # requests ---------------------------------------------------------------------------------
    def run_cell(self, shell: Any, source: str) -> dict:
        stdout, stderr = io.StringIO(), io.StringIO()
        tracebacks: list[list[str]] = []
        shell._showtraceback = lambda etype, evalue, stb: tracebacks.append(stb)
        saved = sys.stdout, sys.stderr
        sys.stdout, sys.stderr = stdout, stderr
        self.evidence.in_learner_code = True
        self._alarm(self.cell_s)
        error: BaseException | None = None
        try:
            result = shell.run_cell(source, store_history=True)
            error = result.error_in_exec or result.error_before_exec
        except CellTimeout as exc:  # raised outside the learner's code (IPython itself)
            error = exc
        finally:
            self._alarm(0)
            self.evidence.in_learner_code = False
            sys.stdout, sys.stderr = saved
        outputs = []
        for name, stream in (("stdout", stdout), ("stderr", stderr)):
            if stream.getvalue():
                outputs.append({"output_type": "stream", "name": name, "text": stream.getvalue()[-20000:]})
        if error is not None:
            stb = tracebacks[-1] if tracebacks else traceback.format_exception(error)
            outputs.append({"output_type": "error", "ename": type(error).__name__[:200],
                            "evalue": str(error)[:2000], "traceback": [str(s)[:4000] for s in stb][-20:]})
        return {"outputs": outputs, "error": type(error).__name__[:200] if error is not None else None}

    def get(self, shell: Any, name: str) -> tuple[dict, list[np.ndarray]]:
        if name not in shell.user_ns:
            return {"kind": "missing"}, []
        value = shell.user_ns[name]
        if callable(value) and not isinstance(value, (np.ndarray, np.generic)) and not _is_tensor(value):
            return {"kind": "function"}, []
        arrays: list[np.ndarray] = []
        self.evidence.in_learner_code = True
        try:
            tree = wire.encode(value, arrays)
        except BaseException as exc:  # a learner's object that raises while being read: its answer
            return {"kind": "value", "value": {"__opaque__": f"{type(value).__name__} ({type(exc).__name__})"}}, []
        finally:
            self.evidence.in_learner_code = False
        return {"kind": "value", "value": tree}, arrays

    def call(self, shell: Any, tag: str, request: dict, arrays: list[np.ndarray]) -> tuple[dict, list]:
        name = request["name"]
        fn = shell.user_ns.get(name)
        if not callable(fn):
            return {"ok": False, "error": "NameError", "message": f"name {name!r} is not defined"}, []
        torch = sys.modules.get("torch") if request.get("torch") else None
        if request.get("torch") and torch is None:
            import torch  # the exercise takes tensors: the grader sent them as such
        args, kwargs = wire.decode(request["args"], arrays, torch), wire.decode(request["kwargs"], arrays, torch)
        scope = getattr(fn, "__globals__", None)
        saved: dict[str, Any] = {}
        missing = object()
        if isinstance(scope, dict):
            for helper in request.get("helpers", []):
                saved[helper] = scope.get(helper, missing)
                scope[helper] = self._helper(tag, helper)
        ban = Ban(list(request.get("forbidden", [])))
        self.evidence.listeners = [ban.audit]
        out: list[np.ndarray] = []
        try:
            with quiet(stdout=True):
                self._alarm(self.cell_s)
                self.evidence.in_learner_code = True
                try:
                    with ban:
                        value = fn(*args, **kwargs)
                finally:
                    self.evidence.in_learner_code = False
                    self._alarm(0)
            reply = {"ok": True, "value": wire.encode(value, out)}
        except CellTimeout:
            reply = {"ok": False, "error": "TimeoutError", "message": f"it ran longer than {self.cell_s:g} s"}
        except BaseException as exc:  # the learner's error (Forbidden included), reported as data
            reply = {"ok": False, "error": type(exc).__name__[:200], "message": str(exc)[:1000]}
        finally:
            self.evidence.in_learner_code = False
            self.evidence.listeners = []
            if isinstance(scope, dict):
                for helper, old in saved.items():
                    if old is missing:
                        scope.pop(helper, None)
                    else:
                        scope[helper] = old
        for change in ban.changes:
            self.evidence.add(f"{name}: {change}")
        if ban.hits:  # whatever the learner's code did with the exception
            reply, out = {"ok": False, "forbidden": ban.hits[0]}, []
        return reply, out

    def _helper(self, tag: str, name: str) -> Callable:
        """A correct version of another exercise: computed by the grader, on plain data."""
        kernel = self

        def helper(*args: Any, **kwargs: Any) -> Any:
            arrays: list[np.ndarray] = []
            request = {"tag": tag, "type": "helper", "name": name, "args": wire.encode(list(args), arrays),
                       "kwargs": wire.encode(kwargs, arrays)}
            wire.send(kernel.fd_out, request, arrays, kernel.bounds)
            answer, answer_arrays = wire.receive(kernel.fd_in, None, kernel.bounds)
            if answer.get("tag") != tag or answer.get("op") != "answer":
                raise RuntimeError("the grader did not answer the helper request")
            if not answer.get("ok"):
                raise ValueError(answer.get("message", f"{name} failed"))
            return wire.decode(answer["value"], answer_arrays, sys.modules.get("torch"))

        helper.__name__ = helper.__qualname__ = name
        return helper

    # the loop ---------------------------------------------------------------------------------
    def main(self) -> None:
        start, _ = wire.receive(self.fd_in)
        self.cell_s = float(start["cell_s"])
        self.bounds = wire.Bounds(**start["bounds"])
        os.environ.setdefault("MPLBACKEND", "Agg")
        from IPython.core.interactiveshell import InteractiveShell
        from traitlets.config import Config

        config = Config()
        config.HistoryManager.enabled = False  # no history database, no saving thread: a grading run is read once
        shell = InteractiveShell.instance(config=config, colors="NoColor")
        shell.user_ns["__name__"] = "__main__"
        self.evidence.start(shell)

        def on_alarm(signum: int, frame: Any) -> None:
            raise CellTimeout("the cell ran past its time limit")

        signal.signal(signal.SIGALRM, on_alarm)
        sys.addaudithook(self.evidence.audit)
        self.reply(start["tag"], "started", {})
        while True:
            request, arrays = wire.receive(self.fd_in, None, self.bounds)
            op, tag = request["op"], request["tag"]
            if op == "run":
                self.reply(tag, "ran", self.run_cell(shell, request["source"]))
            elif op == "get":
                self.reply(tag, "value", *self.get(shell, request["name"]))
            elif op == "call":
                self.reply(tag, "called", *self.call(shell, tag, request, arrays))
            elif op == "evidence":
                self.reply(tag, "evidence", {"items": self.evidence.check(shell)})
            elif op == "end":
                self.reply(tag, "ended", {"items": self.evidence.check(shell)})
                return


def _is_tensor(value: Any) -> bool:
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(value, torch.Tensor)


if __name__ == "__main__":
    fd_in, fd_out = (int(x) for x in os.environ.pop("ATTNKIT_FDS").split(","))
    Kernel(fd_in, fd_out).main()
    sys.stdout.flush()
    os._exit(0)  # no atexit handlers of the learner's code
