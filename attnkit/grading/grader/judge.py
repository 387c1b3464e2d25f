"""The grader side of judged grading: the points are decided here, never in the student's kernel.

:func:`judge_notebook` runs one submission in the sandbox (:mod:`attnkit.grading.grader.sandbox`) with
the kernel-side runner (:mod:`attnkit.grading.kernel.runner`). The runner executes the learner's code
cells; the test cells (hidden tests included) never go there. Each test cell is executed in *this*
process, with the same checks the notebook calls: a learner's function is a :class:`RemoteFunction`
whose calls run in the sandbox and come back as plain data (JSON and ``.npz``, never pickle), and a
learner's answer variable is fetched as plain data. The comparison with the reference and the
misconception message are made here. A learner's code can therefore not patch the checks, rewrite
the test cells, read the answer key or write its own grade; what it can still do to itself
(patching modules, input transformers, reading outside its folder, copying attnkit's
implementation) is reported as *flags* with the evidence, which never change a grade.

The same function serves ``nbgrader autograde`` (the
:class:`~attnkit.grading.course.autograde.JudgeInSandbox` preprocessor replaces nbgrader's ``Execute`` in
``nbgrader_config.py``), ``attnkit grade`` and ``attnkit grade-class``, so the three give the same
grades.
"""
from __future__ import annotations

import ast
import builtins
import contextlib
import csv
import difflib
import fcntl
import functools
import io
import json
import os
import shutil
import sys
import tempfile
import time
import tokenize
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat
import numpy as np

from attnkit.grading.cells import meta as _nbgrader
from attnkit.grading.grader import sandbox
from attnkit.grading.grader.warm import WarmClient, WarmUnavailable
from attnkit.grading.kernel import runner

__all__ = ["JudgeResult", "judge_notebook", "RemoteFunction", "KernelGone", "static_flags", "copy_flags",
           "STATUSES", "combine_status", "write_status_row", "read_status", "is_test_cell", "is_trusted_cell"]

# The statuses a submission ends with, most severe first (one per submission; flags come on top).
STATUSES = ("malformed", "crashed", "memory limit", "timed out", "flagged", "test cells restored", "renamed",
            "graded")
STATUS_FILE = "grading_status.csv"
STATUS_FIELDS = ["student_id", "assignment", "score", "max_score", "status", "notes", "flags"]


class KernelGone(RuntimeError):
    """The sandboxed kernel stopped (time limit, memory limit, crash) before answering."""


@dataclass
class JudgeResult:
    """One judged notebook: the notebook with outputs, its status, notes and flags."""

    nb: nbformat.NotebookNode
    status: str
    notes: list[str] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)
    seconds: float = 0.0
    # failing test cells (grade_id) -> the misconception the check recognised, or "unrecognised"
    misconceptions: dict[str, str | None] = field(default_factory=dict)


# the kernel session ----------------------------------------------------------------------------

