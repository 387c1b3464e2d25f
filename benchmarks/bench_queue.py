"""Grading through the queue next to ``attnkit grade-class``, in one run; and a class of 2,000.

Course directories get the same N submissions (default 200) of quiz 4, built from the adversarial
corpus's harmless entries as in bench_grading.py (one in 16 is a correct notebook that sleeps 0.3 s
per call: its grading keeps a worker waiting about 4 s with its core idle). A PostgreSQL server of
its own (attnkit/classroom/postgres.py: Debian's, on a socket) holds each queue run's gradebook and
queue. Every contender is the command an instructor runs, a process of its own, one after the other:

* ``attnkit grade-class <quiz> --workers W`` on SQLite (autograde, feedback, export, statuses), for
  each W of ``--class-workers`` (default 3, then 2);
* the queue with P grading processes, for each P of ``--queue-workers`` (default 3, then 2; 3 is
  ``attnkit queue worker``'s default on 2 cores, as for grade-class): ``attnkit queue init`` and
  ``submit`` (timed apart), then ``attnkit queue worker --concurrency P --burst`` (ending when the
  queue is empty) and ``nbgrader export`` of the PostgreSQL gradebook;
* for each: wall time, start-up to the first grade (the first feedback page written), the steady
  pace (seconds per submission from the first feedback page to the last: throughput without the
  start and the end), machine CPU per submission (and the PostgreSQL server's share), and for the
  queue where its workers' time went (start-up, grading, procrastinate around and between jobs, the
  end);
* the queue's overhead: its grading wall time (start-up, grading, feedback, export) over
  grade-class's with as many grading processes, minus one (and the same for the steady pace); the
  issue's comparison, 2 queue processes against ``grade-class --workers 3``, next to the same
  pairing within grade-class alone (``--workers 2`` against 3: what one process fewer costs
  without any queue). Identical grades everywhere are checked;
* a 2,000-student roster: ``nbgrader db student import`` into a PostgreSQL gradebook and the Canvas
  CSV export (``nbgrader export --exporter=...CanvasCsvExportPlugin``) of all of them, measured;
  grading 2,000 projected from the measured time per submission.

Run: ``.venv/bin/python benchmarks/bench_queue.py [--students 200] [--rounds 2]`` (about 7 minutes a
round on 2 idle cores; the machine must be otherwise idle: a shared machine swings these numbers by
tens of percent, and even an idle virtual machine drifts by 10 %: ``--rounds 2`` runs A B B A).
"""
from __future__ import annotations

import argparse
import contextlib
import csv
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))
sys.path.insert(0, str(REPO / "benchmarks"))

from adversarial.corpus import QUIZ  # noqa: E402
from bench_grading import _load, place_class  # noqa: E402

from attnkit.classroom.postgres import PostgresServer  # noqa: E402
from attnkit.grading.course.nbgrader_cli import make_course, nbgrader  # noqa: E402


@dataclass
class Run:
    name: str
    processes: int
    wall: float  # grading, feedback and export, as the instructor waits for them
    first: float  # start to the first feedback page
    pace: float  # seconds per submission from the first feedback page to the last (throughput)
    cpu: float  # machine core-seconds while grading (export excluded)
    pg: float  # of them, the PostgreSQL server's
    grading: float  # wall time of the grading command alone
    scores: dict[str, float]
    notes: str = ""


def _scores(url: str) -> dict[str, float]:
    from nbgrader.api import Gradebook

    with Gradebook(url) as gb:
        return {s.student.id: float(s.score) for s in gb.assignment_submissions(QUIZ)}


def _attnkit(args: list[str], course: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "attnkit.cli", *args, "--course", str(course)], env=env,
                          capture_output=True, text=True)


