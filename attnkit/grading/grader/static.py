"""Evidence read from the learner's cells without running them: tampering, and copying attnkit.

:func:`static_flags` parses each learner cell (never executes it) and names what a quiz answer
has no reason to do: touch the profiler, the tracer, frames, ``sys.modules``, IPython's
transformers, the process's own file descriptors (the pipe to the grader), the torch function
mode stack; import process, network or introspection modules; patch a library; open paths
outside its folder; generate code. :func:`copy_flags` compares each learner function's tokens
with attnkit's own implementations. Flags are for review; they never change a grade.
"""
from __future__ import annotations

import ast
import difflib
import functools
import io
import tokenize

from attnkit.grading.grader import sandbox

__all__ = ["static_flags", "copy_flags"]

_SUSPICIOUS_ATTRS = {
    "modules": "sys.modules", "input_transformers_post": "IPython input transformers",
    "input_transformers_cleanup": "IPython input transformers",
    "input_transformer_manager": "IPython input transformers",
    "ast_transformers": "IPython AST transformers", "register_magic_function": "registers magics",
    "setprofile": "changes the profiler", "settrace": "changes the tracer", "__code__": "replaces function code",
    "get_objects": "walks the garbage collector", "get_referrers": "walks the garbage collector",
    "_getframe": "reads the caller's frames", "f_back": "reads the caller's frames", "f_locals": "reads frames",
    "f_globals": "reads frames", "addaudithook": "installs an audit hook",
    "setprofile_all_threads": "changes the profiler", "_profile_hook": "changes the profiler",
    "settrace_all_threads": "changes the tracer", "_trace_hook": "changes the tracer",
    "DisableTorchFunction": "switches torch's function modes off",
    "DisableTorchFunctionSubclass": "switches torch's function modes off",
    "_pop_torch_function_stack": "changes torch's function modes", "_pop_mode": "changes torch's function modes",
    "_disable_torch_function": "switches torch's function modes off",
    "_get_current_function_mode_stack": "reads torch's function modes",
    "write": None, "read": None, "fdopen": None, "dup": None, "dup2": None,
}
_FD_CALLS = {"write", "read", "fdopen", "dup", "dup2"}  # os.<name>: the raw file descriptors (the pipe)
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
                owner = node.value.id if isinstance(node.value, ast.Name) else None
                if node.attr == "modules" and owner != "sys":
                    continue
                if node.attr in _FD_CALLS:
                    if owner in ("os", "posix"):
                        flags.append(f"{line}: uses raw file descriptors, where the pipe to the grader is "
                                     f"({ast.unparse(node)[:80]})")
                    continue
                flags.append(f"{line}: {_SUSPICIOUS_ATTRS[node.attr]} ({ast.unparse(node)[:80]})")
            elif isinstance(node, ast.Constant) and isinstance(node.value, str) and "/fd" in node.value \
                    and node.value.startswith(("/proc/", "/dev/fd")):
                flags.append(f"{line}: looks at the process's file descriptors ({node.value[:80]!r})")
            elif isinstance(node, (ast.Import, ast.ImportFrom)):
                names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
                if isinstance(node, ast.ImportFrom):  # from sys import setprofile: the name, not the attribute
                    for alias in node.names:
                        what = _SUSPICIOUS_ATTRS.get(alias.name)
                        if what or (alias.name in _FD_CALLS and node.module in ("os", "posix")):
                            flags.append(f"{line}: {what or 'uses raw file descriptors'} "
                                         f"(from {node.module} import {alias.name})")
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

