"""``attnkit report QUIZ`` (or ``--all``): the instructor's report, written next to the gradebook.

In the course directory (the repository root, or any nbgrader course with this
``nbgrader_config.py``; its ``CourseDirectory.db_url`` names the gradebook, SQLite or PostgreSQL),
after ``nbgrader autograde`` or ``attnkit grade-class``:

    attnkit report q4_qkv_math            # reports/q4_qkv_math.html and a summary on the terminal
    attnkit report --all --csv            # every graded quiz, reports/index.html, and the CSVs

Each page is self-contained (plots embedded, no network) and links to the students' feedback
pages in ``feedback/``. The report is for the instructor only: it names every student and the
answer key's wrong-answer messages; keep ``reports/`` out of what students receive.
"""
from __future__ import annotations

import html
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from attnkit.grading.report.collect import QuizReport, collect, summarise
from attnkit.grading.report.export import text_summary, write_csv
from attnkit.grading.report.page import CSP, STYLE, render

__all__ = ["gradebook_url", "build", "write_index", "main"]


def gradebook_url(course: Path) -> str:
    """The course's gradebook database URL, as nbgrader reads it from ``nbgrader_config.py``."""
    from nbgrader.coursedir import CourseDirectory
    from traitlets.config import Config

    from attnkit.grading.course.classgrade import _config

    if (course / "nbgrader_config.py").exists():
        return CourseDirectory(config=_config(course, None, False)).db_url
    return CourseDirectory(config=Config({"CourseDirectory": {"root": str(course)}})).db_url  # nbgrader's default


def _open(course: Path) -> Any:
    from nbgrader.api import Gradebook

    url = gradebook_url(course)
    if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).exists():
        raise FileNotFoundError(f"no gradebook at {url.removeprefix('sqlite:///')}: grade the class first "
                                "(nbgrader autograde QUIZ, or attnkit grade-class QUIZ)")
    return Gradebook(url)


def graded_quizzes(gb: Any) -> list[str]:
    """The assignments of the gradebook that have at least one submission, by name."""
    return sorted(a.name for a in gb.assignments if a.submissions)


def build(course: Path | str, quizzes: Sequence[str] | None, out: Path | str | None = None,
          with_csv: bool = False) -> tuple[list[QuizReport], list[Path]]:
    """Collect and write the report of each quiz (``None``: every graded quiz, plus an index page).

    Returns:
        ``(reports, paths written)``; pages are ``<out>/<quiz>.html`` (``out``: ``<course>/reports``).
    """
    course = Path(course).resolve()
    out = Path(out).resolve() if out else course / "reports"
    out.mkdir(parents=True, exist_ok=True)
    with _open(course) as gb:
        names = list(quizzes) if quizzes else graded_quizzes(gb)
        reports = [collect(gb.db, quiz, course) for quiz in names]
    paths = []
    for report in reports:
        page = out / f"{report.quiz}.html"
        page.write_text(render(report, course, out), encoding="utf-8")
        paths.append(page)
        if with_csv:
            table = out / f"{report.quiz}.csv"
            table.write_text(write_csv([report]), encoding="utf-8")
            paths.append(table)
    if quizzes is None:
        paths.append(write_index(reports, out))
    return reports, paths


def write_index(reports: Sequence[QuizReport], out: Path) -> Path:
    """``<out>/index.html``: one row per quiz, linking its page."""
    rows = "".join(
        f'<tr><th scope="row"><a href="{html.escape(r.quiz)}.html">{html.escape(r.quiz)}</a></th>'
        f'<td class="n">{len(r.submissions)}</td><td class="n">{summarise(r)["mean"]:.2f} / {r.max_score:g}</td>'
        f'<td class="n">{sum(n for i in r.items for n in i.wrong.values())}</td></tr>' for r in reports)
    page = ('<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>What the class got wrong: every quiz</title><style>{STYLE}</style></head><body>"
            "<header><h1>What the class got wrong: every quiz</h1></header><main>"
            "<table><caption>Quizzes with submissions</caption><thead><tr><th scope=\"col\">quiz</th>"
            '<th scope="col">submissions</th><th scope="col">mean score</th><th scope="col">mistakes (cells)</th>'
            f"</tr></thead><tbody>{rows}</tbody></table></main></body></html>\n")
    path = out / "index.html"
    path.write_text(page, encoding="utf-8")
    return path


def main(quiz: str | None, course: str = ".", all_quizzes: bool = False, out: str | None = None,
         with_csv: bool = False) -> int:
    """Write the report(s) and print the summary; 1 when there is nothing to report."""
    if not quiz and not all_quizzes:
        print("attnkit report: name a quiz, or --all", file=sys.stderr)
        return 2
    try:
        reports, paths = build(course, None if all_quizzes else [quiz], out, with_csv)
    except FileNotFoundError as exc:
        print(f"attnkit report: {exc}", file=sys.stderr)
        return 1
    for report in reports:
        print(text_summary(report))
        print()
    for path in paths:
        print(f"wrote {path}")
    return 0 if reports and all(r.submissions for r in reports) else 1
