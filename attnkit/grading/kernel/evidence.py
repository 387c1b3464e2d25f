"""What a grading kernel sees of tampering, reported to the grader as evidence (never a verdict).

An audit hook notes files opened outside the scratch folder, the process's own file descriptors
looked at (the pipe to the grader is among them), network use, processes started and replaced
function code; an integrity scan notes patched modules, replaced ``sys.modules`` entries and
IPython input or AST transformers. The grader turns the evidence into flags; it decides nothing
here, and a kernel can of course lie: evidence is a help to the reviewer, not a proof of honesty.
"""
from __future__ import annotations

import os
import re
import sys
import types
from typing import Any

__all__ = ["Evidence", "prime"]

_UNSEEN = object()
_PRIMED: dict[str, Any] = {}
_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # .../attnkit
_OWN_FDS = re.compile(r"^/(proc/(self|thread-self|\d+)(/task/\d+)?/fd(info)?|dev/fd)(/|$)")
_STARTS = ("subprocess.Popen", "os.system", "os.exec", "os.posix_spawn", "os.spawn", "os.fork", "pty.spawn")


def prime() -> None:
    """Take the integrity baseline of the modules loaded now (a warm parent, before any kernel)."""
    evidence = Evidence()
    evidence.baseline = evidence.snapshot()
    evidence.scan_modules()
    _PRIMED.update(baseline=evidence.baseline, modules=evidence.modules_seen, values=evidence.values_seen)


class Evidence:
    """The evidence of one kernel; ``in_learner_code`` says when the audit hook listens."""

    def __init__(self) -> None:
        self.items: list[str] = []
        self.scratch = os.path.realpath(os.environ.get("ATTNKIT_SCRATCH", os.getcwd()))
        self.in_learner_code = False
        self.listeners: list[Any] = []  # more audit listeners while learner code runs (the ban)
        # what the integrity scan has seen already: primed before any student code runs (in a warm
        # parent, once for all the kernels forked from it)
        self.baseline: dict[str, dict[str, int]] = _PRIMED.get("baseline", {})
        self.modules_seen: dict[str, Any] = _PRIMED.get("modules", {})
        self.values_seen: dict[str, dict[str, Any]] = _PRIMED.get("values", {})
        self.transformers = self.ast_transformers = 0

    def add(self, text: str) -> None:
        if text not in self.items:
            self.items.append(text[:300])

    def _allowed_path(self, path: str) -> bool:
        real = os.path.realpath(path) if path else path
        if _OWN_FDS.match(real) or _OWN_FDS.match(path):
            return False
        roots = [self.scratch, "/tmp", "/usr", "/dev/null", "/dev/urandom", "/dev/shm", "/proc", "/sys", "/etc",
                 sys.prefix, sys.base_prefix, _PACKAGE_DIR, os.path.realpath(sys.prefix)]
        return any(real == r or real.startswith(r.rstrip("/") + "/") for r in roots if r)

    def audit(self, event: str, args: tuple) -> None:
        if not self.in_learner_code:
            return
        for listener in self.listeners:
            listener(event, args)
        try:
            if event in ("open", "os.listdir", "os.scandir") and args and isinstance(args[0], (str, bytes)):
                path = os.fsdecode(args[0])
                if _OWN_FDS.match(path):
                    self.add(f"looked at its own file descriptors: {path!r}")
                elif event == "open" and not self._allowed_path(os.path.join(self.scratch, path)):
                    self.add(f"opened a file outside its folder: {path!r}")
            elif event in ("socket.connect", "socket.bind", "socket.sendto"):
                self.add(f"network: {event} {args[1]!r}")
            elif event in _STARTS:
                self.add(f"started a process: {event} {str(args[:2])[:120]}")
            elif event == "sys.addaudithook":
                self.add("installed its own audit hook")
            elif event == "sqlite3.connect" and args and isinstance(args[0], (str, bytes, os.PathLike)):
                path = os.fsdecode(args[0])
                if path != ":memory:" and not self._allowed_path(os.path.join(self.scratch, path)):
                    self.add(f"opened a database outside its folder: {path!r}")
            elif event == "object.__setattr__" and len(args) >= 3 and args[1] == "__code__" \
                    and isinstance(args[2], types.CodeType) and args[2].co_filename.startswith("<"):
                self.add(f"replaced the code of a function: {args[0]!r}"[:200])
        except Exception:
            pass

    # integrity -----------------------------------------------------------------------------
    def snapshot(self) -> dict[str, dict[str, int]]:
        names = [n for n in list(sys.modules) if n.split(".")[0] in ("attnkit", "numpy", "torch", "builtins")
                 and n.count(".") <= 2]
        snap = {}
        for name in names:
            module = sys.modules.get(name)
            if isinstance(module, types.ModuleType):
                snap[name] = {k: id(v) for k, v in list(vars(module).items()) if callable(v)}
        return snap

    def start(self, shell: Any) -> None:
        """The baseline of a new shell (before any learner code)."""
        self.transformers = _transformers(shell)
        self.ast_transformers = len(shell.ast_transformers)
        if not _PRIMED:
            self.baseline = self.snapshot()
            self.scan_modules()

    def check(self, shell: Any) -> list[str]:
        """Evidence of tampering with modules, sys.modules and IPython's transformers; all so far."""
        try:
            self.scan_modules()
            if _transformers(shell) != self.transformers:
                self.add("installed IPython input transformers (they rewrite the cells run after them)")
            if len(shell.ast_transformers) != self.ast_transformers:
                self.add("installed IPython AST transformers (they rewrite the cells run after them)")
        except Exception as exc:  # a learner's object that breaks the inspection is evidence too
            self.add(f"the integrity check failed: {type(exc).__name__}: {exc}")
        return list(self.items)

    def scan_modules(self) -> None:
        """Evidence of patched modules and replaced ``sys.modules`` entries. Incremental: a module
        object already inspected, and an attribute whose value is the very object seen last time,
        are not looked at again (with torch loaded there are ~25,000 attributes)."""
        for name, module in list(sys.modules.items()):
            if name.split(".")[0] not in ("attnkit", "numpy", "torch", "builtins", "scipy", "math"):
                continue
            if module is not None and not isinstance(module, types.ModuleType):
                self.add(f"sys.modules[{name!r}] was replaced by a {type(module).__name__}")
                continue
            if self.modules_seen.get(name) is not module:
                self.modules_seen[name] = module
                path = getattr(module, "__file__", None) or ""
                if os.path.isabs(path) and self.scratch and os.path.realpath(path).startswith(self.scratch):
                    self.add(f"sys.modules[{name!r}] was replaced by a module from the notebook's folder")
            if name.count(".") > 2 or module is None:
                continue
            before = self.baseline.get(name)
            seen = self.values_seen.setdefault(name, {})
            for key, value in list(vars(module).items()):
                if seen.get(key, _UNSEEN) is value:
                    continue
                seen[key] = value
                if not callable(value):
                    continue
                origin = getattr(value, "__module__", None)
                if origin == "__main__" and name != "__main__":
                    self.add(f"patched {name}.{key} with code from the notebook")
                elif before is not None and key in before and before[key] != id(value) and name == "builtins":
                    self.add(f"replaced the builtin {key}")


def _transformers(shell: Any) -> int:
    return (len(shell.input_transformers_post) + len(shell.input_transformers_cleanup)
            + len(getattr(shell.input_transformer_manager, "line_transforms", [])))