class Session:
    """A sandboxed runner and the pipes to it."""

    def __init__(self, scratch: Path, limits: sandbox.Limits, cell_timeout: float, sandboxed: bool,
                 warm: WarmClient | None = None) -> None:
        self.cell_timeout = cell_timeout
        to_kernel_r, self.to_kernel = os.pipe()
        self.from_kernel, from_kernel_w = os.pipe()
        self.warm = warm if sandboxed else None
        if self.warm is not None:  # forked from the worker's warm parent (grade-class)
            try:
                self.process: Any = self.warm.start(scratch, limits, (to_kernel_r, from_kernel_w),
                                                    {"ATTNKIT_SCRATCH": sandbox.SCRATCH}, sandbox.grading_uid())
            except WarmUnavailable as exc:
                print(f"attnkit grading: no warm kernels here, one-off sandboxes instead ({exc})"[:800],
                      file=sys.stderr)
                use_warm_parent(None)
                self.warm = None
        if self.warm is None:
            env = {"ATTNKIT_FDS": f"{to_kernel_r},{from_kernel_w}",
                   "ATTNKIT_SCRATCH": sandbox.SCRATCH if sandboxed else str(scratch)}
            # the runner runs as a script: `-m attnkit.grading.kernel.runner` would import attnkit (and torch)
            self.process = sandbox.start([sys.executable, "-s", str(Path(runner.__file__).resolve())], scratch,
                                         limits, sandboxed=sandboxed, pass_fds=(to_kernel_r, from_kernel_w),
                                         env=env, uid=sandbox.grading_uid())
        os.close(to_kernel_r)
        os.close(from_kernel_w)
        self.gone: str | None = None
        self.evidence: list[str] = []
        self.errors: list[str] = []
        self._id = 0

    def _stop(self, kill: bool) -> None:
        if self.warm is not None:
            self.warm.stop(self.process, kill=kill)
        else:
            sandbox.stop(self.process)

    def send(self, message: dict, arrays: list[np.ndarray] = ()) -> None:
        if self.gone:
            raise KernelGone(self.gone)
        try:
            runner.send(self.to_kernel, message, arrays)
        except (BrokenPipeError, OSError):
            self._lost("the notebook's kernel stopped")

    def receive(self, timeout: float) -> tuple[dict, dict[str, np.ndarray]]:
        if self.gone:
            raise KernelGone(self.gone)
        try:
            return runner.receive(self.from_kernel, time.monotonic() + timeout)
        except TimeoutError:
            self._lost("timed out")
        except (EOFError, ValueError, OSError, json.JSONDecodeError, struct_error()):
            self._lost(None)
        raise AssertionError("unreachable")

    def _lost(self, why: str | None) -> None:
        if why == "timed out":
            self._stop(kill=True)
            self.gone = "timed out"
        else:
            try:
                self.process.wait(timeout=5)
            except Exception:
                self._stop(kill=True)
            code = self.process.returncode
            if code in (-24, 152):  # SIGXCPU: the CPU-time limit
                self.gone = "timed out"
            elif "MemoryError" in self.errors:
                self.gone = "memory limit"
            else:
                self.gone = "crashed"
        raise KernelGone(self.gone)

    def request(self, message: dict, arrays: list[np.ndarray] = (), helpers: dict[str, Callable] | None = None,
                ) -> tuple[dict, dict[str, np.ndarray]]:
        """Send a request, answer the kernel's helper calls, return the reply."""
        self._id += 1
        self.send({**message, "id": self._id}, arrays)
        while True:
            reply, reply_arrays = self.receive(_grace(self.cell_timeout))
            if reply.get("event") == "helper":
                self._answer_helper(reply, reply_arrays, helpers or {})
                continue
            if reply.get("event") != "reply" or reply.get("id") != self._id:
                self._lost(None)
            return reply, reply_arrays

    def _answer_helper(self, request: dict, arrays: dict[str, np.ndarray], helpers: dict[str, Callable]) -> None:
        fn = helpers.get(request.get("name"))
        torch = _torch_if_needed(request)
        out: list[np.ndarray] = []
        try:
            if fn is None:
                raise NameError(f"{request.get('name')} is not a helper of this exercise")
            args = runner.decode(request["args"], arrays, torch)
            value = fn(*args, **runner.decode(request["kwargs"], arrays, torch))
            message = {"ok": True, "value": runner.encode(value, out)}
        except Exception as exc:
            message, out = {"ok": False, "message": f"{type(exc).__name__}: {exc}"}, []
        self.send(message, out)

    def close(self) -> None:
        for fd in (self.to_kernel, self.from_kernel):
            try:
                os.close(fd)
            except OSError:
                pass
        self._stop(kill=False)


def _grace(timeout: float) -> float:
    """How long the grader waits for a cell or a call: its time limit (enforced in the kernel,
    which then reports it), plus time to report; past that the sandbox is killed."""
    return timeout * 1.25 + 3


def struct_error() -> type:
    import struct

    return struct.error


def _torch_if_needed(tree: Any) -> Any:
    return sys.modules["torch"] if "torch" in sys.modules or '"torch"' in json.dumps(tree) and _import_torch() else None


def _import_torch() -> bool:
    import torch  # noqa: F401

    return True


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


def _learner_exception(name: str) -> type:
    """The learner's exception class, by name (a builtin where one exists)."""
    known = getattr(builtins, name, None)
    if isinstance(known, type) and issubclass(known, Exception):
        return known
    if name not in _LEARNER_EXCEPTIONS:
        _LEARNER_EXCEPTIONS[name] = type(name, (Exception,), {})
    return _LEARNER_EXCEPTIONS[name]