@contextlib.contextmanager
def _environ(env: dict[str, str]) -> Iterator[None]:
    """``env`` as this process's environment for a while (nbgrader() passes its own on)."""
    saved = dict(os.environ)
    os.environ.update(env)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def _machine_cpu() -> float:
    """Core-seconds this machine has spent busy since boot (every process: /proc/stat)."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle, iowait
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def _server_cpu(server: PostgresServer) -> float:
    """Core-seconds the PostgreSQL server has used: its processes, and the ended ones it reaped."""
    total = 0.0
    for pid in server.pids():
        try:
            stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += sum(int(v) for v in stat[11:15])  # utime, stime, cutime, cstime
    return total / os.sysconf("SC_CLK_TCK")


def _feedback_times(course: Path, since: float) -> tuple[float, float]:
    """Seconds from ``since`` (epoch) to the first feedback page written in ``course``, and the
    steady pace: seconds per submission from the first page to the last."""
    times = sorted(p.stat().st_mtime for p in (course / "feedback").glob(f"*/{QUIZ}/*.html"))
    if len(times) < 2:
        return float("nan"), float("nan")
    return times[0] - since, (times[-1] - times[0]) / (len(times) - 1)


def _timeline(url: str, since: float, until: float) -> str:
    """Where the queue workers' wall time went: start-up to each worker's first job, inside the
    job (its own seconds), procrastinate around it (start to success event), between one job's end
    and the next one's start, and from each worker's last job to the end of the command."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT g.worker, extract(epoch FROM s.at), extract(epoch FROM f.at), g.seconds FROM attnkit_grading g "
            "JOIN procrastinate_events s ON s.job_id = g.job_id AND s.type = 'started' "
            "JOIN procrastinate_events f ON f.job_id = g.job_id AND f.type = 'succeeded' "
            "WHERE g.quiz = %s ORDER BY 2", (QUIZ,)).fetchall()
    by_worker: dict[str, list[tuple[float, float, float]]] = {}
    for worker, started, finished, seconds in rows:
        by_worker.setdefault(worker, []).append((float(started), float(finished), float(seconds)))
    start_up = between = around = inside = end = 0.0
    for jobs in by_worker.values():
        start_up += jobs[0][0] - since
        end += until - jobs[-1][1]
        between += sum(b[0] - a[1] for a, b in zip(jobs, jobs[1:]))
        around += sum(f - s - sec for s, f, sec in jobs)
        inside += sum(sec for _, _, sec in jobs)
    n, k = max(1, len(rows)), max(1, len(by_worker))
    return (f"    workers' time ({len(by_worker)} processes): start-up to the first job {start_up / k:.1f} s each, "
            f"grading {inside / n:.3f} s per job, procrastinate around a job {around / n:.3f} s, between jobs "
            f"{between / n:.3f} s, after a worker's last job to the end {end / k:.1f} s each")


def grade_class(course: Path, workers: int, server: PostgresServer) -> Run:
    cpu, pg = _machine_cpu(), _server_cpu(server)
    epoch, start = time.time(), time.perf_counter()
    _attnkit(["grade-class", QUIZ, "--workers", str(workers)], course,
             {k: v for k, v in os.environ.items() if k != "ATTNKIT_DATABASE_URL"})
    wall = time.perf_counter() - start
    return Run(f"grade-class --workers {workers}", workers, wall, *_feedback_times(course, epoch),
               _machine_cpu() - cpu, _server_cpu(server) - pg, wall, _scores(f"sqlite:///{course / 'gradebook.db'}"))


def queue(course: Path, processes: int, server: PostgresServer, database: str) -> Run:
    server.createdb(database)
    url = server.url(database, driver="postgresql")
    env = {**os.environ, "ATTNKIT_DATABASE_URL": url}
    start = time.perf_counter()
    _attnkit(["queue", "init"], course, env)
    t_init = time.perf_counter() - start
    start = time.perf_counter()
    submitted = _attnkit(["queue", "submit", QUIZ], course, env)
    t_submit = time.perf_counter() - start
    cpu, pg = _machine_cpu(), _server_cpu(server)
    epoch, start = time.time(), time.perf_counter()
    worker = _attnkit(["queue", "worker", "--concurrency", str(processes), "--burst"], course, env)
    t_grade = time.perf_counter() - start
    cpu, pg = _machine_cpu() - cpu, _server_cpu(server) - pg
    timeline = _timeline(url, epoch, time.time())
    start = time.perf_counter()
    with _environ(env):
        nbgrader(["export", "--to=grades.csv"], course)
    t_export = time.perf_counter() - start
    status = _attnkit(["queue", "status", QUIZ], course, env)
    notes = (f"    init {t_init:.1f} s and submit {t_submit:.1f} s before it ({submitted.stdout.strip()}); "
             f"nbgrader export {t_export:.1f} s after it (included); queue status exit {status.returncode}\n"
             f"{timeline}")
    if worker.returncode:
        notes += f"\n    WORKER FAILED ({worker.returncode}): {worker.stderr.strip()[-500:]}"
    return Run(f"queue, {processes} processes", processes, t_grade + t_export, *_feedback_times(course, epoch),
               cpu, pg, t_grade, _scores(url), notes)


def roster_import_export(course: Path, server: PostgresServer, size: int, work: Path) -> str:
    server.createdb("bench_roster")
    url = server.url("bench_roster", driver="postgresql")
    env = {**os.environ, "ATTNKIT_DATABASE_URL": url}
    _attnkit(["queue", "init"], course, env)
    roster = work / "roster.csv"
    with open(roster, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["id", "first_name", "last_name", "email"])
        writer.writerows([f"r{i:05d}", f"First{i}", f"Last{i}", f"r{i:05d}@uni.example"] for i in range(size))
    with _environ(env):
        start = time.perf_counter()
        nbgrader(["db", "student", "import", str(roster)], course)
        t_import = time.perf_counter() - start
        start = time.perf_counter()
        nbgrader(["export", "--exporter=attnkit.grading.queue.lms.CanvasCsvExportPlugin", "--to=canvas.csv"], course)
        t_canvas = time.perf_counter() - start
    with open(course / "canvas.csv", newline="") as fh:
        rows = sum(1 for _ in fh) - 2
    return (f"  roster of {size}: nbgrader db student import {t_import:.1f} s; Canvas CSV export of {rows} students "
            f"{t_canvas:.1f} s")


