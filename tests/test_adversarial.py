"""Issues 12 and 17: the adversarial corpus (tests/adversarial/corpus.py) graded three ways.

1. ``attnkit grade-class`` (nbgrader's autograde through its API, parallel workers) in a course
   directory; 2. plain ``nbgrader autograde`` in a second course directory; 3. ``attnkit grade``'s
   one-process grader. Each submission must get the score its honest part deserves, its status and
   its flags, and nothing outside its scratch directory may change: no canary file, no connection
   to a listener of this test, no write into the course or the repository, no process left, the
   other students' grades untouched; grade-class's kernels all come from its warm parent, and the
first submission it grades tries to patch the grader for the students after it. Slow: several
minutes on 2 loaded cores.
"""
from __future__ import annotations

import csv
import hashlib
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import nbformat
import pytest

sys.path.insert(0, str(Path(__file__).parent))
from adversarial.corpus import CELL_TIMEOUT, ENTRIES, QUIZ, build, honest_notebook, quiz_points  # noqa: E402

from attnkit.grading.grader import sandbox  # noqa: E402

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the sandbox is Linux-only")]
REPO = Path(__file__).resolve().parents[1]
BY_NAME = {e.name: e for e in ENTRIES}
SLEEP = 310 + os.getpid() % 80  # seconds the corpus's leftover processes sleep: this run's own number


