"""Warm kernels for ``attnkit grade-class``: pay the interpreter and torch start once per class.

A :class:`WarmParent` runs :mod:`attnkit.grading.kernel.zygote` in the grading sandbox's layout: it
imports numpy, IPython, torch and attnkit once, never runs a student's code, and listens on a Unix
socket in its spool. Each grading worker holds a :class:`WarmClient`, connected to it, and asks
for one kernel per submission: the kernel is forked from the warm parent, then isolated in
namespaces, a scratch folder and a uid of its own (see the zygote's docstring).

To :class:`attnkit.grading.grader.judge.Session` a warm kernel is a process like any other:
:meth:`WarmClient.start` returns a :class:`WarmKernel` with ``wait`` and ``returncode``, and
:meth:`WarmClient.stop` ends it (``kill=True``: at once, with every process it started).

The parent has to make namespaces and mounts for each kernel: a client proves it can, with a probe
kernel, before its first submission. Where it cannot, :class:`WarmUnavailable` says why and the
judge falls back to one-off sandboxes (slower, just as safe).
"""
from __future__ import annotations

import json
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path

from attnkit.grading.grader import sandbox

__all__ = ["WarmParent", "WarmClient", "WarmKernel", "WarmUnavailable", "CONTROL"]

ZYGOTE = Path(__file__).resolve().parents[1] / "kernel" / "zygote.py"
CONTROL = "control"  # the parent's socket, in the spool


class WarmUnavailable(RuntimeError):
    """The warm parent could not start, or could not isolate a probe kernel here."""


class WarmParent:
    """The warm parent sandbox and its spool of scratch folders (one per class, or per test)."""

    def __init__(self, spool: str | Path | None = None, limits: sandbox.Limits | None = None,
                 label: str | None = None) -> None:
        self.spool = Path(spool) if spool else Path(tempfile.mkdtemp(prefix="attnkit-warm-"))
        self.label = label or self.spool.name  # on the parent's command line, to tell it apart in `ps`
        self.spool.mkdir(parents=True, exist_ok=True)
        os.chmod(self.spool, 0o700)
        self.limits = limits or sandbox.Limits()
        self.process: subprocess.Popen | None = None
        self.log = self.spool.parent / f"{self.spool.name}.log"

    def spawn(self) -> WarmParent:
        """Start the parent without waiting for it: it imports torch while the caller goes on."""
        if self.process is None or self.process.poll() is not None:
            (self.spool / CONTROL).unlink(missing_ok=True)
            command = sandbox.warm_parent_command([sys.executable, "-s", str(ZYGOTE), f"/spool/{CONTROL}",
                                                   self.label], self.spool, self.limits)
            with open(self.log, "ab") as log:
                self.process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=log,
                                                stderr=subprocess.STDOUT, start_new_session=True)
        return self

    def log_tail(self) -> str:
        return self.log.read_text(errors="replace")[-600:].strip() if self.log.exists() else "(no log)"

    def close(self) -> None:
        """End the parent and every kernel under it (its pid namespace dies with it)."""
        if self.process is not None:
            sandbox.stop(self.process)
            self.process = None
        shutil.rmtree(self.spool, ignore_errors=True)
        self.log.unlink(missing_ok=True)


class WarmKernel:
    """One kernel forked by the warm parent, seen as a process (``wait``, ``returncode``)."""

    def __init__(self, client: WarmClient, generation: int) -> None:
        self.client, self.generation = client, generation
        self.returncode: int | None = None

    def wait(self, timeout: float | None = None) -> int:
        if self.returncode is None:
            self.returncode = self.client._status(self, timeout)
        return self.returncode


