"""Every limit of judged grading, in one object read by all three entry points.

``nbgrader autograde`` (through :class:`attnkit.grading.course.autograde.JudgeInSandbox`), ``attnkit
grade-class`` and ``attnkit grade`` all build a :class:`GradingLimits`, from :data:`DEFAULT` or from a
per-cell time limit given on their command line (:meth:`GradingLimits.for_cell`). Nothing else in
the grading package writes a time, a size or a count of its own.

The time limits are of two kinds. The *kernel* enforces ``cell_s`` on each cell and each call of a
learner's function (an alarm) and ``cpu_s`` on itself (``RLIMIT_CPU``); the *grader* holds the
deadlines a kernel cannot move: each request must be answered within :meth:`GradingLimits.grace`
of being sent (answering the kernel's helper requests does not restart it), and the whole notebook
within ``notebook_s`` of the kernel's start. The sizes bound what a reply may hold *decoded*, so
that reading one costs at most about ``reply_bytes`` of memory.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Any

__all__ = ["GradingLimits", "DEFAULT"]


@dataclass(frozen=True)
class GradingLimits:
    """The limits of grading one notebook (seconds, MiB, bytes, counts)."""

    cell_s: float = 60.0  # one cell, one call of a learner's function (the kernel's alarm)
    notebook_s: float = 600.0  # the whole notebook, wall clock, held by the grader
    cpu_s: int = 600  # CPU seconds of the kernel process
    memory_mb: int = 4096  # address space; torch alone maps about 1.5 GiB
    nproc: int = 64  # processes/threads of the sandbox user
    fsize_mb: int = 64  # largest file the kernel may write
    nofile: int = 256  # open file descriptors
    tmp_mb: int = 256  # the kernel's private /tmp (memory-backed)
    json_bytes: int = 8 << 20  # the JSON part of one message
    json_depth: int = 32  # nesting of lists and objects in it
    json_items: int = 200_000  # values in it, all levels together
    reply_bytes: int = 256 << 20  # the arrays of one message, decoded (raw bytes, never compressed)
    helper_requests: int = 10_000  # helper requests the kernel may make during one call
    evidence_items: int = 50  # runtime evidence kept from a kernel (each cut to 300 characters)

    @classmethod
    def for_cell(cls, cell_s: float | None, **overrides: Any) -> GradingLimits:
        """The default limits with ``cell_s`` seconds per cell (None: the default): the notebook and
        its CPU time get ten cells' worth, and never less than two minutes."""
        if cell_s is None:
            return replace(DEFAULT, **overrides)
        notebook_s = max(120.0, 10.0 * float(cell_s))
        return replace(DEFAULT, cell_s=float(cell_s), notebook_s=notebook_s, cpu_s=int(notebook_s), **overrides)

    def grace(self) -> float:
        """How long the grader waits for the answer to one request: the kernel's own limit on a
        cell or a call (which it then reports), plus time to report it; past that the kernel is
        killed."""
        return self.cell_s * 1.25 + 3

    def wire(self) -> dict[str, int]:
        """The bounds of a message on the pipe (see :class:`attnkit.grading.kernel.wire.Bounds`)."""
        return {"json_bytes": self.json_bytes, "json_depth": self.json_depth, "json_items": self.json_items,
                "reply_bytes": self.reply_bytes}

    def sandbox(self) -> Any:
        """The resource limits of the sandbox (:class:`attnkit.grading.grader.sandbox.Limits`)."""
        from attnkit.grading.grader.sandbox import Limits

        return Limits(memory_mb=self.memory_mb, cpu_s=int(self.cpu_s), nproc=self.nproc, fsize_mb=self.fsize_mb,
                      nofile=self.nofile, tmp_mb=self.tmp_mb)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


DEFAULT = GradingLimits()
