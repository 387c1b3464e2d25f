"""Issue 19: the adversarial corpus graded through the queue by 2 workers, against plain nbgrader.

Every entry of tests/adversarial/corpus.py goes into ``submitted/`` of two courses: one is graded by
``attnkit queue submit`` and two ``attnkit queue worker`` processes on a PostgreSQL gradebook (the
``postgres`` fixture), the other by plain serial ``nbgrader autograde`` on SQLite, at the same time.
Each submission must get the same score and status both ways (and the ones the corpus expects),
and the queue's own attacks (tests/adversarial/payloads.py: links, a named pipe, a 10 GiB file,
unusable student ids, jobs naming paths) what the payload says. Slow: 2-4 minutes on 2 cores.
"""
from __future__ import annotations

import csv
import sys
import threading
from pathlib import Path

import nbformat
import pytest

sys.path.insert(0, str(Path(__file__).parent))
from adversarial.corpus import CELL_TIMEOUT, ENTRIES, QUIZ, build, honest_notebook, quiz_points  # noqa: E402
from adversarial.payloads import PAYLOADS, build_payloads  # noqa: E402
from queueharness import attnkit, jobs, queue_env, start_worker, stop_worker, wait_done  # noqa: E402

from attnkit.grading.grader import sandbox  # noqa: E402