class RemoteFunction:
    """The learner's function, called in the sandbox on the grader's inputs; returns plain data.

    ``forbidden``: dotted paths of ready-made implementations the call may not reach (the
    kernel's profiler reports them). ``__globals__``: what ``engine.isolate`` puts there (correct
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
        message = {"op": "call", "name": self.name, "args": runner.encode(list(args), arrays),
                   "kwargs": runner.encode(kwargs, arrays), "forbidden": list(self.forbidden),
                   "helpers": sorted(helpers), "torch": _has_torch((args, kwargs))}
        reply, reply_arrays = self.session.request(message, arrays, helpers)
        if reply.get("ok"):
            return runner.decode(reply["value"], reply_arrays, _torch_if_needed(reply))
        if "forbidden" in reply:
            self.session.evidence.append(f"{self.name} called a ready-made implementation: {reply['forbidden']}")
            from attnkit.grading.content import engine

            raise getattr(engine, "_BuiltinUsed", RuntimeError)(reply["forbidden"].split(" ")[0])
        self.session.errors.append(reply.get("type", "Error"))
        raise _learner_exception(reply.get("type", "Exception"))(reply.get("message", ""))

    def __repr__(self) -> str:
        return f"<the learner's function {self.name}>"


class _TestScope(dict):
    """Locals of a test cell run in the grader: a learner's name is fetched from the kernel."""

    def __init__(self, session: Session, trusted: dict[str, Any]) -> None:
        super().__init__()
        self.session, self.trusted = session, trusted

    def __missing__(self, name: str) -> Any:
        if name in self.trusted or hasattr(builtins, name):
            raise KeyError(name)
        reply, arrays = self.session.request({"op": "get", "name": name})
        if reply["kind"] == "missing":
            raise KeyError(name)
        if reply["kind"] == "function":
            return RemoteFunction(self.session, name)
        return runner.decode(reply["value"], arrays, _torch_if_needed(reply))

    def __getitem__(self, name: str) -> Any:
        if dict.__contains__(self, name):
            return dict.__getitem__(self, name)
        return self.__missing__(name)


# the run_case hook: the checks' remote calls get their forbidden list ---------------------------

def _patched_checks() -> Callable[[], None]:
    """Make the engine's kernel half (``produce``) run a :class:`RemoteFunction` in the sandbox
    with the exercise's forbidden built-ins and helpers; the grader half (``judge``) is unchanged.
    Returns a function that undoes the patch."""
    from attnkit.grading.content import engine

    patches: list[tuple[Any, str, Any]] = []
    original_produce = getattr(engine, "produce", None)
    if original_produce is not None:
        def produce(fn: Any, exercise: Any, case: Any) -> dict[str, Any]:
            if isinstance(fn, RemoteFunction):
                ex = engine._exercise(exercise)
                fn = fn.configured(ex.forbidden)
            return original_produce(fn, exercise, case)

        patches.append((engine, "produce", original_produce))
        engine.produce = produce
    original_run_case = getattr(engine, "run_case", None)
    if original_run_case is not None:  # the engine before the produce/judge split
        def run_case(fn: Any, *args: Any, **kwargs: Any) -> Any:
            if isinstance(fn, RemoteFunction):
                fn = fn.configured(kwargs.get("forbidden", args[4] if len(args) > 4 else ()))
            return original_run_case(fn, *args, **kwargs)

        from attnkit.grading import checks

        for module in (engine, checks):
            if getattr(module, "run_case", None) is original_run_case:
                patches.append((module, "run_case", original_run_case))
                module.run_case = run_case

    def undo() -> None:
        for module, name, value in patches:
            setattr(module, name, value)
    return undo


# static evidence --------------------------------------------------------------------------------

_SUSPICIOUS_ATTRS = {
    "modules": "sys.modules", "input_transformers_post": "IPython input transformers",
    "input_transformers_cleanup": "IPython input transformers",
    "input_transformer_manager": "IPython input transformers",
    "ast_transformers": "IPython AST transformers", "register_magic_function": "registers magics",
    "setprofile": "changes the profiler", "settrace": "changes the tracer", "__code__": "replaces function code",
    "get_objects": "walks the garbage collector", "get_referrers": "walks the garbage collector",
    "_getframe": "reads the caller's frames", "f_back": "reads the caller's frames", "f_locals": "reads frames",
    "f_globals": "reads frames", "addaudithook": "installs an audit hook",
}
_SUSPICIOUS_MODULES = {"ctypes", "socket", "subprocess", "urllib", "requests", "http", "multiprocessing", "pty",
                       "importlib", "gc", "inspect", "shutil", "signal"}
