"""The report's numbers as text (printed by ``attnkit report``) and as CSV rows (``--csv``).

CSV: one row per number the page shows, ``quiz, kind, item, test_cell, outcome, students,
share_of_class, revisit`` where ``kind`` is ``item`` (``outcome``: ``right`` or a misconception id),
``status`` (``outcome``: the status) or ``score`` (``outcome``: the bin, e.g. ``3-4``). A field
that a spreadsheet would read as a formula (``=``, ``+``, ``-``, ``@`` first) is prefixed with ``'``.
"""
from __future__ import annotations

import csv
import io
from collections.abc import Iterable

from attnkit.grading.report.collect import QuizReport, percent, summarise
from attnkit.grading.report.plots import score_bins

__all__ = ["FIELDS", "csv_rows", "write_csv", "text_summary"]

FIELDS = ["quiz", "kind", "item", "test_cell", "outcome", "students", "share_of_class", "revisit"]


def _safe(value: object) -> str:
    text = str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def csv_rows(report: QuizReport) -> list[dict[str, str]]:
    """The rows of one quiz (see the module docstring)."""
    rows = []

    def add(kind: str, item: str, cell: str, outcome: str, count: int, revisit: str = "") -> None:
        rows.append({"quiz": report.quiz, "kind": kind, "item": item, "test_cell": cell, "outcome": outcome,
                     "students": str(count), "share_of_class": f"{report.share(count):.4f}", "revisit": revisit})

    for item in report.items:
        revisit = "; ".join(item.sections)
        add("item", item.item, item.cell, "right", item.right, revisit)
        for misconception, count in sorted(item.wrong.items(), key=lambda kv: (-kv[1], kv[0])):
            add("item", item.item, item.cell, misconception, count, revisit)
    for status, count in report.statuses.most_common():
        add("status", "", "", status, count)
    for low, high, count in score_bins(report):
        add("score", "", "", f"{low:g}-{high:g}", count)
    return rows


def write_csv(reports: Iterable[QuizReport]) -> str:
    """The CSV text of one or more quizzes."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=FIELDS, lineterminator="\n")
    writer.writeheader()
    for report in reports:
        writer.writerows({k: _safe(v) for k, v in row.items()} for row in csv_rows(report))
    return buffer.getvalue()


def text_summary(report: QuizReport, top: int = 3) -> str:
    """A few lines per item for the terminal: right, the commonest mistakes, what to revisit."""
    stats = summarise(report)
    lines = [f"{report.quiz}: {stats['submissions']} submissions, mean {stats['mean']:.2f} / {report.max_score:g}, "
             f"median {stats['median']:g}"]
    for item in report.items:
        lines.append(f"  {item.item:32} {item.right:5} right ({percent(report.share(item.right))})")
        for misconception, count in item.wrong.most_common(top):
            lines.append(f"      {count:5} ({percent(report.share(count)):>5})  {misconception}")
        if item.wrong and item.sections:
            lines.append(f"      revisit: {'; '.join(item.sections)}")
    statuses = ", ".join(f"{s} {n}" for s, n in report.statuses.most_common())
    lines.append(f"  statuses: {statuses or 'none'}")
    return "\n".join(lines)
