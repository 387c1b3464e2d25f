"""Grading through the queue next to ``attnkit grade-class``, in one run; and a class of 2,000.

Two course directories get the same N submissions (default 200) of quiz 4, built from the
adversarial corpus's harmless entries as in bench_grading.py. A PostgreSQL server of its own
(attnkit/classroom/postgres.py: Debian's, on a socket) holds the queue course's gradebook and queue. Then:

* ``attnkit grade-class <quiz> --workers 3`` on SQLite (autograde, feedback, export, statuses);
* the queue: ``attnkit queue init`` and ``submit`` (timed apart), then ``attnkit queue worker
  --concurrency 2 --burst`` (2 worker processes, ending when the queue is empty) and ``nbgrader
  export`` of the PostgreSQL gradebook; start-up to the first grade for both;
* the queue's overhead: its grading wall time (start-up, grading, feedback, export) over
  grade-class's, minus one; identical grades both ways are checked;
* a 2,000-student roster: ``nbgrader db student import`` into the PostgreSQL gradebook and the
  Canvas CSV export (``nbgrader export --exporter=...CanvasCsvExportPlugin``) of all of them,
  measured; grading 2,000 projected from the measured worker seconds per submission.

Run: ``.venv/bin/python benchmarks/bench_queue.py [--students 200]`` (about 10 minutes on 2 idle cores).
"""
from __future__ import annotations

import argparse
import csv
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))
sys.path.insert(0, str(REPO / "benchmarks"))

from adversarial.corpus import QUIZ  # noqa: E402
from bench_grading import _load, place_class  # noqa: E402

from attnkit.classroom.postgres import PostgresServer  # noqa: E402
from attnkit.grading.course import classgrade  # noqa: E402
from attnkit.grading.course.nbgrader_cli import make_course, nbgrader  # noqa: E402


def _scores(url: str) -> dict[str, float]:
    from nbgrader.api import Gradebook

    with Gradebook(url) as gb:
        return {s.student.id: float(s.score) for s in gb.assignment_submissions(QUIZ)}


def _attnkit(args: list[str], course: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "attnkit.cli", *args, "--course", str(course)], env=env,
                          capture_output=True, text=True)


