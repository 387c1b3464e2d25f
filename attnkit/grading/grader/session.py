"""The grader's side of the pipe to one grading kernel: it drives, with deadlines the kernel cannot move.

A :class:`Session` starts the kernel (a one-off sandbox, a kernel forked from the class's warm
parent, or, for tests, any process-like object) and sends it requests, each with a fresh random
tag; :meth:`Session.request` returns the one reply :mod:`attnkit.grading.grader.protocol` accepts
for it. The deadlines are fixed when a request is sent (:meth:`GradingLimits.grace`) and when the
kernel starts (``notebook_s``): answering the kernel's helper requests restarts neither, and the
grader's own writes to the pipe are bounded by them too. Whatever goes wrong ends the kernel and
raises :class:`KernelGone`, with ``gone`` saying why: ``"timed out"``, ``"memory limit"``,
``"crashed"`` or ``"protocol violation"`` (then ``violation`` says what was sent).
"""
from __future__ import annotations

import os
import secrets
import select
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from attnkit.grading.grader import sandbox
from attnkit.grading.grader.protocol import ProtocolViolation, check_reply
from attnkit.grading.grader.warm import WarmClient, WarmUnavailable
from attnkit.grading.kernel import runner, wire
from attnkit.grading.limits import GradingLimits

__all__ = ["Session", "KernelGone", "use_warm_parent", "warm_parent"]

_WARM: list[WarmClient] = []  # this process's connection to a warm parent, if grade-class gave it one


def use_warm_parent(client: WarmClient | None) -> None:
    """Fork every kernel this process judges from the warm parent ``client`` is connected to
    (None: a one-off sandbox each)."""
    _WARM[:] = [client] if client is not None else []


def warm_parent() -> WarmClient | None:
    return _WARM[0] if _WARM else None


class KernelGone(RuntimeError):
    """The kernel was ended (time, memory, crash, protocol violation) before answering."""