class Listener:
    """A TCP server on 127.0.0.1 that records every connection (none may arrive)."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self.stop = False
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while not self.stop:
            try:
                conn, _ = self.sock.accept()
                self.connections += 1
                conn.close()
            except OSError:
                continue

    def close(self) -> None:
        self.stop = True
        self.thread.join(timeout=2)
        self.sock.close()


def _tree(root: Path, skip: tuple[str, ...]) -> dict[str, str]:
    out = {}
    for path in root.rglob("*"):
        rel = path.relative_to(root).as_posix()
        if path.is_file() and not rel.startswith(skip):
            out[rel] = hashlib.sha1(path.read_bytes()).hexdigest()
    return out


def _sandbox_processes(course: Path) -> list[str]:
    """Grading kernels or processes the corpus started that are still alive (none may be): one-off
    kernels, the warm parent of this course's grade-class (its label names the course), and the
    corpus's `sleep {SLEEP}` (its forked `time.sleep` keeps its kernel's command line). Only this
    worktree's and this run's: other runs of the corpus may share the machine."""
    done = subprocess.run(["ps", "-eo", "pid,stat,args"], capture_output=True, text=True)
    return [line for line in done.stdout.splitlines()[1:] if line.split()[1][0] != "Z" and (
            f"{REPO}/attnkit/grading/kernel/runner.py" in line or line.split(None, 2)[-1].strip() == f"sleep {SLEEP}"
            or ("attnkit/grading/kernel/zygote.py" in line and f"grade-class:{course}" in line))]


def _leftovers(course: Path, settle: float = 3.0) -> list[str]:
    """:func:`_sandbox_processes`, given the kernel a moment to finish tearing down namespaces."""
    deadline = time.monotonic() + settle
    while (alive := _sandbox_processes(course)) and time.monotonic() < deadline:
        time.sleep(0.1)
    return alive


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory):
    """Two course directories holding the whole corpus, graded by grade-class and by nbgrader."""
    from attnkit.grading.course import classgrade
    from attnkit.grading.course.nbgrader_cli import make_course, nbgrader

    sandbox.check_available()
    base = tmp_path_factory.mktemp("adversarial")
    listener = Listener()
    canary = base / "CANARY"
    courses = {}
    for how in ("class", "nbgrader"):
        course = make_course(base / how, [QUIZ])
        release = nbformat.read(course / "quizzes" / QUIZ / f"{QUIZ}.ipynb", as_version=4)
        honest = honest_notebook(release, nbformat.read(REPO / "solutions" / QUIZ / f"{QUIZ}.ipynb", as_version=4))
        for entry in ENTRIES:
            build(entry, honest, course / "submitted" / entry.name / QUIZ, canary=canary, course=course,
                  port=listener.port, sleep=SLEEP)
        courses[how] = course
    points = quiz_points(release)
    repo_before = _tree(REPO, (".git", ".venv", "attnkit.egg-info", ".pytest", "tests/__pycache__", ".ipynb"))
    before = {how: _tree(c, ("autograded", "feedback", "gradebook.db", "grading_status", "grades.csv", "submitted"))
              for how, c in courses.items()}
    # plain nbgrader in the second course at the same time (the hanging submissions' waits overlap)
    plain = threading.Thread(target=lambda: results.append(nbgrader(
        ["autograde", QUIZ, "--force", f"--JudgeInSandbox.timeout={CELL_TIMEOUT}"], courses["nbgrader"], check=False)))
    results: list = []
    plain.start()
    start = time.perf_counter()
    rows = classgrade.grade_class(QUIZ, courses["class"], workers=2, timeout=CELL_TIMEOUT)
    class_seconds = time.perf_counter() - start
    plain.join()
    done = results[0]
    leftovers = _leftovers(courses["class"].resolve())
    listener.close()
    yield {"points": points, "courses": courses, "rows": {r["student_id"]: r for r in rows}, "listener": listener,
           "canary": canary,
           "leftovers": leftovers, "nbgrader_log": done.stderr, "before": before, "repo_before": repo_before,
           "class_seconds": class_seconds, "base": base}


def _gradebook_scores(course: Path) -> dict[str, float]:
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        return {s.student.id: float(s.score) for s in gb.assignment_submissions(QUIZ)}


def _status_rows(course: Path) -> dict[str, dict[str, str]]:
    with open(course / "grading_status.csv", newline="") as fh:
        return {r["student_id"]: r for r in csv.DictReader(fh)}


def _check(entry, points, score: float, status: str, flags: str) -> None:
    expected = entry.score(points)
    assert score == expected, f"{entry.name}: score {score}, expected {expected} ({status}; {flags})"
    assert status == entry.status, f"{entry.name}: status {status!r}, expected {entry.status!r} ({flags})"
    for expected in entry.flags:
        assert expected in flags, f"{entry.name}: no flag mentioning {expected!r} in {flags!r}"
    if entry.status in ("graded",) or entry.name.startswith("honest"):
        assert not flags, f"{entry.name}: an honest or plain submission was flagged: {flags}"


@pytest.mark.parametrize("name", [e.name for e in ENTRIES])
def test_grade_class(corpus, name: str) -> None:
    entry = BY_NAME[name]
    row = corpus["rows"][name]
    _check(entry, corpus["points"], float(row["score"]), row["status"], row["flags"])
    # every kernel of grade-class was forked from the class's warm parent (none fell back to a one-off)
    assert row.get("kernel", "") == ("" if entry.status == "malformed" else "warm"), row
    assert _gradebook_scores(corpus["courses"]["class"])[name] == entry.score(corpus["points"])


@pytest.mark.parametrize("name", [e.name for e in ENTRIES])
def test_plain_nbgrader_autograde(corpus, name: str) -> None:
    """The same grades and statuses from `nbgrader autograde` in the course root (its pre- and
    post-convert hooks triage renamed and malformed notebooks as grade-class does)."""
    entry = BY_NAME[name]
    row = _status_rows(corpus["courses"]["nbgrader"])[name]
    _check(entry, corpus["points"], float(row["score"]), row["status"], row["flags"])
    assert row.get("kernel", "") == ("" if entry.status == "malformed" else "one-off"), row
    assert _gradebook_scores(corpus["courses"]["nbgrader"])[name] == entry.score(corpus["points"])


@pytest.mark.parametrize("name", [e.name for e in ENTRIES if e.name != "renamed"])
def test_attnkit_grade(corpus, name: str, tmp_path: Path) -> None:
    from attnkit.grading.grader.selfjudge import grade_notebook

    entry = BY_NAME[name]
    path = corpus["courses"]["class"] / "submitted" / name / QUIZ / entry.filename
    if entry.status == "malformed":
        with pytest.raises(nbformat.reader.NotJSONError):
            nbformat.read(path, as_version=4)
        return
    # the course's copy of solutions/ (the repository's may be edited while this runs)
    result, judged, hidden = grade_notebook(path, QUIZ, workdir=tmp_path, timeout=CELL_TIMEOUT, feedback=False,
                                            root=corpus["courses"]["class"])
    assert hidden and judged.kernel == "one-off"
    _check(entry, corpus["points"], result.score, judged.status, " | ".join(judged.flags))


def test_no_side_effects(corpus) -> None:
    assert not corpus["canary"].exists()
    assert corpus["listener"].connections == 0
    assert corpus["leftovers"] == [], corpus["leftovers"]
    for how, course in corpus["courses"].items():
        after = _tree(course, ("autograded", "feedback", "gradebook.db", "grading_status", "grades.csv", "submitted"))
        assert after == corpus["before"][how], f"{how}: files changed in the course directory"
        assert not (course / "PWNED.txt").exists()
    repo_after = _tree(REPO, (".git", ".venv", "attnkit.egg-info", ".pytest", "tests/__pycache__", ".ipynb"))
    changed = {k for k in set(repo_after) | set(corpus["repo_before"])
               if repo_after.get(k) != corpus["repo_before"].get(k) and "PWNED" in k}
    assert not changed


def test_statuses_sit_beside_the_export_and_in_the_gradebook(corpus) -> None:
    from nbgrader.api import Gradebook

    course = corpus["courses"]["class"]
    with open(course / "grades.csv", newline="") as fh:
        exported = {r["student_id"]: r for r in csv.DictReader(fh)}
    statuses = _status_rows(course)
    assert set(exported) == set(statuses) == set(BY_NAME)
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        for entry in ENTRIES:
            notebook = gb.find_submission_notebook(QUIZ, QUIZ, entry.name)
            assert notebook.flagged == (entry.status != "graded"), entry.name
            comments = sorted(notebook.comments, key=lambda c: c.name)
            if comments:
                assert f"attnkit grading status: {entry.status}" in (comments[0].auto_comment or "")


def test_the_report_of_the_attacks(corpus, tmp_path) -> None:
    """Issue 21 on the attacks: every status counted, every flag shown as text, the malformed file
    without a record, and a learner's own `CheckFailed` naming a misconception counted as unrecognised."""
    from collections import Counter

    from attnkit.grading.report import command

    reports, paths = command.build(corpus["courses"]["class"], [QUIZ], tmp_path)
    report = reports[0]
    assert report.statuses == Counter(e.status for e in ENTRIES)
    cells = [grade_id for grade_id, _ in corpus["points"]]

    def lost(entry) -> set[str]:
        if isinstance(entry.failed, tuple):
            return set(entry.failed)
        return set(cells if entry.failed == "all" else cells[cells.index(entry.failed.removeprefix("from:")):])

    for item in report.items:
        assert sum(item.wrong.values()) == sum(item.cell in lost(e) for e in ENTRIES), item.cell
    by_student = {s.student: s for s in report.submissions}
    assert by_student["forges_misconception"].cells["test_softmax"].misconception == "unrecognised"
    assert by_student["malformed"].cells["test_softmax"].misconception == "not_recorded"
    page = paths[0].read_text()
    assert "<script>" not in page and "alert('report')" not in page
