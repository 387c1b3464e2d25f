"""A submission's status: one word, the most severe of what happened, and its row in a CSV.

Every submission ends with exactly one status (flags come on top, for review); the grade itself
is nbgrader's. ``grading_status.csv`` sits beside nbgrader's export, one row per (student,
assignment), written under a file lock by whichever process graded it.
"""
from __future__ import annotations

import csv
import fcntl
import os
from pathlib import Path
from typing import Any

__all__ = ["STATUSES", "STATUS_FILE", "STATUS_FIELDS", "combine_status", "write_status_row", "read_status"]

# most severe first: a notebook that is not one; a kernel that broke the protocol (an attack on
# the grader); the grader or the kernel failed; a limit reached; evidence for review; the test
# cells had to be restored; the notebook had another name; nothing to report
STATUSES = ("malformed", "protocol violation", "crashed", "memory limit", "timed out", "flagged",
            "test cells restored", "renamed", "graded")
STATUS_FILE = "grading_status.csv"
# kernel: where the notebook ran ("warm", "one-off", "unsandboxed"; empty if it never ran)
STATUS_FIELDS = ["student_id", "assignment", "score", "max_score", "status", "notes", "flags", "kernel"]


def combine_status(*lists: list[str]) -> str:
    """The most severe status named in the notes (``"graded"`` if none)."""
    notes = {n for lst in lists for n in lst}
    return next((s for s in STATUSES if s in notes), "graded")


def write_status_row(course_dir: str | Path, row: dict[str, Any]) -> Path:
    """Insert or replace the row of (student, assignment) in ``grading_status.csv`` (file-locked)."""
    path = Path(course_dir) / STATUS_FILE
    with open(path.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        rows = []
        if path.exists():
            with open(path, newline="") as fh:
                rows = [r for r in csv.DictReader(fh)
                        if (r["student_id"], r["assignment"]) != (row["student_id"], row["assignment"])]
        rows.append({k: row.get(k, "") for k in STATUS_FIELDS})
        rows.sort(key=lambda r: (r["assignment"], r["student_id"]))
        tmp = path.with_suffix(".tmp")
        with open(tmp, "w", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=STATUS_FIELDS)
            writer.writeheader()
            writer.writerows(rows)
        os.replace(tmp, path)
    return path


def read_status(course_dir: str | Path) -> dict[tuple[str, str], dict[str, str]]:
    """``{(student, assignment): row}`` of ``grading_status.csv`` (empty if there is none)."""
    path = Path(course_dir) / STATUS_FILE
    if not path.exists():
        return {}
    with open(path, newline="") as fh:
        return {(r["student_id"], r["assignment"]): r for r in csv.DictReader(fh)}