class WarmClient:
    """A grading worker's connection to the warm parent whose spool is ``spool``."""

    def __init__(self, spool: str | Path, parent: WarmParent | None = None, start_timeout: float = 120) -> None:
        self.spool = Path(spool)
        self.parent = parent  # only to read its log in an error message
        self.start_timeout = start_timeout
        self.channel: socket.socket | None = None
        self.baseline_bytes = 0
        self.generation = 0  # one per connection: a kernel of a closed connection is gone
        self.failed: str | None = None

    def _why(self) -> str:
        return self.parent.log_tail() if self.parent is not None else f"see {self.spool}.log"

    def ensure(self) -> None:
        """Connect (waiting for the parent to be ready) and prove a kernel is isolated."""
        if self.channel is not None:
            return
        if self.failed:
            raise WarmUnavailable(self.failed)
        deadline = time.monotonic() + self.start_timeout
        while True:
            channel = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
            try:
                channel.connect(str(self.spool / CONTROL))
                break
            except (FileNotFoundError, ConnectionRefusedError):
                channel.close()
                if time.monotonic() > deadline:
                    self.failed = f"the warm parent did not start within {self.start_timeout:g} s: {self._why()}"
                    raise WarmUnavailable(self.failed) from None
                time.sleep(0.02)
        self.channel, self.generation = channel, self.generation + 1
        try:
            ready = self._message(self.start_timeout)
            if not ready or not ready.get("ready"):
                raise WarmUnavailable(f"the warm parent closed the connection: {self._why()}")
            self.baseline_bytes = int(ready.get("baseline_bytes", 0))
            self._probe()
        except (OSError, subprocess.TimeoutExpired, WarmUnavailable) as exc:
            self.close()
            self.failed = f"warm kernels unavailable: {exc}"
            raise WarmUnavailable(self.failed) from exc

    def _connected(self) -> socket.socket:
        """The open connection to the warm parent; OSError if there is none (closed, or never made)."""
        if self.channel is None:
            raise OSError("not connected to the warm parent")
        return self.channel

    def _message(self, timeout: float | None) -> dict | None:
        channel = self._connected()
        if not select.select([channel], [], [], timeout)[0]:
            raise subprocess.TimeoutExpired("warm parent", timeout or 0)
        data = channel.recv(1 << 16)
        if not data:
            return None
        try:
            message = json.loads(data)
        except ValueError:
            message = None
        if not isinstance(message, dict):
            raise OSError(f"the warm parent sent something that is not a message: {data[:80]!r}")
        return message

    def _probe(self) -> None:
        """A kernel that only isolates itself and exits: 0 if it runs with no capability and
        cannot see the spool (see the zygote)."""
        root = Path(tempfile.mkdtemp(prefix="probe-", dir=self.spool))
        try:
            scratch = root / "scratch"
            sandbox.prepare_scratch(scratch, sandbox.grading_uid())
            r, w = os.pipe()
            try:
                kernel = self._send(scratch, sandbox.Limits(), (r, w), {}, sandbox.grading_uid(), probe=True)
            finally:
                os.close(r)
                os.close(w)
            code = kernel.wait(60)
            if code != 0:
                log = (root / "scratch.log").read_text(errors="replace")[-600:]
                raise WarmUnavailable(f"a probe kernel could not be isolated (exit {code}): {log}")
        finally:
            shutil.rmtree(root, ignore_errors=True)

    def close(self) -> None:
        if self.channel is not None:
            self.channel.close()  # the parent's handler kills a kernel still running
        self.channel = None

    # kernels ---------------------------------------------------------------------------------
    def start(self, scratch: Path, limits: sandbox.Limits, pass_fds: tuple[int, int], env: dict[str, str],
              uid: int) -> WarmKernel:
        """Fork a kernel whose only writable folder is ``scratch`` (inside the spool), reading
        ``pass_fds[0]`` and writing ``pass_fds[1]``; its output goes to ``<scratch>.log``."""
        self.ensure()
        sandbox.prepare_scratch(scratch, uid)
        return self._send(scratch, limits, pass_fds, env, uid)

    def _send(self, scratch: Path, limits: sandbox.Limits, pass_fds: tuple[int, int], env: dict[str, str],
              uid: int, probe: bool = False) -> WarmKernel:
        channel = self._connected()
        job = {"scratch": str(Path(scratch).relative_to(self.spool)), "limits": asdict(limits), "uid": uid,
               "root": os.geteuid() == 0, "env": sandbox.kernel_env(env), "baseline_bytes": self.baseline_bytes,
               "probe": probe}
        with open(scratch.parent / f"{scratch.name}.log", "wb") as log:
            socket.send_fds(channel, [json.dumps(job).encode()], [*pass_fds, log.fileno()])
        return WarmKernel(self, self.generation)

    def _status(self, kernel: WarmKernel, timeout: float | None) -> int:
        if kernel.generation != self.generation or self.channel is None:
            return -signal.SIGKILL  # its connection was closed, and the kernel killed
        try:
            message = self._message(timeout)
        except OSError:
            message = None
        if message is None:  # the parent is gone
            self.close()
            return -signal.SIGKILL
        try:
            code = int(message["status"])
        except (KeyError, TypeError, ValueError):
            self.close()
            return -signal.SIGKILL
        return 128 - code if code > 128 else code  # the zygote says "killed by N" as 128 + N

    def stop(self, kernel: WarmKernel, kill: bool = False) -> None:
        """After the grader is done with a kernel: it has normally exited already. If it has not
        within a moment, or ``kill`` (it ran past its time), it is killed with all it started."""
        if kernel.returncode is not None or kernel.generation != self.generation:
            return
        if not kill:
            try:
                kernel.wait(3)
                return
            except subprocess.TimeoutExpired:
                pass
        try:
            self._connected().sendall(b"kill")
            kernel.wait(10)
        except (OSError, subprocess.TimeoutExpired):
            self.close()  # the handler kills it when the connection goes
            kernel.returncode = -signal.SIGKILL