def _first_succeeded(url: str, since: float) -> float | None:
    """Seconds from ``since`` (epoch) to the first job that succeeded."""
    import psycopg

    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True) as conn:
        first = conn.execute("SELECT extract(epoch FROM min(at)) FROM procrastinate_events "
                             "WHERE type = 'succeeded'").fetchone()[0]
    return None if first is None else float(first) - since


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--students", type=int, default=200)
    parser.add_argument("--roster", type=int, default=2000, help="0: skip the roster import and export")
    parser.add_argument("--queue-workers", type=int, default=2, help="worker processes of the queue (default 2)")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="attnkit-bench-queue-"))
    print(f"before: {_load()}", flush=True)
    server = PostgresServer.start()
    try:
        url = server.createdb("bench")
        env = {**os.environ, "ATTNKIT_DATABASE_URL": server.url("bench", driver="postgresql")}
        courses = {}
        for name in ("class", "queue"):
            course = make_course(work / name, [QUIZ])
            place_class(course, args.students, work / "CANARY")
            courses[name] = course
        n = args.students

        firsts: list[float] = []
        start = time.perf_counter()
        classgrade.grade_class(QUIZ, courses["class"], workers=3,
                               progress=lambda done, total: firsts.append(time.perf_counter()) if done == 1 else None)
        t_class = time.perf_counter() - start
        class_first = firsts[0] - start
        between = _load()  # the machine is shared: the load each side ran under

        start = time.perf_counter()
        _attnkit(["queue", "init"], courses["queue"], env)
        t_init = time.perf_counter() - start
        start = time.perf_counter()
        submitted = _attnkit(["queue", "submit", QUIZ], courses["queue"], env)
        t_submit = time.perf_counter() - start
        epoch, start = time.time(), time.perf_counter()
        worker = _attnkit(["queue", "worker", "--concurrency", str(args.queue_workers), "--burst"], courses["queue"],
                          env)
        t_grade = time.perf_counter() - start
        queue_first = _first_succeeded(url, epoch)
        start = time.perf_counter()
        nbgrader(["export", "--to=grades.csv"], courses["queue"])
        t_export = time.perf_counter() - start
        t_queue = t_grade + t_export
        after_queue = _load()
        status = _attnkit(["queue", "status", QUIZ], courses["queue"], env)
        import psycopg

        with psycopg.connect(server.url("bench", driver="postgresql"), autocommit=True) as conn:
            worker_s = conn.execute("SELECT sum(seconds), count(*) FROM attnkit_grading WHERE quiz = %s",
                                    (QUIZ,)).fetchone()
        same = _scores(url) == _scores(f"sqlite:///{courses['class'] / 'gradebook.db'}")

        if not args.roster:
            print(f"quiz {QUIZ}: {n} submissions: grade-class {t_class:.1f} s (first grade {class_first:.1f} s); "
                  f"queue with {args.queue_workers} workers {t_grade:.1f} s + export {t_export:.1f} s (first grade "
                  f"{queue_first:.1f} s); overhead {t_queue / t_class - 1:+.1%}; identical grades: {same}")
            print(f"  after grade-class: {between}\n  after the queue: {after_queue}")
            return
        roster = work / "roster.csv"
        with open(roster, "w", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(["id", "first_name", "last_name", "email"])
            writer.writerows([f"r{i:05d}", f"First{i}", f"Last{i}", f"r{i:05d}@uni.example"]
                             for i in range(args.roster))
        start = time.perf_counter()
        nbgrader(["db", "student", "import", str(roster)], courses["queue"])
        t_import = time.perf_counter() - start
        start = time.perf_counter()
        nbgrader(["export", "--exporter=attnkit.grading.queue.lms.CanvasCsvExportPlugin", "--to=canvas.csv"],
                 courses["queue"])
        t_canvas = time.perf_counter() - start
        with open(courses["queue"] / "canvas.csv", newline="") as fh:
            canvas_rows = sum(1 for _ in fh) - 2

        per = t_grade / n
        print(f"quiz {QUIZ}: {n} submissions; course directories in {work}")
        print(f"  grade-class --workers 3 (SQLite; grading, feedback, export)   {t_class:7.1f} s  "
              f"{t_class / n:5.3f} s/sub  first grade after {class_first:5.1f} s")
        print(f"  queue: init {t_init:.1f} s, submit of {n} jobs {t_submit:.1f} s ({submitted.stdout.strip()})")
        print(f"  queue: {args.queue_workers} workers (--burst: start-up, grading, feedback)       {t_grade:7.1f} s  "
              f"{per:5.3f} s/sub"
              f"  first grade after {queue_first:5.1f} s")
        print(f"  queue: nbgrader export of the PostgreSQL gradebook           {t_export:7.1f} s")
        print(f"  queue overhead on throughput (queue / grade-class - 1)        {t_queue / t_class - 1:+7.1%}")
        print(f"  worker seconds per submission (measured inside the jobs)      {worker_s[0] / worker_s[1]:7.3f} s"
              f"  ({worker_s[1]} jobs)")
        print(f"  identical grades, grade-class and the queue: {same}; queue status exit {status.returncode}")
        print(f"  after grade-class: {between}; after the queue: {after_queue}")
        print(f"  roster of {args.roster}: nbgrader db student import {t_import:.1f} s; "
              f"Canvas CSV export of {canvas_rows} students {t_canvas:.1f} s")
        print(f"  projected: {args.roster} submissions at the measured {per:.3f} s of wall time per submission "
              f"with {args.queue_workers} workers on 2 cores: {args.roster * per / 60:.1f} min; per core "
              f"{2 * per:.3f} s, so {args.roster * 2 * per / 16 / 60:.1f} min on 16 worker cores, "
              f"{args.roster * 2 * per / 64 / 60:.1f} min on 64 (linear in cores: an assumption)")
        print(f"  worker log tail: {worker.stderr.strip().splitlines()[-1:] if worker.stderr.strip() else ''}")
    finally:
        server.stop()
    print(f"after: {_load()}")


if __name__ == "__main__":
    main()
