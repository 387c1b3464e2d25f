"""The grader side of judged grading: the points are decided here, never in the student's kernel.

:func:`judge_notebook` drives one submission's kernel (:mod:`attnkit.grading.grader.session`) cell
by cell. A cell of the submission is learner code, whatever its metadata says: its source goes to
the kernel, which runs it and answers with the text it printed. The grader's own cells come from
the instructor (:class:`~attnkit.grading.grader.instructor.InstructorCells`, matched by grade id):
a set-up cell runs in the kernel and here; a test cell (hidden tests included) runs only here,
with the same checks the notebook calls, on the learner's values and functions fetched from the
kernel as plain data (:mod:`attnkit.grading.grader.remote`). The comparison with the reference and
the misconception message are made here; a test cell scores unless it raised (nbgrader's rule).

So a learner's code cannot patch the checks, rewrite or skip a test cell, read the answer key or
write its own grade, and a kernel that lies about anything can only make its own test cells fail.
What it can still do to itself (patch modules, read outside its folder, copy attnkit, break the
protocol) is reported as *flags* with the evidence, which never change a grade. Whatever fails
in the grader itself, the submission still gets one verdict (status *crashed*).

The same function serves ``nbgrader autograde`` (the
:class:`~attnkit.grading.course.autograde.JudgeInSandbox` preprocessor replaces nbgrader's
``Execute``), ``attnkit grade`` and ``attnkit grade-class``, so the three give the same grades.
"""
from __future__ import annotations

import builtins
import contextlib
import io
import json
import shutil
import tempfile
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat

from attnkit.grading.cells import grade_id, is_test
from attnkit.grading.grader import sandbox
from attnkit.grading.grader.instructor import InstructorCells
from attnkit.grading.grader.remote import RemoteFunction, TestScope, patched_checks
from attnkit.grading.grader.session import KernelGone, Session, use_warm_parent, warm_parent
from attnkit.grading.grader.static import copy_flags, static_flags
from attnkit.grading.grader.status import STATUS_FILE, STATUSES, combine_status, read_status, write_status_row
from attnkit.grading.limits import GradingLimits

__all__ = ["JudgeResult", "judge_notebook", "InstructorCells", "RemoteFunction", "KernelGone", "use_warm_parent",
           "static_flags", "copy_flags", "STATUSES", "STATUS_FILE", "combine_status", "write_status_row",
           "read_status"]

_STOPPED = {"timed out": "it ran past the time limit", "memory limit": "it used more memory than allowed",
            "protocol violation": "its kernel broke the grading protocol"}


@dataclass
class JudgeResult:
    """One judged notebook: the notebook with outputs, its status, notes and flags.

    ``misconceptions``: grade id -> the catalogued misconception a failing test cell's check
    recognised, or ``"unrecognised"`` (absent for a test cell that passed). ``kernel``: where it
    ran (``"warm"``, ``"one-off"``, ``"unsandboxed"``, ``"injected"``; empty if it never started).
    """

    nb: nbformat.NotebookNode
    status: str
    notes: list[str] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)
    seconds: float = 0.0
    misconceptions: dict[str, str | None] = field(default_factory=dict)
    kernel: str = ""


def _error_output(exc: BaseException) -> nbformat.NotebookNode:
    lines = traceback.format_exception_only(type(exc), exc)
    return nbformat.v4.new_output("error", ename=type(exc).__name__, evalue=str(exc),
                                  traceback=[line.rstrip("\n") for line in lines])


def _misconception(exc: BaseException) -> str:
    found = getattr(exc, "misconception", None)
    return found if isinstance(found, str) and found else "unrecognised"


def judge_notebook(nb: nbformat.NotebookNode, source: InstructorCells | None = None, *,
                   limits: GradingLimits | None = None, cell_timeout: float | None = None,
                   allow_unsandboxed: bool = False, workdir: str | Path | None = None,
                   start: Callable[[Path, tuple[int, int]], Any] | None = None) -> JudgeResult:
    """Run the learner's cells of ``nb`` in a fresh kernel and judge the instructor's test cells
    (``source``; none: nothing is judged) in this process. ``limits``: the grading limits (else
    the defaults with ``cell_timeout`` seconds per cell); ``start``: for tests, a fake kernel.

    Raises:
        SandboxUnavailable: no sandbox here and unsandboxed grading was not allowed.
    """
    started = time.perf_counter()
    nb = nbformat.from_dict(json.loads(json.dumps(nb)))
    sandboxed = sandbox.check_available(allow_unsandboxed) if start is None else True
    limits = limits or GradingLimits.for_cell(cell_timeout)
    try:
        result = _Judging(nb, source or InstructorCells(), limits).run(sandboxed, workdir, start)
    except Exception as exc:  # the grader's own failure: still exactly one verdict for this submission
        result = _grader_failed(nb, source or InstructorCells(), exc)
    if not sandboxed:
        result.notes.insert(0, "unsandboxed")
    result.seconds = time.perf_counter() - started
    return result


def _grader_failed(nb: nbformat.NotebookNode, source: InstructorCells, exc: Exception) -> JudgeResult:
    why = f"the grader failed: {type(exc).__name__}: {exc}"[:500]
    misconceptions = {}
    for cell in nb.cells:
        if cell.get("cell_type") == "code" and grade_id(cell) in source.tests:
            cell.outputs = [_error_output(RuntimeError(f"not judged: {why}"))]
            misconceptions[grade_id(cell)] = "unrecognised"
    return JudgeResult(nb, "crashed", ["crashed", why], [], misconceptions=misconceptions)


