"""The ``attnkit`` command.

    attnkit grade quizzes/q4_qkv_math/q4_qkv_math.ipynb   # grade yourself with nbgrader
    attnkit demo-class [--quiz q4_qkv_math ...]           # a synthetic class, graded end to end
    attnkit bugs                                          # the catalogue of typical bugs
"""
from __future__ import annotations

import argparse
import sys
from typing import Sequence

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    from attnkit.grading.quizzes import QUIZ_IDS

    parser = argparse.ArgumentParser(prog="attnkit", description="attnkit course tools")
    sub = parser.add_subparsers(dest="command", required=True)
    grade = sub.add_parser("grade", help="autograde your quiz notebook with nbgrader and print the feedback")
    grade.add_argument("notebook", help="e.g. quizzes/q4_qkv_math/q4_qkv_math.ipynb")
    grade.add_argument("--workdir", help="course directory to build (default: a new temporary folder)")
    grade.add_argument("--timeout", type=int, help="seconds per cell (default: nbgrader_config.py's)")
    demo = sub.add_parser("demo-class", help="grade a synthetic class end to end and print the gradebook")
    demo.add_argument("--quiz", nargs="+", default=["q4_qkv_math"], choices=[*QUIZ_IDS, "all"],
                      help="quizzes to grade (default: q4_qkv_math; 'all' for every quiz)")
    demo.add_argument("--workdir", help="course directory to build (default: a new temporary folder)")
    sub.add_parser("bugs", help="list the catalogue of typical bugs and their feedback")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``attnkit`` (``[project.scripts] attnkit = "attnkit.cli:main"``)."""
    args = _parser().parse_args(argv)
    if args.command == "grade":
        from attnkit.grading import selfgrade

        return selfgrade.main(args.notebook, args.workdir, args.timeout)
    if args.command == "demo-class":
        from attnkit.grading import demo
        from attnkit.grading.quizzes import QUIZ_IDS

        quizzes = list(QUIZ_IDS) if "all" in args.quiz else args.quiz
        return demo.main(quizzes, args.workdir)
    from attnkit.grading import bugs

    return bugs.main([])


if __name__ == "__main__":
    sys.exit(main())
