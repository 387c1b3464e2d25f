"""The ``attnkit`` command.

    attnkit grade quizzes/q4_qkv_math/q4_qkv_math.ipynb   # grade yourself (sandboxed, judged outside)
    attnkit grade-class q4_qkv_math --workers 2           # instructor: grade submitted/ in parallel
    attnkit bundle [--out dist/attnkit-course.tar.gz]     # instructor: what a class receives
    attnkit demo-class [--quiz q4_qkv_math ...]           # a synthetic class, graded end to end
    attnkit report q4_qkv_math [--csv]                    # instructor: what the class got wrong (--all)
    attnkit bugs                                          # the catalogue of typical bugs
    attnkit queue init|submit QUIZ|worker|status QUIZ     # instructor: grading across machines (docs/deploy.md)
"""
from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    from attnkit.grading.content.quizzes import QUIZ_IDS

    parser = argparse.ArgumentParser(prog="attnkit", description="attnkit course tools")
    sub = parser.add_subparsers(dest="command", required=True)
    grade = sub.add_parser("grade", help="grade your quiz notebook (as nbgrader would) and print the feedback")
    grade.add_argument("notebook", help="e.g. quizzes/q4_qkv_math/q4_qkv_math.ipynb")
    grade.add_argument("--workdir", help="folder for the feedback page (default: a new temporary folder)")
    grade.add_argument("--timeout", type=int, help="seconds per cell (default: nbgrader_config.py's)")
    grade.add_argument("--allow-unsandboxed", action="store_true",
                       help="grade even where bubblewrap cannot run (says so loudly)")
    klass = sub.add_parser("grade-class", help="instructor: autograde every submission of a quiz in parallel "
                                               "into nbgrader's gradebook, with feedback, export and statuses")
    klass.add_argument("quiz", choices=QUIZ_IDS)
    klass.add_argument("--course", default=".", help="nbgrader course directory (default: the current one)")
    klass.add_argument("--workers", type=int, help="parallel graders (default: the number of cores plus one: "
                                                   "a worker waiting on a slow notebook leaves its core to the others)")
    klass.add_argument("--timeout", type=int, help="seconds per cell (default: nbgrader_config.py's)")
    klass.add_argument("--allow-unsandboxed", action="store_true",
                       help="grade even where bubblewrap cannot run (says so loudly)")
    pack = sub.add_parser("bundle", help="instructor: build what a class receives (no solutions, hidden tests "
                                         "or answer key)")
    pack.add_argument("--out", default="dist/attnkit-course.tar.gz")
    demo = sub.add_parser("demo-class", help="grade a synthetic class end to end and print the gradebook")
    demo.add_argument("--quiz", nargs="+", default=["q4_qkv_math"], choices=[*QUIZ_IDS, "all"],
                      help="quizzes to grade (default: q4_qkv_math; 'all' for every quiz)")
    demo.add_argument("--workdir", help="course directory to build (default: a new temporary folder)")
    report = sub.add_parser("report", help="instructor: what the class got wrong, per quiz item, with the lesson "
                                           "sections to revisit (a self-contained HTML page and a summary)")
    report.add_argument("quiz", nargs="?", choices=QUIZ_IDS, help="the quiz (or --all)")
    report.add_argument("--all", action="store_true", help="every quiz with submissions, and an index page")
    report.add_argument("--course", default=".", help="nbgrader course directory (default: the current one)")
    report.add_argument("--out", help="folder for the pages (default: <course>/reports)")
    report.add_argument("--csv", action="store_true", help="also write the numbers as <quiz>.csv")
    sub.add_parser("bugs", help="list the catalogue of typical bugs and their feedback")
    _queue_parser(sub, QUIZ_IDS)
    return parser