class _Judging:
    """One notebook being judged (the state of :func:`judge_notebook`)."""

    def __init__(self, nb: nbformat.NotebookNode, source: InstructorCells, limits: GradingLimits) -> None:
        self.nb, self.source, self.limits = nb, source, limits
        self.trusted: dict[str, Any] = {"__name__": "__grader__", "__builtins__": builtins}
        self.cell_errors: list[str] = []
        self.misconceptions: dict[str, str | None] = {}
        self.setup_failed: str | None = None
        self.claimed: list[str] = []  # learner cells whose metadata says "test"
        seen: set[str] = set()
        self.plan = [(index, cell, *source.role(cell, seen)) for index, cell in enumerate(nb.cells)
                     if cell.get("cell_type") == "code"]

    def run(self, sandboxed: bool, workdir: str | Path | None, start: Callable | None) -> JudgeResult:
        learner = [(index, src) for index, _, role, src in self.plan if role == "learner"]
        flags = static_flags(learner) + copy_flags(learner)
        warm = warm_parent() if sandboxed and start is None else None
        root = Path(tempfile.mkdtemp(prefix="attnkit-judge-", dir=warm.spool if warm else workdir))
        (root / "scratch").mkdir()
        undo = patched_checks()
        session: Session | None = None
        try:
            session = Session(root / "scratch", self.limits, sandboxed, warm, start)
            self._drive(session)
        finally:
            undo()
            if session is not None:
                session.close()
            log = root / "scratch.log"
            kernel_log = log.read_text(errors="replace")[-4000:] if log.exists() else ""
            shutil.rmtree(root, ignore_errors=True)
        return self._verdict(session, flags, kernel_log)

    def _drive(self, session: Session) -> None:
        with contextlib.suppress(KernelGone):
            session.request("start", {"cell_s": self.limits.cell_s, "bounds": self.limits.wire()})
        for position, (_, cell, role, src) in enumerate(self.plan):
            cell.outputs, cell.execution_count = [], position + 1
            if role != "learner":
                cell.source = src  # the notebook shows what was judged
            if role == "test":
                self._test(session, cell, src)
                continue
            if role == "setup" and self.setup_failed is None:
                try:  # fail closed: the test cells after a broken set-up are not judged
                    exec(compile(src, f"<set-up cell {grade_id(cell)}>", "exec"), self.trusted)
                except Exception as exc:
                    self.setup_failed = (f"set-up cell {grade_id(cell)} failed in the grader: "
                                         f"{type(exc).__name__}: {exc}")
            with contextlib.suppress(KernelGone):
                reply, _ = session.request("run", {"source": src})
                cell.outputs = [nbformat.from_dict(o) for o in reply["outputs"]]
                if reply["error"]:
                    self.cell_errors.append(reply["error"])
            if role == "learner" and is_test(cell):  # scored by nbgrader's rule unless it shows an error
                self.claimed.append(str(grade_id(cell)))
                cell.outputs.append(_error_output(RuntimeError(
                    "not one of the instructor's test cells: it ran as learner code and scores nothing")))
        with contextlib.suppress(KernelGone):
            reply, _ = session.request("end")
            self._evidence(session, reply["items"])

    def _evidence(self, session: Session, items: list[str]) -> None:
        room = max(0, self.limits.evidence_items - len(session.evidence))
        session.evidence.extend(dict.fromkeys(item[:300] for item in items[:room] if item not in session.evidence))

    def _test(self, session: Session, cell: Any, src: str) -> None:
        gid = grade_id(cell)
        self.misconceptions[gid] = "unrecognised"
        if self.setup_failed:
            cell.outputs = [_error_output(RuntimeError(f"not judged: {self.setup_failed}"))]
            return
        try:
            reply, _ = session.request("evidence")
            self._evidence(session, reply["items"])
        except KernelGone:
            why = _STOPPED.get(session.gone or "", "its kernel stopped")
            cell.outputs = [_error_output(RuntimeError(f"the notebook stopped before this cell: {why}"))]
            return
        printed = io.StringIO()
        try:
            with contextlib.redirect_stdout(printed):
                exec(compile(src, f"<test cell {gid}>", "exec"), self.trusted, TestScope(session, self.trusted))
            del self.misconceptions[gid]
        except KernelGone as exc:
            cell.outputs = [_error_output(RuntimeError(f"the notebook stopped during this test: {exc}"))]
        except Exception as exc:  # the check's verdict
            cell.outputs = [_error_output(exc)]
            self.misconceptions[gid] = _misconception(exc)
        if printed.getvalue():
            cell.outputs.insert(0, nbformat.v4.new_output("stream", name="stdout", text=printed.getvalue()))

    def _verdict(self, session: Session | None, flags: list[str], kernel_log: str) -> JudgeResult:
        notes: list[str] = []
        errors = session.errors if session is not None else []
        runtime = [e for e in session.evidence if "ready-made" not in e] if session is not None else []
        flags = list(dict.fromkeys(flags + runtime))
        gone = session.gone if session is not None else None
        if "MemoryError" in self.cell_errors or "MemoryError" in errors:
            notes.append("memory limit")
        if gone:
            notes.append(gone)
        if "TimeoutError" in errors or "CellTimeout" in self.cell_errors:
            notes.append("timed out")
        notes += [e for e in errors if e.startswith("the notebook ran past")]
        if gone == "crashed" and kernel_log.strip():
            notes.append("kernel log: " + kernel_log.strip().splitlines()[-1][:200])
        if self.setup_failed:
            notes += ["crashed", self.setup_failed]
        if self.claimed:
            notes += ["test cells restored", f"learner cells marked as tests: {', '.join(self.claimed)}"[:300]]
        if flags:
            notes.append("flagged")
        notes = list(dict.fromkeys(notes))
        return JudgeResult(self.nb, combine_status(notes), notes, flags, misconceptions=self.misconceptions,
                           kernel=session.kind if session is not None else "")