class Session:
    """A kernel and the pipes to it. ``start``: for tests, ``start(scratch, (read_fd, write_fd))``
    returns a process-like object (``wait(timeout)``, ``returncode``, ``kill()``)."""

    def __init__(self, scratch: Path, limits: GradingLimits, sandboxed: bool, warm: WarmClient | None = None,
                 start: Callable[[Path, tuple[int, int]], Any] | None = None) -> None:
        self.limits = limits
        self.bounds = wire.Bounds(**limits.wire())
        self.deadline = time.monotonic() + limits.notebook_s
        self.gone: str | None = None
        self.violation: str | None = None
        self.evidence: list[str] = []
        self.errors: list[str] = []
        to_kernel_r, self.to_kernel = os.pipe()
        self.from_kernel, from_kernel_w = os.pipe()
        os.set_blocking(self.to_kernel, False)
        self.warm = warm if sandboxed and start is None else None
        self.kind = "injected" if start is not None else "warm" if self.warm is not None else \
            "one-off" if sandboxed else "unsandboxed"
        try:
            self.process = self._start(scratch, (to_kernel_r, from_kernel_w), sandboxed, start)
        except BaseException:  # (re-raised) no kernel: none of the pipes stays open
            os.close(self.to_kernel)
            os.close(self.from_kernel)
            raise
        finally:
            os.close(to_kernel_r)
            os.close(from_kernel_w)

    def _start(self, scratch: Path, fds: tuple[int, int], sandboxed: bool, start: Callable | None) -> Any:
        if start is not None:
            return start(scratch, fds)
        if self.warm is not None:  # forked from the worker's warm parent (grade-class)
            try:
                return self.warm.start(scratch, self.limits.sandbox(), fds, {"ATTNKIT_SCRATCH": sandbox.SCRATCH},
                                       sandbox.grading_uid())
            except WarmUnavailable as exc:
                print(f"attnkit grading: no warm kernels here, one-off sandboxes instead ({exc})"[:800],
                      file=sys.stderr)
                use_warm_parent(None)
                self.warm, self.kind = None, "one-off"
        env = {"ATTNKIT_FDS": f"{fds[0]},{fds[1]}", "ATTNKIT_SCRATCH": sandbox.SCRATCH if sandboxed else str(scratch)}
        # the runner runs as a script: `-m attnkit.grading.kernel.runner` would import attnkit (and torch)
        return sandbox.start([sys.executable, "-s", str(Path(runner.__file__).resolve())], scratch,
                             self.limits.sandbox(), sandboxed=sandboxed, pass_fds=fds, env=env,
                             uid=sandbox.grading_uid())

    def _stop(self, kill: bool) -> None:
        if self.kind == "injected":
            self.process.kill()
        elif self.warm is not None:
            self.warm.stop(self.process, kill=kill)
        else:
            sandbox.stop(self.process)

    # the exchange ------------------------------------------------------------------------------
    def request(self, op: str, body: dict | None = None, arrays: list[np.ndarray] = (),
                helpers: dict[str, Callable] | None = None) -> tuple[dict, list[np.ndarray]]:
        """Send request ``op`` and return its reply, answering the kernel's helper requests."""
        if self.gone:
            raise KernelGone(self.gone)
        tag = secrets.token_hex(12)
        deadline = min(time.monotonic() + self.limits.grace(), self.deadline)
        self._send({"tag": tag, "op": op, **(body or {})}, arrays, deadline)
        offered, served = frozenset(helpers or ()), 0
        while True:
            message, message_arrays = self._receive(deadline)
            try:
                if check_reply(message, tag, op, offered) == "helper":
                    served += 1
                    if served > self.limits.helper_requests:
                        raise ProtocolViolation(f"more than {self.limits.helper_requests} helper requests in one call")
                    self._answer_helper(tag, message, message_arrays, helpers or {}, deadline)
                    continue
                self._nothing_more()
            except ProtocolViolation as exc:
                self._end("protocol violation", str(exc))
            return message, message_arrays

    def _send(self, message: dict, arrays: list[np.ndarray], deadline: float) -> None:
        try:
            view = memoryview(wire.pack(message, arrays, self.bounds))
        except wire.WireError as exc:  # the grader's own inputs: not the kernel's fault
            raise RuntimeError(f"the grader's request is too large: {exc}") from exc
        while view:  # a kernel that stops reading cannot hold the grader past the deadline
            wait = deadline - time.monotonic()
            if wait <= 0 or not select.select([], [self.to_kernel], [], wait)[1]:
                self._end("timed out")
            try:
                view = view[os.write(self.to_kernel, view):]
            except (BlockingIOError, InterruptedError):
                continue
            except OSError:
                self._end(None)

    def _receive(self, deadline: float) -> tuple[dict, list[np.ndarray]]:
        try:
            return wire.receive(self.from_kernel, deadline, self.bounds)
        except TimeoutError:
            self._end("timed out")
        except wire.WireError as exc:
            self._end("protocol violation", str(exc))
        except (EOFError, OSError):
            self._end(None)
        raise AssertionError("unreachable")

    def _nothing_more(self) -> None:
        """A kernel says nothing between a reply and the next request."""
        if select.select([self.from_kernel], [], [], 0)[0]:
            try:
                extra = os.read(self.from_kernel, 1)
            except OSError:
                return
            if extra:  # (an end of file is the kernel stopping: the next request finds out)
                raise ProtocolViolation("a message nobody asked for")

    def _answer_helper(self, tag: str, request: dict, arrays: list[np.ndarray], helpers: dict[str, Callable],
                       deadline: float) -> None:
        from attnkit.grading.grader.remote import torch_if_needed

        out: list[np.ndarray] = []
        try:
            torch = torch_if_needed(request)
            args = wire.decode(request["args"], arrays, torch)
            kwargs = wire.decode(request["kwargs"], arrays, torch)
        except wire.WireError as exc:
            raise ProtocolViolation(str(exc)) from None
        try:
            value = helpers[request["name"]](*args, **kwargs)
            answer = {"ok": True, "value": wire.encode(value, out)}
            wire.pack(answer, out, self.bounds)  # (raises if too large)
        except Exception as exc:  # the reference refused the learner's inputs: the learner's error
            answer, out = {"ok": False, "message": f"{type(exc).__name__}: {exc}"[:1000]}, []
        self._send({"tag": tag, "op": "answer", **answer}, out, deadline)

    def _end(self, why: str | None, violation: str | None = None) -> None:
        """End the kernel; ``why`` None: it ended by itself (its exit status says how)."""
        if why is None:
            try:
                self.process.wait(timeout=5)
            except Exception:  # still running after closing its pipe: it goes now
                self._stop(kill=True)
            code = self.process.returncode
            why = "timed out" if code in (-24, 152) else "memory limit" if "MemoryError" in self.errors \
                else "crashed"  # SIGXCPU (-24, 128 + 24): the CPU-time limit
        else:
            self._stop(kill=True)
        if why == "timed out" and time.monotonic() >= self.deadline:
            self.errors.append(f"the notebook ran past its {self.limits.notebook_s:g} s")
        self.gone = why
        if violation is not None:
            self.violation = violation
            self.evidence.append(f"protocol violation: {violation}"[:300])
        raise KernelGone(why)

    def close(self) -> None:
        for fd in (self.to_kernel, self.from_kernel):
            try:
                os.close(fd)
            except OSError:
                pass
        self._stop(kill=False)