_PATCHABLE = {"np", "numpy", "attnkit", "torch", "F", "sys", "builtins", "checks", "engine", "os", "math", "scipy"}


def static_flags(sources: list[tuple[int, str]]) -> list[str]:
    """Evidence of tampering read from the learner's cells (never executed here)."""
    flags: list[str] = []
    for index, source in sources:
        clean = "\n".join(line for line in source.splitlines() if not line.lstrip().startswith(("%", "!")))
        try:
            tree = ast.parse(clean)
        except SyntaxError:
            continue
        where = f"cell {index}"
        for node in ast.walk(tree):
            line = f"{where}, line {getattr(node, 'lineno', '?')}"
            if isinstance(node, ast.Attribute) and node.attr in _SUSPICIOUS_ATTRS:
                if node.attr == "modules" and not (isinstance(node.value, ast.Name) and node.value.id == "sys"):
                    continue
                flags.append(f"{line}: {_SUSPICIOUS_ATTRS[node.attr]} ({ast.unparse(node)[:80]})")
            elif isinstance(node, (ast.Import, ast.ImportFrom)):
                names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
                for name in names:
                    root = name.split(".")[0]
                    if root in _SUSPICIOUS_MODULES:
                        flags.append(f"{line}: imports {name}")
                    if name.startswith("attnkit.grading") or (isinstance(node, ast.ImportFrom) and root == "attnkit"
                                                               and any(a.name == "grading" for a in node.names)):
                        flags.append(f"{line}: imports the grading package ({name})")
            elif isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign)):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                for target in targets:
                    base = target
                    while isinstance(base, (ast.Attribute, ast.Subscript)):
                        base = base.value
                    if isinstance(target, (ast.Attribute, ast.Subscript)) and isinstance(base, ast.Name) \
                            and base.id in _PATCHABLE:
                        flags.append(f"{line}: patches a library ({ast.unparse(target)[:80]} = ...)")
            elif isinstance(node, ast.Call):
                name = ast.unparse(node.func)
                first = node.args[0] if node.args else None
                if name in ("setattr", "delattr") and isinstance(first, (ast.Name, ast.Attribute)) \
                        and ast.unparse(first).split(".")[0] in _PATCHABLE:
                    flags.append(f"{line}: patches a library ({name}({ast.unparse(node.args[0])}, ...))")
                elif name in ("open", "io.open", "os.open", "Path", "pathlib.Path", "os.listdir", "os.scandir",
                              "os.walk", "glob.glob", "sqlite3.connect", "shutil.copy", "os.remove") and node.args:
                    arg = node.args[0]
                    text = arg.value if isinstance(arg, ast.Constant) and isinstance(arg.value, str) else None
                    if text is None or text.startswith("/") or ".." in text or "~" in text:
                        flags.append(f"{line}: opens a path outside its folder ({ast.unparse(arg)[:80]})")
                elif name in ("exec", "eval", "compile", "__import__", "globals().update"):
                    flags.append(f"{line}: runs generated code ({name})")
                elif name.endswith("events.register"):
                    flags.append(f"{line}: registers an IPython event hook ({name})")
    return list(dict.fromkeys(flags))


def _tokens(source: str) -> list[str]:
    out = []
    try:
        for tok in tokenize.generate_tokens(io.StringIO(source).readline):
            if tok.type in (tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT,
                            tokenize.STRING, tokenize.ENDMARKER):
                continue
            out.append(tok.string)
    except (tokenize.TokenError, IndentationError, SyntaxError):
        pass
    return out


def _body_source(fn_node: ast.FunctionDef) -> str:
    body = fn_node.body
    if body and isinstance(body[0], ast.Expr) and isinstance(getattr(body[0], "value", None), ast.Constant):
        body = body[1:]
    return "\n".join(ast.unparse(stmt) for stmt in body)


@functools.cache
def _attnkit_implementations() -> list[tuple[str, list[str]]]:
    """Token lists of attnkit's own implementations of the exercises (what may not be copied)."""
    package = sandbox.PACKAGE
    implementations = []
    for path in [package / "attention.py", package / "heads.py", package / "masks.py",
                 package / "library" / "retrieval.py"]:
        if not path.exists():
            continue
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef):
                tokens = _tokens(_body_source(node))
                if len(tokens) >= 25:
                    implementations.append((f"attnkit/{path.relative_to(package)}:{node.name}", tokens))
    return implementations


