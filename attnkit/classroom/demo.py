"""``make class-demo``: a class on this machine, until Ctrl-C.

Starts PostgreSQL (a Unix socket in the demo folder, no TCP), the fake LMS, JupyterHub with its proxy,
ngshare, and per course a formgrader service and a grading worker (``attnkit queue worker`` on the
course's PostgreSQL gradebook and queue) (attnkit.classroom.hub), all on 127.0.0.1; releases a quiz in
each course; prints where to click to log in as a learner or an instructor and the instructor's grading
commands; on Ctrl-C (or SIGTERM) stops the workers, the hub and everything under it, then PostgreSQL,
and removes the demo folder.
"""
from __future__ import annotations

import argparse
import shutil
import signal
import tempfile
import time
from pathlib import Path

from attnkit.classroom.hub import ClassHub
from attnkit.classroom.lms import COURSES, USERS

__all__ = ["main", "postgres_server"]


def postgres_server():
    """The throw-away PostgreSQL of :mod:`attnkit.classroom.postgres` (Debian's server, socket only)."""
    from attnkit.classroom.postgres import PostgresServer

    return PostgresServer.start()


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make class-demo", description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", help="demo folder (default: a new temporary folder, removed at the end)")
    args = parser.parse_args(argv)
    work = Path(args.workdir) if args.workdir else Path(tempfile.mkdtemp(prefix="attnkit-class-"))
    # Ctrl-C and SIGTERM stop the class; set explicitly: a shell's background job starts with SIGINT ignored
    signal.signal(signal.SIGINT, _interrupt)
    signal.signal(signal.SIGTERM, _interrupt)
    print(f"Starting the class in {work} (PostgreSQL, fake LMS, JupyterHub, proxy, ngshare, formgraders, "
          "grading workers)...", flush=True)
    started = time.monotonic()
    postgres = postgres_server()
    hub = ClassHub(work, postgres)
    try:
        hub.start()
        print(f"\nReady in {time.monotonic() - started:.0f} s.\n")
        print(f"  JupyterHub        {hub.public}/hub/   (login only through the LMS)")
        print(f"  fake LMS          {hub.lms.issuer}/   (open it and click a name: an LTI 1.3 launch)")
        for course in hub.courses.values():
            print(f"  formgrader        {hub.public}/services/{course.name}/formgrader   "
                  f"(instructors of {course.name})")
        print(f"  exchange          {hub.ngshare_url}/   (ngshare)\n")
        for user in USERS.values():
            for context, role in user.memberships.items():
                link = hub.lms.launch_url(user.sub, context, hub.lms.landing(role, context))
                print(f"  {role:<11} {user.name:<32} {link}")
        print(f"\nLearners find the released quizzes ({', '.join(COURSES.values())}) in JupyterLab: "
              "File > Open... is not needed, use the Assignments tab (Nbgrader > Assignments).")
        print("Instructors open their course's formgrader from the hub's Services menu. To grade a quiz:")
        print("  1. collect: the formgrader's Collect button (or `nbgrader collect QUIZ` in its terminal);")
        print("  2. grade through the course's queue (its worker is running), in the course folder:")
        for course in hub.courses.values():
            quiz = course.quizzes[0] if course.quizzes else "QUIZ"
            print(f"       cd {course.dir} && {hub.venv_bin / 'attnkit'} queue submit {quiz} && "
                  f"{hub.venv_bin / 'attnkit'} queue status {quiz} --wait")
        print("  3. release feedback: the formgrader's Release feedback (or `nbgrader release_feedback QUIZ`);\n"
              "     learners fetch it in their Assignments tab.")
        print("Ctrl-C stops everything.", flush=True)
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        print("\nStopping...", flush=True)
    finally:
        hub.stop()
        postgres.stop()
        if not args.workdir:
            shutil.rmtree(work, ignore_errors=True)
        print("Stopped: no process of the class is left.", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
