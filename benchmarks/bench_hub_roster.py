"""A class roster at scale: 2,000 learners created and grouped through the hub's API, enrolled in the
exchange and imported into nbgrader's PostgreSQL gradebook. Timed, one run, not asserted.

It starts the class of ``make class-demo`` (attnkit.classroom.hub: PostgreSQL, JupyterHub, proxy, ngshare,
formgraders; one course, no quiz released) and then times, with N learners (default 2,000):

* ``POST /hub/api/users`` with all N names in one request (what an LMS roster sync does);
* ``POST /hub/api/groups/nbgrader-attn101/users`` with all N (the course group the Assignments tab reads);
* ``GET /hub/api/users/<name>``, one user among N (median of 20);
* ``nbgrader db student import`` of a CSV of N learners into the course's PostgreSQL gradebook
  (nbgrader's own CLI, in the course folder);
* ngshare's ``POST /students/attn101`` with all N (the exchange's course roster; ngshare's database is
  on the same PostgreSQL server; deploy/hub/ngshare_service.py makes this request linear in N).

No learner server is started (each would be a JupyterLab process). It prints the machine's load:
other processes share these cores.

Run: ``.venv/bin/python benchmarks/bench_hub_roster.py [--students 2000]``
"""
from __future__ import annotations

import argparse
import csv
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from attnkit.classroom.demo import postgres_server
from attnkit.classroom.hub import ClassHub


def timed(what: str, fn, rows: list[tuple[str, float]]):
    start = time.perf_counter()
    result = fn()
    rows.append((what, time.perf_counter() - start))
    print(f"  {what:<58} {rows[-1][1]:8.2f} s", flush=True)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=2000)
    args = parser.parse_args(argv)
    names = [f"learner{i:05d}" for i in range(args.students)]
    work = Path(tempfile.mkdtemp(prefix="attnkit-roster-"))
    postgres = postgres_server()
    hub = ClassHub(work, postgres, courses={"attn101": []}, log_level="WARN", workers=False)
    rows: list[tuple[str, float]] = []
    try:
        timed("start: PostgreSQL gradebook, hub, proxy, ngshare, formgrader", hub.start, rows)

        def create():
            r = hub.api("post", "/users", json={"usernames": names}, timeout=1800)
            r.raise_for_status()
            return r

        timed(f"hub API: create {args.students} users (one request)", create, rows)
        timed(f"hub API: add {args.students} to nbgrader-attn101", lambda: hub.api(
            "post", "/groups/nbgrader-attn101/users", json={"users": names}, timeout=1800).raise_for_status(), rows)
        lookups = []
        for name in names[:: max(1, args.students // 20)][:20]:
            start = time.perf_counter()
            hub.api("get", f"/users/{name}").raise_for_status()
            lookups.append(time.perf_counter() - start)
        rows.append(("hub API: look up one user (median of 20)", statistics.median(lookups)))
        print(f"  {rows[-1][0]:<58} {rows[-1][1]:8.3f} s")
        group = hub.api("get", "/groups/nbgrader-attn101").json()
        assert len(group["users"]) == args.students, len(group["users"])
        roster = work / "roster.csv"
        with roster.open("w", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(["id", "first_name", "last_name", "email"])
            writer.writerows([n, n, "-", f"{n}@lms.example.org"] for n in names)
        course = hub.courses["attn101"]
        print(f"  load average before the import: {os.getloadavg()[0]:.1f}", flush=True)
        timed(f"nbgrader db student import: {args.students} into PostgreSQL", lambda: subprocess.run(
            [str(Path(sys.executable).parent / "nbgrader"), "db", "student", "import", str(roster)],
            cwd=course.dir, env=hub.instructor_env("attn101"), check=True, capture_output=True), rows)
        count = postgres.psql("select count(*) from student", "gradebook_attn101")
        assert int(count) >= args.students, count
        print(f"  load average before ngshare: {os.getloadavg()[0]:.1f}", flush=True)
        timed(f"ngshare: enroll {args.students} in attn101 (one request)",
              lambda: hub.enroll("attn101", names, timeout=1800), rows)
        enrolled = postgres.psql("select count(*) from student_assoc_table", "ngshare")
        assert int(enrolled) >= args.students, enrolled  # and the LMS roster of the demo course
    finally:
        hub.stop()
        postgres.stop()
    print(f"\n{args.students} learners; load average {' / '.join(f'{x:.1f}' for x in os.getloadavg())} (1/5/15 min) "
          f"on {os.cpu_count()} cores "
          f"({time.strftime('%Y-%m-%d')})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