def copy_flags(sources: list[tuple[int, str]], threshold: float = 0.85) -> list[str]:
    """Flags for learner functions whose body is (nearly) attnkit's own implementation."""
    flags = []
    for index, source in sources:
        try:
            tree = ast.parse("\n".join(line for line in source.splitlines()
                                       if not line.lstrip().startswith(("%", "!"))))
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if not isinstance(node, ast.FunctionDef):
                continue
            mine = _tokens(_body_source(node))
            if len(mine) < 25:
                continue
            for where, theirs in _attnkit_implementations():
                ratio = difflib.SequenceMatcher(None, mine, theirs, autojunk=False).ratio()
                if ratio >= threshold:
                    flags.append(f"cell {index}: {node.name} looks copied from {where} "
                                 f"(token similarity {ratio:.2f})")
    return flags


# judging a notebook ---------------------------------------------------------------------------

def is_test_cell(cell: Any) -> bool:
    meta = _nbgrader(cell)
    return cell.get("cell_type") == "code" and bool(meta.get("grade")) and not meta.get("solution")


def is_trusted_cell(cell: Any) -> bool:
    """A locked instructor cell (restored by nbgrader from the source): set-up code."""
    meta = _nbgrader(cell)
    return cell.get("cell_type") == "code" and bool(meta.get("locked")) and not meta.get("solution") \
        and not meta.get("grade")


def _error_output(exc: BaseException) -> dict:
    lines = traceback.format_exception_only(type(exc), exc)
    return nbformat.v4.new_output("error", ename=type(exc).__name__, evalue=str(exc),
                                  traceback=[line.rstrip("\n") for line in lines])


_WARM: list[WarmClient] = []  # this process's connection to a warm parent, if grade-class gave it one


def use_warm_parent(client: WarmClient | None) -> None:
    """Fork every kernel this process judges from the warm parent ``client`` is connected to
    (None: a one-off sandbox each)."""
    _WARM[:] = [client] if client is not None else []


