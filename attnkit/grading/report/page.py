"""The report as one self-contained, accessible HTML page.

Self-contained: the plots are data URIs, the style is inline, there is no script, and a Content
Security Policy forbids the page to load anything (no CDN, no font, no request at all). Links to
the students' feedback pages are relative, so the report can be moved with the course folder.

Safe: every string that comes from a submission (student ids, flag evidence, notes) is escaped
with :func:`html.escape`, and path segments in links are percent-encoded: a student id such as
``<img src=x onerror=...>`` shows as text and can never become markup or leave its link.

Accessible (WCAG 2.1 A/AA): ``lang``, a ``<title>``, landmarks (header, nav, main, footer), one
``<h1>`` and ordered headings, tables with captions and ``scope``\\ d header cells, alt text on
every plot carrying its numbers (:mod:`attnkit.grading.report.plots`), text contrast of 4.5:1 or
more, underlined links, and colour never alone (every number is also in a table).
"""
from __future__ import annotations

import datetime
import html
import os
import urllib.parse
from collections.abc import Iterable, Sequence
from pathlib import Path

from attnkit.grading.report.collect import QuizReport, percent, summarise
from attnkit.grading.report.plots import Plot, items_chart, misconceptions_chart, score_bins, score_histogram

__all__ = ["render", "feedback_href", "CSP"]

CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'"
FLAG_CHARS = 300  # flag evidence and notes are shortened to this many characters in the page
STYLE = """
body { font-family: system-ui, sans-serif; color: #1a1a1a; background: #fff; margin: 0 auto; max-width: 72rem;
       padding: 0 1rem 2rem; line-height: 1.45; }
a { color: #0645ad; text-decoration: underline; }
a:focus { outline: 3px solid #0645ad; outline-offset: 2px; }
table { border-collapse: collapse; margin: 0.5rem 0 1.5rem; }
caption { text-align: left; font-weight: 600; padding: 0.3rem 0; }
th, td { border: 1px solid #8a8a8a; padding: 0.25rem 0.5rem; text-align: left; vertical-align: top; }
thead th { background: #e8e8e8; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
img { max-width: 100%; height: auto; border: 1px solid #ccc; }
code { font-family: ui-monospace, monospace; overflow-wrap: anywhere; }
.evidence { font-family: ui-monospace, monospace; font-size: 0.9em; overflow-wrap: anywhere; }
nav ul { padding-left: 1.2rem; }
"""


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def feedback_href(report_dir: Path, course: Path, student: str, quiz: str) -> str | None:
    """The relative link from the report to a student's feedback page (``None`` if it does not exist).
    Every segment is percent-encoded: a hostile student id cannot leave its folder or its attribute."""
    page = course / "feedback" / student / quiz / f"{quiz}.html"
    if student in ("", ".", "..") or "/" in student or not page.is_file():
        return None
    base = os.path.relpath(course / "feedback", report_dir).split(os.sep)
    return "/".join([*base, *(urllib.parse.quote(p, safe="") for p in (student, quiz, f"{quiz}.html"))])


def _table(caption: str, head: Sequence[str], rows: Iterable[Sequence[str]], numeric: set[int] = frozenset(),
           row_header: bool = True) -> str:
    """A table whose cells are already-escaped HTML; the first cell of a row is its header."""
    out = [f"<table><caption>{_e(caption)}</caption><thead><tr>"
           + "".join(f'<th scope="col">{_e(h)}</th>' for h in head) + "</tr></thead><tbody>"]
    for row in rows:
        cells = []
        for i, cell in enumerate(row):
            if i == 0 and row_header:
                cells.append(f'<th scope="row">{cell}</th>')
            else:
                cells.append(f'<td class="n">{cell}</td>' if i in numeric else f"<td>{cell}</td>")
        out.append("<tr>" + "".join(cells) + "</tr>")
    out.append("</tbody></table>")
    return "".join(out)


def _figure(plot: Plot | None, caption: str) -> str:
    if plot is None:
        return ""
    return (f'<figure><img src="{_e(plot.uri)}" alt="{_e(plot.alt)}">'
            f"<figcaption>{_e(caption)}</figcaption></figure>")


def _items_section(report: QuizReport) -> str:
    rows = []
    for item in report.items:
        top = item.wrong.most_common(1)
        rows.append([f"<code>{_e(item.item)}</code>", f"<code>{_e(item.cell)}</code>", _e(f"{item.points:g}"),
                     _e(item.right), _e(percent(report.share(item.right))),
                     (f"<code>{_e(top[0][0])}</code> ({_e(top[0][1])})" if top else "none"),
                     _e("; ".join(item.sections) or "not in the teaching map")])
    table = _table(f"{report.quiz}: each quiz item across the class",
                   ["item", "test cell", "points", "right", "share right", "most common mistake (students)",
                    "lesson sections that teach it"], rows, numeric={2, 3, 4})
    return (f'<section aria-labelledby="items-{_e(report.quiz)}"><h2 id="items-{_e(report.quiz)}">Quiz items</h2>'
            + _figure(items_chart(report), "Each item: right, a recognised misconception, not answered, or "
                                           "wrong otherwise.")
            + table + "</section>")


