"""Attacks on the grading queue's path into grading (issue 19): what a student who controls every
byte of their submission folder, or its name, can try against ``attnkit queue``.

A job carries only ``(quiz, student, submitted_at)``; a worker reads
``<submissions>/<student>/<quiz>/`` itself (attnkit/grading/queue/jobs.py). Each entry lays out a
submission folder (or names a job directly, as a compromised ``submit`` could) and says what the
queue must make of it:

* ``status``/``score``: the status row of ``attnkit queue status`` (``score`` None: not checked);
* ``refused_at_submit``: ``attnkit queue submit`` must not enqueue it;
* ``reason``: a substring of the notes the instructor sees.
"""
from __future__ import annotations

import copy
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import nbformat

QUIZ = "q4_qkv_math"


@dataclass
class Payload:
    name: str  # the student folder (or the job's student id, for direct jobs)
    attack: str
    make: Callable[[Path, nbformat.NotebookNode, Path], None] | None  # (submitted/, honest, course)
    status: str
    score: float | None = 0.0
    reason: str = ""
    refused_at_submit: bool = False
    direct_job: bool = False  # deferred straight into the queue with this student id


def _folder(submitted: Path, name: str) -> Path:
    folder = submitted / name / QUIZ
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _symlinked_notebook(submitted: Path, honest: nbformat.NotebookNode, course: Path) -> None:
    # the solutions notebook would earn full marks if the worker followed the link
    target = course / "solutions" / QUIZ / f"{QUIZ}.ipynb"
    os.symlink(target, _folder(submitted, "q_symlinked_notebook") / f"{QUIZ}.ipynb")


def _symlinked_folder(submitted: Path, honest: nbformat.NotebookNode, course: Path) -> None:
    (submitted / "q_symlinked_folder").mkdir(parents=True)
    os.symlink(course / "solutions" / QUIZ, submitted / "q_symlinked_folder" / QUIZ)


def _fifo(submitted: Path, honest: nbformat.NotebookNode, course: Path) -> None:
    os.mkfifo(_folder(submitted, "q_fifo_notebook") / f"{QUIZ}.ipynb")  # a reader that opens it blocks


def _huge(submitted: Path, honest: nbformat.NotebookNode, course: Path) -> None:
    with open(_folder(submitted, "q_huge_notebook") / f"{QUIZ}.ipynb", "wb") as fh:
        fh.truncate(10 << 30)  # 10 GiB, sparse: costs no disk here, would fill a worker's


def _bad_name(name: str) -> Callable:
    def make(submitted: Path, honest: nbformat.NotebookNode, course: Path) -> None:
        nbformat.write(honest, _folder(submitted, name) / f"{QUIZ}.ipynb")
    return make


KILL_ALL = """
import os, signal
for pid in os.listdir("/proc"):  # the worker, its supervisor, the warm parent: whatever it can see
    if pid.isdigit() and int(pid) != os.getpid():
        try:
            os.kill(int(pid), signal.SIGKILL)
        except OSError:
            pass
try:
    os.kill(-1, signal.SIGKILL)  # every process it may signal
except OSError:
    pass
os.kill(os.getpid(), signal.SIGKILL)
"""


def _kills_everything(submitted: Path, honest: nbformat.NotebookNode, course: Path) -> None:
    nb = copy.deepcopy(honest)
    cell = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "answer_scale_divisor")
    cell.source += "\n" + KILL_ALL
    nbformat.write(nb, _folder(submitted, "q_kills_everything") / f"{QUIZ}.ipynb")


def _honest_with_junk(submitted: Path, honest: nbformat.NotebookNode, course: Path) -> None:
    folder = _folder(submitted, "q_honest_with_junk")
    nbformat.write(honest, folder / f"{QUIZ}.ipynb")
    os.symlink("/etc/shadow", folder / "shadow.txt")
    for i in range(80):
        (folder / f"junk{i:03d}.txt").write_text("x")


PAYLOADS: list[Payload] = [
    Payload("q_symlinked_notebook", "the notebook is a link to solutions/", _symlinked_notebook, "malformed", 0.0,
            "a link"),
    Payload("q_symlinked_folder", "the quiz folder is a link to solutions/", _symlinked_folder, "", None,
            refused_at_submit=True),
    Payload("q_fifo_notebook", "the notebook is a named pipe (a reader blocks)", _fifo, "malformed", 0.0,
            "not a regular file"),
    Payload("q_huge_notebook", "a 10 GiB notebook", _huge, "malformed", 0.0, "over the limit"),
    Payload("q+plus", "a student id with nbgrader's reserved +", _bad_name("q+plus"), "", None,
            refused_at_submit=True),
    Payload("-q_dash", "a student id that reads as an option", _bad_name("-q_dash"), "", None,
            refused_at_submit=True),
    Payload("q_honest_with_junk", "an honest notebook beside a link to /etc/shadow and 80 files", _honest_with_junk,
            "flagged", None, "the rest skipped"),  # the link is never read, and flagged as everywhere else
    # the queue's own processes are out of a kernel's reach (another pid namespace and uid): only the
    # kernel dies, the worker goes on grading the others (tests/test_queue_grading.py checks all succeed)
    Payload("q_kills_everything", "a kernel that SIGKILLs every process it sees (worker, supervisor), then itself",
            _kills_everything, "crashed", None),
    Payload("../../../tmp/escape", "a job whose student id climbs out of the submissions folder", None, "failed",
            None, "unsafe student id", direct_job=True),
    Payload("honest/../../solutions", "a job whose student id reaches solutions/", None, "failed", None,
            "unsafe student id", direct_job=True),
]


def build_payloads(submitted: Path, honest: nbformat.NotebookNode, course: Path) -> None:
    for payload in PAYLOADS:
        if payload.make is not None:
            payload.make(submitted, honest, course)