def judge_notebook(nb: nbformat.NotebookNode, *, cell_timeout: float = 60, limits: sandbox.Limits | None = None,
                   allow_unsandboxed: bool = False, workdir: str | Path | None = None) -> JudgeResult:
    """Run ``nb`` (test cells already restored from the instructor's source) in a fresh sandbox and
    judge its test cells in this process. Returns the notebook with outputs, status and flags.
    The sandbox is a one-off, or forked from the warm parent set by :func:`use_warm_parent`."""
    start = time.perf_counter()
    nb = nbformat.from_dict(json.loads(json.dumps(nb)))
    sandboxed = sandbox.check_available(allow_unsandboxed)
    notes = [] if sandboxed else ["unsandboxed"]
    limits = limits or sandbox.Limits(cpu_s=int(max(60, cell_timeout * 10)))
    cells = nb.cells
    code_cells = [(i, c) for i, c in enumerate(cells) if c.cell_type == "code"]
    learner_sources = [(i, c.source) for i, c in code_cells if not is_test_cell(c) and not is_trusted_cell(c)]
    flags = static_flags(learner_sources) + copy_flags(learner_sources)

    job = [{"kind": "test"} if is_test_cell(c) else {"kind": "code", "source": c.source} for _, c in code_cells]
    warm = _WARM[0] if _WARM and sandboxed else None
    root = Path(tempfile.mkdtemp(prefix="attnkit-judge-", dir=warm.spool if warm else workdir))
    scratch = root / "scratch"
    scratch.mkdir()
    session = Session(scratch, limits, cell_timeout, sandboxed, warm)
    trusted: dict[str, Any] = {"__name__": "__grader__", "__builtins__": builtins}
    undo = _patched_checks()
    status_from_cells: list[str] = []
    misconceptions: dict[str, str | None] = {}
    try:
        session.send({"cells": job, "cell_timeout": cell_timeout})
        for position, (index, cell) in enumerate(code_cells):
            cell.outputs = []
            cell.execution_count = position + 1
            if session.gone:
                message = {"timed out": "the notebook stopped before this cell: it ran past the time limit",
                           "memory limit": "the notebook stopped before this cell: it used more memory than allowed",
                           }.get(session.gone, "the notebook's kernel stopped before this cell")
                if is_test_cell(cell):
                    cell.outputs = [_error_output(RuntimeError(message))]
                continue
            try:
                event, _ = session.receive(_grace(cell_timeout))
            except KernelGone:
                if is_test_cell(cell):
                    cell.outputs = [_error_output(RuntimeError(f"the notebook stopped: {session.gone}"))]
                continue
            if event.get("event") == "cell":
                cell.outputs = [nbformat.from_dict(o) for o in event["outputs"]]
                if event.get("error"):
                    status_from_cells.append(event["error"])
                if is_trusted_cell(cell):
                    try:
                        exec(compile(cell.source, f"<setup cell {index}>", "exec"), trusted)
                    except Exception:
                        pass
                continue
            if event.get("event") != "test":
                continue
            scope = _TestScope(session, trusted)
            printed = io.StringIO()
            try:
                with contextlib.redirect_stdout(printed):
                    exec(compile(cell.source, f"<test cell {_nbgrader(cell).get('grade_id', index)}>", "exec"),
                         trusted, scope)
            except KernelGone as exc:
                cell.outputs = [_error_output(RuntimeError(f"the notebook stopped during this test: {exc}"))]
            except BaseException as exc:  # the check's verdict
                cell.outputs = [_error_output(exc)]
                misconceptions[_nbgrader(cell).get("grade_id", str(index))] = \
                    getattr(exc, "misconception", None) or "unrecognised"
            if printed.getvalue():
                cell.outputs.insert(0, nbformat.v4.new_output("stream", name="stdout", text=printed.getvalue()))
            if not session.gone:
                try:
                    session.send({"op": "next"})
                except KernelGone:
                    pass
        if not session.gone:
            try:
                done, _ = session.receive(_grace(cell_timeout))
                session.evidence.extend(done.get("evidence", []))
            except KernelGone:
                pass
    finally:
        undo()
        session.close()
        log = root / "scratch.log"
        kernel_log = log.read_text(errors="replace")[-4000:] if log.exists() else ""
        shutil.rmtree(root, ignore_errors=True)
    runtime = [e for e in session.evidence if "ready-made" not in e]
    flags = list(dict.fromkeys(flags + runtime))
    if "MemoryError" in status_from_cells or "MemoryError" in session.errors:
        notes.append("memory limit")
    if session.gone:
        notes.append(session.gone)
    if "TimeoutError" in session.errors or "CellTimeout" in status_from_cells:
        notes.append("timed out")
    if session.gone == "crashed" and kernel_log.strip():
        notes.append("kernel log: " + kernel_log.strip().splitlines()[-1][:200])
    if flags:
        notes.append("flagged")
    status = next((s for s in STATUSES if s in notes), "graded")
    return JudgeResult(nb, status, list(dict.fromkeys(notes)), flags, time.perf_counter() - start, misconceptions)


def combine_status(*lists: list[str]) -> str:
    notes = [n for lst in lists for n in lst]
    return next((s for s in STATUSES if s in notes), "graded")


# the status CSV beside nbgrader's export ------------------------------------------------------

def write_status_row(course_dir: str | Path, row: dict[str, Any]) -> Path:
    """Insert or replace the row of (student, assignment) in ``grading_status.csv`` (file-locked)."""
    path = Path(course_dir) / STATUS_FILE
    with open(path.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        rows = []
        if path.exists():
            with open(path, newline="") as fh:
                rows = [r for r in csv.DictReader(fh)
                        if (r["student_id"], r["assignment"]) != (row["student_id"], row["assignment"])]
        rows.append({k: row.get(k, "") for k in STATUS_FIELDS})
        rows.sort(key=lambda r: (r["assignment"], r["student_id"]))
        tmp = path.with_suffix(".tmp")
        with open(tmp, "w", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=STATUS_FIELDS)
            writer.writeheader()
            writer.writerows(rows)
        os.replace(tmp, path)
    return path


def read_status(course_dir: str | Path) -> dict[tuple[str, str], dict[str, str]]:
    path = Path(course_dir) / STATUS_FILE
    if not path.exists():
        return {}
    with open(path, newline="") as fh:
        return {(r["student_id"], r["assignment"]): r for r in csv.DictReader(fh)}


def _visible(source: str) -> str:
    """A test cell's source as released: the hidden region removed."""
    out, hidden = [], False
    for line in source.splitlines():
        if "### BEGIN HIDDEN TESTS" in line:
            hidden = True
        elif "### END HIDDEN TESTS" in line:
            hidden = False
        elif not hidden:
            out.append(line)
    return "\n".join(out)