def _line(run: Run, n: int, server_share: bool) -> str:
    cores = os.cpu_count() or 1
    pg = f" ({run.pg / n:.3f} the PostgreSQL server)" if server_share else ""
    return (f"  {run.name:28} {run.wall:7.1f} s  {run.wall / n:5.3f} s/sub  first grade {run.first:5.1f} s, "
            f"then {run.pace:.3f} s/sub  CPU {run.cpu / n:.3f} core-s/sub{pg}, "
            f"cores busy {run.cpu / run.grading / cores:.0%}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--students", type=int, default=200)
    parser.add_argument("--roster", type=int, default=2000, help="0: skip the roster import and export")
    parser.add_argument("--queue-workers", type=int, nargs="+", default=[3, 2],
                        help="grading processes of the queue, one run each (default 3 2)")
    parser.add_argument("--class-workers", type=int, nargs="+", default=[3, 2],
                        help="grade-class --workers, one run each (default 3 2)")
    parser.add_argument("--rounds", type=int, default=1, help="run every contender this many times, the order "
                                                              "reversed every other round (default 1)")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="attnkit-bench-queue-"))
    n = args.students
    print(f"quiz {QUIZ}: {n} submissions, each contender on its own copy in {work}\nbefore: {_load()}", flush=True)
    server = PostgresServer.start()
    try:
        runs: list[Run] = []
        once = [("class", w) for w in args.class_workers[:1]] + [("queue", p) for p in args.queue_workers] + \
            [("class", w) for w in args.class_workers[1:]]
        # rounds alternate the order (A B B A): a drift of the machine's speed weighs on both sides alike
        plan = [step for r in range(args.rounds) for step in (once if r % 2 == 0 else once[::-1])]
        for i, (kind, count) in enumerate(plan):
            course = make_course(work / f"{i}_{kind}{count}", [QUIZ])
            place_class(course, n, work / "CANARY")
            runs.append(grade_class(course, count, server) if kind == "class" else
                        queue(course, count, server, f"bench_{i}"))
            print(_line(runs[-1], n, kind == "queue") + (f"\n{runs[-1].notes}" if runs[-1].notes else ""), flush=True)
        print(f"  load after: {_load()}")
        same = all(r.scores == runs[0].scores and len(r.scores) == n for r in runs)
        print(f"  identical grades in every run: {same}")
        walls: dict[str, list[float]] = {}
        paces: dict[str, list[float]] = {}
        for r in runs:
            walls.setdefault(r.name, []).append(r.wall)
            paces.setdefault(r.name, []).append(r.pace)
        mean = {name: sum(w) / len(w) for name, w in walls.items()}
        pace = {name: sum(w) / len(w) for name, w in paces.items()}
        if args.rounds > 1:
            for name, w in walls.items():
                print(f"  {name:28} mean {mean[name]:6.1f} s over {len(w)} runs ({', '.join(f'{x:.1f}' for x in w)}); "
                      f"steady pace {pace[name]:.3f} s/sub")

        def compare(a: str, b: str) -> str:  # wall time, then the steady pace (throughput alone)
            return f"{mean[a] / mean[b] - 1:+.1%} (steady pace {pace[a] / pace[b] - 1:+.1%})"

        for p in args.queue_workers:
            queued, alike, three = f"queue, {p} processes", f"grade-class --workers {p}", "grade-class --workers 3"
            if alike in mean:
                print(f"  queue overhead, {p} processes each: {compare(queued, alike)}")
            if three in mean and p != 3:
                print(f"  queue with {p} processes vs grade-class --workers 3: {compare(queued, three)}")
                if alike in mean:  # the same pairing without a queue: what one process fewer costs
                    print(f"    the same pairing in grade-class alone, --workers {p} vs 3: {compare(alike, three)}")
        best = min((r for r in runs if r.name.startswith("queue")), key=lambda r: r.wall, default=None)
        if args.roster:
            print(roster_import_export(make_course(work / "roster", [QUIZ]), server, args.roster, work))
        if best is not None:
            per = best.wall / n
            print(f"  projected: {args.roster or 2000} submissions at the measured {per:.3f} s per submission "
                  f"({best.name}, 2 cores): {(args.roster or 2000) * per / 60:.1f} min; {best.cpu / n:.3f} core-s "
                  f"each, so {(args.roster or 2000) * best.cpu / n / 16 / 60:.1f} min on 16 busy worker cores "
                  f"(linear in cores: an assumption)")
    finally:
        server.stop()
    print(f"after: {_load()}")


if __name__ == "__main__":
    main()