pytestmark = [pytest.mark.postgres, pytest.mark.slow,
              pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the sandbox is Linux-only")]
REPO = Path(__file__).resolve().parents[1]
BY_NAME = {e.name: e for e in ENTRIES}
PAYLOAD = {p.name: p for p in PAYLOADS}


def _csv(path: Path) -> dict[str, dict[str, str]]:
    with open(path, newline="") as fh:
        return {r["student_id"]: r for r in csv.DictReader(fh)}


@pytest.fixture(scope="module")
def graded(postgres, tmp_path_factory):
    from attnkit.grading.course.nbgrader_cli import make_course, nbgrader
    from attnkit.grading.queue.app import TASK, make_app

    sandbox.check_available()
    base = tmp_path_factory.mktemp("queue_corpus")
    url = postgres.createdb("gb_corpus")
    env = queue_env(postgres, "gb_corpus")
    canary = base / "CANARY"
    courses = {how: make_course(base / how, [QUIZ]) for how in ("queue", "plain")}
    release = nbformat.read(courses["queue"] / "quizzes" / QUIZ / f"{QUIZ}.ipynb", as_version=4)
    honest = honest_notebook(release, nbformat.read(REPO / "solutions" / QUIZ / f"{QUIZ}.ipynb", as_version=4))
    for course in courses.values():
        for entry in ENTRIES:
            build(entry, honest, course / "submitted" / entry.name / QUIZ, canary=canary, course=course, port=9)
    build_payloads(courses["queue"] / "submitted", honest, courses["queue"])
    results: list = []
    plain = threading.Thread(target=lambda: results.append(nbgrader(
        ["autograde", QUIZ, "--force", f"--JudgeInSandbox.timeout={CELL_TIMEOUT}"], courses["plain"], check=False)))
    plain.start()
    init = attnkit(["queue", "init"], courses["queue"], env)
    submitted = [attnkit(["queue", "submit", QUIZ], courses["queue"], env) for _ in range(2)]
    app = make_app(url)
    with app.open():  # jobs a compromised submit could defer: they name paths
        for payload in PAYLOADS:
            if payload.direct_job:
                app.configure_task(TASK).defer(quiz=QUIZ, student=payload.name, submitted_at="now")
    workers = [start_worker(courses["queue"], env, "--concurrency", "1", "--timeout", str(CELL_TIMEOUT),
                            log=base / f"worker{i}.log") for i in range(2)]
    try:
        done = wait_done(url, QUIZ, timeout=900)
    finally:
        for worker in workers:
            stop_worker(worker)
    status = attnkit(["queue", "status", QUIZ], courses["queue"], env, check=False)
    plain.join()
    yield {"url": url, "courses": courses, "points": quiz_points(release), "jobs": done, "init": init,
           "submitted": submitted, "status": status, "canary": canary, "postgres": postgres,
           "queue_rows": _csv(courses["queue"] / "grading_status.csv"),
           "plain_rows": _csv(courses["plain"] / "grading_status.csv"), "nbgrader_log": results[0].stderr,
           "logs": "\n".join((base / f"worker{i}.log").read_text(errors="replace")[-3000:] for i in range(2))}


@pytest.mark.parametrize("name", [e.name for e in ENTRIES])
def test_the_queue_grades_as_plain_nbgrader(graded, name: str) -> None:
    entry = BY_NAME[name]
    queue, plain = graded["queue_rows"][name], graded["plain_rows"][name]
    expected = entry.score(graded["points"])
    assert (queue["status"], float(queue["score"])) == (plain["status"], float(plain["score"])) == \
        (entry.status, expected), (queue, plain)
    for flag in entry.flags:
        assert flag in queue["flags"], (flag, queue["flags"])
    score = graded["postgres"].psql(
        "SELECT sum(coalesce(g.manual_score, g.auto_score, 0)) FROM grade g JOIN submitted_notebook n "
        "ON g.notebook_id = n.id JOIN submitted_assignment a ON n.assignment_id = a.id "
        f"WHERE a.student_id = '{name}'", "gb_corpus")
    assert float(score) == expected, "the PostgreSQL gradebook holds the grade nbgrader wrote"


@pytest.mark.parametrize("name", [p.name for p in PAYLOADS])
def test_the_queue_s_own_attacks(graded, name: str) -> None:
    payload = PAYLOAD[name]
    rows = graded["queue_rows"]
    if payload.refused_at_submit:
        assert name not in rows and name not in {s for _, _, s, _ in graded["jobs"]}
        assert name[:80] in graded["submitted"][0].stdout or "refused" in graded["submitted"][0].stdout
        return
    row = rows[name]
    assert row["status"] == payload.status, row
    if payload.score is not None:
        assert float(row["score"] or 0) == payload.score, row
    assert payload.reason in row["notes"], row
    assert not (Path("/tmp/escape") / QUIZ).exists()


def test_each_submission_is_one_job_graded_once(graded) -> None:
    students = [s for _, _, s, _ in graded["jobs"]]
    assert len(students) == len(set(students)), "the second submit enqueued nothing"
    assert "0 enqueued" in graded["submitted"][1].stdout
    assert all(status == "succeeded" and attempts == 1 for _, status, _, attempts in graded["jobs"]), graded["jobs"]
    counts = graded["postgres"].psql("SELECT student_id, count(*) FROM submitted_assignment GROUP BY student_id "
                                     "HAVING count(*) > 1", "gb_corpus")
    assert counts == ""


def test_status_command_and_csv(graded) -> None:
    status = graded["status"]
    assert status.returncode == 1, "two jobs failed (the refused payloads): not every job ended well"
    assert "graded" in status.stdout and "failed" in status.stdout
    expected = {e.name for e in ENTRIES} | {p.name for p in PAYLOADS if not p.refused_at_submit}
    assert set(graded["queue_rows"]) == expected
    assert "created: procrastinate schema" in graded["init"].stdout


def test_feedback_and_autograded_notebooks_reach_storage(graded) -> None:
    course = graded["courses"]["queue"]
    for name in ("honest", "blank", "hang_in_function"):
        assert (course / "feedback" / name / QUIZ / f"{QUIZ}.html").is_file()
        assert (course / "autograded" / name / QUIZ / f"{QUIZ}.ipynb").is_file()
    html = (course / "feedback" / "honest" / QUIZ / f"{QUIZ}.html").read_text()
    assert "BEGIN HIDDEN TESTS" not in html


def test_no_side_effects(graded) -> None:
    assert not graded["canary"].exists()
    for course in graded["courses"].values():
        assert not (course / "PWNED.txt").exists()
    assert jobs(graded["url"], QUIZ)  # the database survived every submission
