"""Issue 19: faults of distributed grading, with real workers on a real PostgreSQL server.

* a worker's supervisor killed alone with SIGKILL mid-job: within a bounded time none of its
  processes is left (worker processes, the warm parent sandbox, the kernels), as when its machine
  dies; another worker puts the job back in the queue once the dead one stops heartbeating, and
  it is graded once (one submission in the gradebook, the grade nbgrader gives);
* the database restarting while workers grade: they reconnect and every job ends graded;
* a job that fails three times (its submission folder vanished after submit): ``failed`` with the
  reason, in ``attnkit queue status`` and grading_status.csv;
* submitting twice enqueues nothing new; a newer submission replaces an older one still waiting.

A hanging or crashing submission gets its usual status through the queue: tests/test_queue_grading.py.
"""
from __future__ import annotations

import shutil
import signal
import sys
import time
from pathlib import Path

import nbformat
import psutil
import pytest

sys.path.insert(0, str(Path(__file__).parent))
import queueharness as qh  # noqa: E402
from adversarial.corpus import CELL_TIMEOUT, ENTRIES, QUIZ, build, honest_notebook, quiz_points  # noqa: E402
from queueharness import attnkit, jobs, kill_worker, queue_env, start_worker, stop_worker, wait_done  # noqa: E402

from attnkit.grading.grader import sandbox  # noqa: E402

pytestmark = [pytest.mark.postgres, pytest.mark.slow,
              pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the sandbox is Linux-only")]
REPO = Path(__file__).resolve().parents[1]
BY_NAME = {e.name: e for e in ENTRIES}
SLOW_CELL = "\nimport time\ntime.sleep(12)  # long enough to be killed mid-job\n"


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    from attnkit.grading.course.nbgrader_cli import make_course

    sandbox.check_available()
    course = make_course(tmp_path_factory.mktemp("queue_faults") / "course", [QUIZ])
    release = nbformat.read(course / "quizzes" / QUIZ / f"{QUIZ}.ipynb", as_version=4)
    honest = honest_notebook(release, nbformat.read(REPO / "solutions" / QUIZ / f"{QUIZ}.ipynb", as_version=4))
    return course, honest, quiz_points(release)


def _place(course: Path, student: str, nb: nbformat.NotebookNode, stamp: str = "2026-12-01 10:00:00") -> None:
    folder = course / "submitted" / student / QUIZ
    folder.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, folder / f"{QUIZ}.ipynb")
    (folder / "timestamp.txt").write_text(stamp)


def _fresh(course: Path) -> None:
    for part in ("submitted", "autograded", "feedback"):
        shutil.rmtree(course / part, ignore_errors=True)


def test_a_killed_supervisor_leaves_nothing_and_its_job_is_graded_once(postgres, course, tmp_path) -> None:
    course, honest, points = course
    _fresh(course)
    url = postgres.createdb("gb_kill")
    env = queue_env(postgres, "gb_kill")
    slow = nbformat.from_dict(honest)
    # in a learner's cell: set-up cells run the instructor's own source, whatever the submission holds
    next(c for c in slow.cells if c.cell_type == "code" and c.metadata.get("nbgrader", {}).get("solution")).source \
        += SLOW_CELL
    _place(course, "a_slow", slow)
    _place(course, "b_honest", honest)
    attnkit(["queue", "init"], course, env)
    attnkit(["queue", "submit", QUIZ], course, env)
    queued = attnkit(["queue", "status", QUIZ], course, env)
    assert queued.returncode == 1 and f"{QUIZ}: 2 submissions: 2 queued" in queued.stdout, queued.stdout  # not done
    first = start_worker(course, env, "--concurrency", "1", log=tmp_path / "first.log")
    try:
        deadline = time.monotonic() + 300
        while not any(s == "a_slow" and status == "doing" for _, status, s, _ in jobs(url, QUIZ)):
            assert time.monotonic() < deadline, jobs(url, QUIZ)
            time.sleep(0.5)
        time.sleep(2)
        under = [psutil.Process(pid) for pid in sandbox.descendants(first.pid)]
        names = " ".join(" ".join(p.cmdline()) for p in under)
        assert "zygote" in names and "forkserver" in names, names  # the warm parent and the workers
        first.send_signal(signal.SIGKILL)  # the supervisor alone, mid-job: the slow cell sleeps 12 s
        first.wait(30)
        deadline = time.monotonic() + 30
        while left := [p for p in under if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]:
            assert time.monotonic() < deadline, f"left behind by the killed supervisor: {left}"
            time.sleep(0.5)
    finally:
        kill_worker(first)
    assert any(s == "a_slow" and status == "doing" for _, status, s, _ in jobs(url, QUIZ)), "killed mid-job"
    (course / "grading_status.csv").unlink(missing_ok=True)
    second = start_worker(course, env, "--concurrency", "1", log=tmp_path / "second.log")
    try:
        waiting = qh.start_status_wait(course, env)
        done = wait_done(url, QUIZ, timeout=400, worker=second)
        out, err = waiting.communicate(timeout=120)
    finally:
        stop_worker(second)
    assert waiting.returncode == 0, (out, err)  # every job done, none failed
    assert f"{QUIZ} graded" in err and "2/2" in err, err  # the progress bar, on stderr
    assert f"{QUIZ}: 2 submissions: 2 graded" in out, out
    assert (course / "grading_status.csv").read_text().count(",graded,") == 2
    by_student = {s: (status, attempts) for _, status, s, attempts in done}
    assert by_student["a_slow"] == ("succeeded", 2), (done, (tmp_path / "second.log").read_text()[-3000:])
    assert by_student["b_honest"][0] == "succeeded"
    assert postgres.psql("SELECT count(*) FROM submitted_assignment WHERE student_id = 'a_slow'", "gb_kill") == "1"
    status = attnkit(["queue", "status", QUIZ], course, env)
    assert status.returncode == 0, status.stdout
    full = sum(p for _, p in points)
    assert "a_slow" in status.stdout and f"{full:g}/{full:g}  graded" in status.stdout


