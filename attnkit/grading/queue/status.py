"""``attnkit queue status QUIZ [--wait]``: where every submission of a quiz stands.

Per student, the newest job of the quiz that was not replaced (cancelled) by a newer submission:

| queue | status printed and in grading_status.csv |
|---|---|
| waiting (``todo``) | ``queued`` (after a failed attempt: the reason in notes) |
| running (``doing``) | ``grading`` |
| done (``succeeded``) | the grading status of docs/grading.md (``graded``, ``flagged``, ``timed out``, ...) |
| three attempts failed, or refused | ``failed``, with the reason in notes |

``grading_status.csv`` (the columns of grade-class's) is written in the course folder. The exit
status is 0 only when every job of the quiz is done and none failed; ``--wait`` polls until no job
waits or runs, with a progress bar on stderr, and rides out a database restart (it says so on the
bar and polls again).
"""
from __future__ import annotations

import csv
import sys
import time
from pathlib import Path

from attnkit.grading.grader.status import STATUS_FIELDS, STATUS_FILE
from attnkit.grading.queue.app import STATUS_TABLE, TASK, connect

__all__ = ["rows", "write_csv", "main"]


def rows(url: str, quiz: str) -> list[dict[str, str]]:
    """One status row per student (STATUS_FIELDS plus ``attempts``), sorted by student."""
    with connect(url) as conn:
        jobs = conn.execute(
            "SELECT DISTINCT ON (args->>'student') args->>'student', status::text, attempts FROM procrastinate_jobs "
            "WHERE task_name = %s AND args->>'quiz' = %s AND status NOT IN ('cancelled', 'aborted') "
            "ORDER BY args->>'student', id DESC", (TASK, quiz)).fetchall()
        graded = {r[0]: r[1:] for r in conn.execute(
            f"SELECT student, status, score, max_score, notes, flags, error FROM {STATUS_TABLE} WHERE quiz = %s",
            (quiz,))}
    out = []
    for student, job_status, attempts in jobs:
        status, score, max_score, notes, flags, error = graded.get(student, ("", "", "", "", "", ""))
        if job_status == "todo":
            status, score, notes, flags = "queued", "", (f"retrying after: {error}" if attempts and error else ""), ""
        elif job_status == "doing":
            status, score, notes, flags = "grading", "", "", ""
        elif job_status == "failed" or status == "failed" or not status:
            status, score, notes = "failed", "", error or "the job failed without a reason"
        out.append({"student_id": student, "assignment": quiz, "score": score, "max_score": max_score,
                    "status": status, "notes": notes, "flags": flags, "attempts": str(attempts)})
    return out


def write_csv(course: Path, table: list[dict[str, str]]) -> Path:
    path = Path(course) / STATUS_FILE
    with open(path, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=STATUS_FIELDS, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(table)
    return path


def _done(row: dict[str, str]) -> bool:
    return row["status"] not in ("queued", "grading")


def main(url: str, quiz: str, course: str = ".", wait: bool = False, poll_s: float = 2.0) -> int:
    table = rows(url, quiz)
    if wait:
        import psycopg
        from tqdm import tqdm

        with tqdm(total=len(table), desc=f"{quiz} graded", unit="submission", file=sys.stderr) as bar:
            while True:
                bar.total = len(table)
                bar.n = sum(_done(r) for r in table)
                bar.refresh()
                if all(_done(r) for r in table):
                    break
                time.sleep(poll_s)
                try:
                    table = rows(url, quiz)
                    bar.set_postfix_str("")
                except psycopg.OperationalError:  # the database restarts: ask again
                    bar.set_postfix_str("the database is unreachable; retrying")
    path = write_csv(Path(course), table)
    counts: dict[str, int] = {}
    for row in table:
        counts[row["status"]] = counts.get(row["status"], 0) + 1
    print(f"  {'student':24} {'score':>7}  status")
    for row in table:
        score = f"{row['score']}/{row['max_score']}" if row["score"] else ""
        notes = f"  {row['notes'][:100]}" if row["status"] in ("failed", "queued") and row["notes"] else ""
        print(f"  {row['student_id']:24} {score:>7}  {row['status']}{notes}")
    print(f"{quiz}: {len(table)} submissions: " + ", ".join(f"{n} {s}" for s, n in sorted(counts.items())))
    print(f"statuses: {path}")
    return 0 if all(_done(r) and r["status"] != "failed" for r in table) else 1