def _queue_parser(sub: argparse._SubParsersAction, quiz_ids: Sequence[str]) -> None:
    queue = sub.add_parser("queue", help="instructor: grade across machines through a PostgreSQL queue "
                                         "(ATTNKIT_DATABASE_URL; docs/deploy.md)")
    qsub = queue.add_subparsers(dest="queue_command", required=True)
    init = qsub.add_parser("init", help="create or upgrade the gradebook and the queue in the database (idempotent)")
    init.add_argument("--schema-migrated", action="store_true",
                      help="procrastinate's migrations were applied by hand: record the installed version")
    submit = qsub.add_parser("submit", help="one grading job per submission in submitted/ (a newer one replaces "
                                            "an older one still waiting)")
    submit.add_argument("quiz", choices=quiz_ids)
    submit.add_argument("--submitted", help="folder of <student>/<quiz>/ (default: the course's submitted/)")
    worker = qsub.add_parser("worker", help="a long-lived grading worker for this machine (SIGTERM stops it)")
    worker.add_argument("--concurrency", type=int, help="grading processes (default: the number of cores plus one, "
                                                        "as grade-class: one waiting on a slow notebook leaves "
                                                        "its core to the others)")
    worker.add_argument("--submissions", help="where submissions are read: <student>/<quiz>/ (default: the "
                                              "course's submitted/; a mounted volume on other machines)")
    worker.add_argument("--storage", help="where autograded/ and feedback/ are written (default: the course)")
    worker.add_argument("--timeout", type=int, help="seconds per cell (default: nbgrader_config.py's)")
    worker.add_argument("--allow-unsandboxed", action="store_true",
                        help="grade even where bubblewrap cannot run (says so loudly)")
    worker.add_argument("--burst", action="store_true", help="stop when the queue is empty")
    worker.add_argument("--heartbeat", type=float, default=10.0, help=argparse.SUPPRESS)
    worker.add_argument("--stall-after", type=float, default=30.0, help=argparse.SUPPRESS)
    status = qsub.add_parser("status", help="queued / grading / graded / failed per submission, grading_status.csv; "
                                            "exit 0 when every job is done")
    status.add_argument("quiz", choices=quiz_ids)
    status.add_argument("--wait", action="store_true", help="wait until every job is done, with a progress bar")
    for p in (init, submit, worker, status):
        p.add_argument("--course", default=".", help="nbgrader course directory (default: the current one)")


def _queue(args: argparse.Namespace) -> int:
    from pathlib import Path

    from attnkit.grading.queue.database import ENV, database_url, is_postgres

    if args.queue_command == "worker":
        from attnkit.grading.queue import worker

        return worker.main(args.course, args.concurrency, args.submissions, args.storage, args.timeout,
                           args.allow_unsandboxed, args.heartbeat, args.stall_after, args.burst)
    url = database_url(args.course)
    if not is_postgres(url):
        print(f"attnkit queue: the queue needs PostgreSQL: set {ENV}=postgresql://... or nbgrader_config.py's "
              "c.CourseDirectory.db_url (see docs/deploy.md)", file=sys.stderr)
        return 2
    if args.queue_command == "init":
        from attnkit.grading.queue.app import SchemaMismatch, init_queue

        try:
            made = init_queue(url, migrated=args.schema_migrated)
        except SchemaMismatch as exc:
            print(f"attnkit queue init: {exc}", file=sys.stderr)
            return 2
        print("created: " + ", ".join(made) if made else "the gradebook and the queue were already set up")
        return 0
    if args.queue_command == "submit":
        from attnkit.grading.queue.submit import submit

        done = submit(Path(args.course), args.quiz, url, Path(args.submitted) if args.submitted else None)
        print(f"{args.quiz}: {len(done.enqueued)} enqueued, {len(done.replaced)} replaced an older waiting "
              f"submission, {len(done.unchanged)} already queued or graded, {len(done.refused)} refused")
        for name in done.refused:
            print(f"  refused: {name[:80]!r} is not a usable student id (letters, digits, . _ @ -)")
        return 0
    from attnkit.grading.queue import status

    return status.main(url, args.quiz, args.course, args.wait)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``attnkit`` (``[project.scripts] attnkit = "attnkit.cli:main"``)."""
    args = _parser().parse_args(argv)
    if args.command in ("grade", "grade-class", "queue") and getattr(args, "allow_unsandboxed", False):
        import os

        from attnkit.grading.grader.sandbox import UNSANDBOXED_ENV

        os.environ[UNSANDBOXED_ENV] = "1"
    if args.command == "grade":
        from attnkit.grading.course import selfgrade

        return selfgrade.main(args.notebook, args.workdir, args.timeout)
    if args.command == "grade-class":
        from attnkit.grading.course import classgrade

        return classgrade.main(args.quiz, args.course, args.workers, args.timeout, args.allow_unsandboxed)
    if args.command == "bundle":
        from attnkit.grading.course import bundle

        return bundle.main(args.out)
    if args.command == "demo-class":
        from attnkit.grading.content.quizzes import QUIZ_IDS
        from attnkit.grading.course import demo

        quizzes = list(QUIZ_IDS) if "all" in args.quiz else args.quiz
        return demo.main(quizzes, args.workdir)
    if args.command == "report":
        from attnkit.grading.report import command

        return command.main(args.quiz, args.course, args.all, args.out, args.csv)
    if args.command == "queue":
        return _queue(args)
    from attnkit.grading.content import bugs

    return bugs.main([])


if __name__ == "__main__":
    sys.exit(main())