def test_database_restart_a_failing_job_and_resubmission(postgres, course, tmp_path) -> None:
    course, honest, points = course
    _fresh(course)
    url = postgres.createdb("gb_restart")
    env = queue_env(postgres, "gb_restart")
    names = ["honest", "blank", "exits_kernel", "honest_noisy", "malformed"]  # a hang: tests/test_queue_grading.py
    for name in names:
        build(BY_NAME[name], honest, course / "submitted" / name / QUIZ, canary=tmp_path / "CANARY", course=course,
              port=9)
    _place(course, "newer", honest, "2026-12-01 09:00:00")
    _place(course, "vanishes", honest)
    attnkit(["queue", "init"], course, env)
    attnkit(["queue", "submit", QUIZ], course, env)
    again = attnkit(["queue", "submit", QUIZ], course, env)
    assert "0 enqueued" in again.stdout and "0 replaced" in again.stdout
    blank = nbformat.from_dict(honest)
    for cell in blank.cells:  # the newer submission: blank, so the grade tells which one was graded
        if cell.metadata.get("nbgrader", {}).get("solution"):
            cell.source = "# nothing"
    _place(course, "newer", blank, "2026-12-01 11:00:00")
    replaced = attnkit(["queue", "submit", QUIZ], course, env)
    assert "1 replaced" in replaced.stdout, replaced.stdout
    newer = [(status, s) for _, status, s, _ in jobs(url, QUIZ) if s == "newer"]
    assert newer == [("cancelled", "newer"), ("todo", "newer")]
    shutil.rmtree(course / "submitted" / "vanishes")  # every attempt fails: no submission folder
    worker = start_worker(course, env, "--concurrency", "2", "--timeout", str(CELL_TIMEOUT),
                          log=tmp_path / "worker.log")
    waiting = qh.start_status_wait(course, env)  # polls through the restart
    try:
        deadline = time.monotonic() + 300
        while sum(status == "succeeded" for _, status, _, _ in jobs(url, QUIZ)) < 2:
            assert time.monotonic() < deadline and worker.poll() is None, jobs(url, QUIZ)
            time.sleep(0.5)
        postgres.restart(down_s=3)  # mid-run: jobs are still waiting and running
        done = wait_done(url, QUIZ, timeout=500, worker=worker)
        out, err = waiting.communicate(timeout=120)
    finally:
        stop_worker(worker)
        if waiting.poll() is None:
            waiting.kill()
    log = (tmp_path / "worker.log").read_text(errors="replace")
    assert waiting.returncode == 1 and "failed" in out and f"{QUIZ} graded" in err, (out, err)  # one job failed
    by_student = {s: (status, attempts) for _, status, s, attempts in done if status != "cancelled"}
    assert by_student["vanishes"] == ("failed", 3), (by_student, log[-3000:])  # three attempts
    assert all(status == "succeeded" for s, (status, _) in by_student.items() if s != "vanishes"), \
        (by_student, log[-3000:])
    status = attnkit(["queue", "status", QUIZ], course, env)
    assert status.returncode == 1, "a failed job: not every job ended well"
    rows = {line.split()[0]: line for line in status.stdout.splitlines()[1:] if line.startswith("  ")}
    assert "failed" in rows["vanishes"] and "no submission folder" in rows["vanishes"]
    csv_text = (course / "grading_status.csv").read_text()
    assert "vanishes,q4_qkv_math,,,failed," in csv_text and "no submission folder" in csv_text
    for name in names:
        assert f"{BY_NAME[name].score(points):g}/" in rows[name] and BY_NAME[name].status in rows[name], rows[name]
    assert "0/" in rows["newer"], "the newer (blank) submission was graded, not the older one"
    # each submission graded once across the restart: one gradebook submission, one status row (once in
    # the status output), one feedback page, one grading run that went to the end
    graded = [*names, "newer"]
    assert sorted(rows) == sorted([*graded, "vanishes"])
    assert postgres.psql("SELECT string_agg(DISTINCT n::text, ',') FROM (SELECT count(*) AS n FROM "
                         "submitted_assignment GROUP BY student_id) c", "gb_restart") == "1"
    assert postgres.psql("SELECT string_agg(student || '=' || gradings, ',' ORDER BY student) FROM attnkit_grading",
                         "gb_restart") == ",".join(f"{s}={0 if s == 'vanishes' else 1}" for s in sorted(rows))
    for name in graded:
        if name != "malformed":
            assert len(list((course / "feedback" / name / QUIZ).glob("*.html"))) == 1, name
