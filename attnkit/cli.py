"""The ``attnkit`` command.

    attnkit grade quizzes/q4_qkv_math/q4_qkv_math.ipynb   # grade yourself (sandboxed, judged outside)
    attnkit grade-class q4_qkv_math --workers 2           # instructor: grade submitted/ in parallel
    attnkit bundle [--out dist/attnkit-course.tar.gz]     # instructor: what a class receives
    attnkit demo-class [--quiz q4_qkv_math ...]           # a synthetic class, graded end to end
    attnkit report q4_qkv_math [--csv]                    # instructor: what the class got wrong (--all)
    attnkit bugs                                          # the catalogue of typical bugs
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
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``attnkit`` (``[project.scripts] attnkit = "attnkit.cli:main"``)."""
    args = _parser().parse_args(argv)
    if args.command in ("grade", "grade-class") and args.allow_unsandboxed:
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
    from attnkit.grading.content import bugs

    return bugs.main([])


if __name__ == "__main__":
    sys.exit(main())