def _misconceptions_section(report: QuizReport) -> str:
    parts = []
    for item in report.items:
        if not item.wrong:
            continue
        wrong = sum(item.wrong.values())
        rows = [[f"<code>{_e(misconception)}</code>", _e(report.messages.get(misconception, "")), _e(count),
                 _e(percent(report.share(count)))]
                for misconception, count in sorted(item.wrong.items(), key=lambda kv: (-kv[1], kv[0]))]
        parts.append(f"<h3><code>{_e(item.item)}</code>: {wrong} of {len(report.submissions)} wrong</h3>"
                     f"<p>Revisit: {_e('; '.join(item.sections) or 'no section in the teaching map')}.</p>"
                     + _table(f"{report.quiz}, {item.item} ({item.cell}): the mistakes seen",
                              ["misconception", "what it means", "students", "share of the class"], rows,
                              numeric={2, 3}))
    body = "".join(parts) or "<p>No mistakes: every submission earned every point.</p>"
    return (f'<section aria-labelledby="mis-{_e(report.quiz)}"><h2 id="mis-{_e(report.quiz)}">What the class got '
            f"wrong</h2>" + _figure(misconceptions_chart(report), "The most common mistakes, by students.")
            + body + "</section>")


def _scores_section(report: QuizReport) -> str:
    stats = summarise(report)
    rows = [[_e(f"{low:g} to {high:g}"), _e(n)] for low, high, n in score_bins(report)]
    return (f'<section aria-labelledby="scores-{_e(report.quiz)}"><h2 id="scores-{_e(report.quiz)}">Scores</h2>'
            f"<p>Mean {stats['mean']:.2f}, median {stats['median']:g}, lowest {stats['min']:g}, highest "
            f"{stats['max']:g}, out of {report.max_score:g} points.</p>"
            + _figure(score_histogram(report), "Total scores of the class.")
            + _table(f"{report.quiz}: students per score (a bin holds its lower end; the last, full marks too)",
                     ["score", "students"], rows, numeric={1}) + "</section>")


def _student_cell(report_dir: Path, course: Path, student: str, quiz: str) -> str:
    href = feedback_href(report_dir, course, student, quiz)
    name = f"<code>{_e(student)}</code>"
    return f'<a href="{_e(href)}">{name}</a>' if href else name


def _statuses_section(report: QuizReport, report_dir: Path, course: Path) -> str:
    counts = _table(f"{report.quiz}: submissions per status", ["status", "submissions", "share"],
                    [[_e(s), _e(n), _e(percent(report.share(n)))] for s, n in report.statuses.most_common()],
                    numeric={1, 2})
    review = [s for s in report.submissions if s.status != "graded"]
    rows = [[_student_cell(report_dir, course, s.student, report.quiz), _e(s.status),
             _e(f"{s.score:g} / {s.max_score:g}"),
             "<br>".join(f'<span class="evidence">{_e(f[:FLAG_CHARS])}</span>' for f in s.flags) or "none",
             f'<span class="evidence">{_e(s.notes[:FLAG_CHARS])}</span>' if s.notes else "none"] for s in review]
    listing = _table(f"{report.quiz}: submissions to review (student links to the feedback page)",
                     ["student", "status", "score", "flags (evidence)", "notes"], rows) if rows else \
        "<p>Every submission has the status graded.</p>"
    every = _table(f"{report.quiz}: every submission (student links to the feedback page)",
                   ["student", "score", "status"],
                   [[_student_cell(report_dir, course, s.student, report.quiz), _e(f"{s.score:g}"), _e(s.status)]
                    for s in report.submissions], numeric={1})
    return (f'<section aria-labelledby="status-{_e(report.quiz)}"><h2 id="status-{_e(report.quiz)}">Statuses'
            "</h2>" + counts + listing + f"<details><summary>Every submission ({len(report.submissions)})</summary>"
            + every + "</details></section>")


def render(report: QuizReport, course: Path | str, report_dir: Path | str) -> str:
    """The whole page for one quiz (``report_dir``: where the page will be written, for its links)."""
    course, report_dir = Path(course).resolve(), Path(report_dir).resolve()
    stats = summarise(report)
    title = f"{report.quiz}: what the class got wrong"
    when = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    q = _e(report.quiz)
    return "".join([
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_e(title)}</title><style>{STYLE}</style></head><body>",
        f"<header><h1>{_e(title)}</h1><p>{stats['submissions']} submissions, mean score {stats['mean']:.2f} of "
        f"{report.max_score:g}. Generated {_e(when)} from the gradebook of <code>{_e(course)}</code>.</p></header>",
        '<nav aria-label="Sections of this report"><ul>',
        f'<li><a href="#items-{q}">Quiz items</a></li><li><a href="#mis-{q}">What the class got wrong</a></li>',
        f'<li><a href="#scores-{q}">Scores</a></li><li><a href="#status-{q}">Statuses</a></li></ul></nav>',
        "<main>", _items_section(report), _misconceptions_section(report), _scores_section(report),
        _statuses_section(report, report_dir, course), "</main>",
        "<footer><p>Made by <code>attnkit report</code>. Student ids, flags and notes are shown as text, "
        "exactly as submitted. Misconception ids name catalogued bugs (<code>attnkit bugs</code>) or typical "
        "wrong answers (<code>question=answer</code>).</p></footer></body></html>\n",
    ])
