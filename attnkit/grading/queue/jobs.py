"""What one grading job does on a worker: the submission fetched safely, graded as grade-class does.

A job's payload is ``(quiz, student, submitted_at)`` and nothing else: no path. Both names come
from folder names a student may influence (an LMS login, a collected folder), so they are checked
against :data:`SAFE_NAME` before they touch a path, and the worker reads the submission from its
own ``--submissions`` folder (``<submissions>/<student>/<quiz>/``, a mounted volume on another
machine) through :func:`fetch`, which copies only regular files of bounded size and number,
opened without following links (a link to another student's notebook or to ``solutions/``, a
named pipe that would block the reader, a 10 GB file: skipped, with a note in the status).

Then, in the worker's own scratch course (no shared file system), exactly what ``grade-class``
does for one student (:mod:`attnkit.grading.course.classgrade`: triage, nbgrader's autograde and
feedback through its API in this warm process, the status row), the grades written into the
PostgreSQL gradebook by nbgrader itself; the autograded notebook and the feedback page are copied
to the ``--storage`` folder, and the status row to the queue's status table
(:data:`attnkit.grading.queue.app.STATUS_TABLE`).

An error of the machinery (the database gone, the submission folder missing) is raised, so that
procrastinate retries the job; its text is kept in the status table as the reason.
"""
from __future__ import annotations

import os
import re
import shutil
import stat
import time
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from attnkit.grading.course import classgrade
from attnkit.grading.course.triage import folder_flags
from attnkit.grading.grader import status as grading_status
from attnkit.grading.queue import gradebook

__all__ = ["SAFE_NAME", "MAX_FILE_BYTES", "MAX_TOTAL_BYTES", "MAX_FILES", "Refused", "Setup", "configure",
           "check_name", "fetch", "run", "record"]

# a student id or quiz id that may become one path component: no separator, no leading dot, none of
# nbgrader's reserved + and *, at most 100 characters
SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,99}$")
MAX_FILE_BYTES = 16 << 20  # a quiz notebook is ~100 KB
MAX_TOTAL_BYTES = 64 << 20
MAX_FILES = 64


class Refused(ValueError):
    """A payload or submission folder that is never graded (retrying would not change it)."""


@dataclass
class Setup:
    """A worker process's settings (made by :mod:`attnkit.grading.queue.worker`)."""

    course: Path  # the worker's scratch course: nbgrader_config.py and the source folder
    submissions: Path  # <submissions>/<student>/<quiz>/
    storage: Path  # autograded/ and feedback/ are written here
    url: str  # the course database
    cfg: Any  # the scratch course's nbgrader config
    worker: str  # host:pid, in the status table


_SETUP: Setup | None = None


def configure(setup: Setup) -> None:
    global _SETUP
    _SETUP = setup


def check_name(kind: str, value: Any) -> str:
    if not isinstance(value, str) or not SAFE_NAME.match(value):
        raise Refused(f"unsafe {kind} {str(value)[:80]!r}: not graded")
    return value


def _safe_file_name(name: str) -> bool:
    return (not name.startswith(".") and len(name.encode()) <= 255 and "/" not in name
            and all(ch.isprintable() for ch in name))


def fetch(submissions: Path, student: str, quiz: str, dest: Path) -> list[str]:
    """Copy ``<submissions>/<student>/<quiz>/`` (top level only) into ``dest``; returns notes on
    what was skipped. Raises :class:`Refused` when a folder on the way is a link or leads outside
    ``submissions``, FileNotFoundError when the folder is missing (the job is retried)."""
    root = submissions.resolve()
    for folder in (submissions / student, submissions / student / quiz):
        if folder.is_symlink():
            raise Refused(f"submissions/{folder.relative_to(submissions)} is a link: not graded")
    folder = submissions / student / quiz
    if not folder.is_dir():
        raise FileNotFoundError(f"no submission folder {student}/{quiz} in {submissions}")
    if not folder.resolve().is_relative_to(root):
        raise Refused(f"submissions/{student}/{quiz} leads outside the submissions folder: not graded")
    shutil.rmtree(dest, ignore_errors=True)
    dest.mkdir(parents=True)
    notes: list[str] = []
    total = copied = 0
    for name in sorted(os.listdir(folder), key=lambda n: (not n.endswith(".ipynb"), n)):  # notebooks first
        if not _safe_file_name(name):
            if not name.startswith("."):
                notes.append(f"skipped a file with an unusable name ({name[:40]!r})")
            continue
        if copied == MAX_FILES:
            notes.append(f"more than {MAX_FILES} files: the rest skipped")
            break
        try:
            fd = os.open(folder / name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
        except OSError:
            notes.append(f"skipped {name}: a link or unreadable")
            continue
        with os.fdopen(fd, "rb") as src:
            info = os.fstat(src.fileno())
            if not stat.S_ISREG(info.st_mode):
                if not stat.S_ISDIR(info.st_mode):
                    notes.append(f"skipped {name}: not a regular file")
                continue
            if info.st_size > MAX_FILE_BYTES or total + info.st_size > MAX_TOTAL_BYTES:
                notes.append(f"skipped {name}: {info.st_size} bytes, over the limit of {MAX_FILE_BYTES}")
                continue
            data = src.read(MAX_FILE_BYTES + 1)[:MAX_FILE_BYTES]  # it may grow while read
        (dest / name).write_bytes(data)
        total += len(data)
        copied += 1
    return notes


_STATUS_CONN: dict[str, Any] = {}  # this worker's connection to the status table, per URL


def _query(url: str, sql: str, values: Any = ()) -> Any:
    """``sql`` on this worker's kept connection (autocommit); a connection that a database restart
    broke is replaced once. Returns the cursor."""
    import psycopg

    from attnkit.grading.queue.app import connect

    for attempt in (1, 2):
        conn = _STATUS_CONN.get(url)
        if conn is None or conn.closed:
            conn = _STATUS_CONN[url] = connect(url)
        try:
            return conn.execute(sql, values)
        except psycopg.OperationalError:
            conn.close()
            if attempt == 2:
                raise


def record(url: str, quiz: str, student: str, graded: bool = False, **fields: Any) -> None:
    """Insert or update the (quiz, student) row of the status table. ``graded``: this run graded
    the submission to the end (``gradings`` counts those). A row holding this job's finished
    result (:func:`_finished`) is never overwritten by a row without a status (an error of a run
    of the same job that a database outage left behind)."""
    from attnkit.grading.queue.app import STATUS_TABLE

    names = ["quiz", "student", *fields, "gradings"]
    values = [quiz, student, *fields.values(), int(graded)]
    updates = ", ".join(f"{k} = EXCLUDED.{k}" for k in fields) + ", updated_at = now()"
    updates += f", gradings = {STATUS_TABLE}.gradings + EXCLUDED.gradings"
    guard = "" if "status" in fields else (
        f" WHERE NOT ({STATUS_TABLE}.job_id IS NOT DISTINCT FROM EXCLUDED.job_id AND {STATUS_TABLE}.error = '' "
        f"AND {STATUS_TABLE}.status <> '')")
    _query(url, f"INSERT INTO {STATUS_TABLE} ({', '.join(names)}) VALUES ({', '.join(['%s'] * len(names))}) "
                f"ON CONFLICT (quiz, student) DO UPDATE SET {updates}{guard}", values)


def _fence(url: str, quiz: str, student: str) -> tuple[int, int]:
    """Take the PostgreSQL advisory lock of (quiz, student) on this worker's kept connection (wait
    for it): two runs of one submission never overlap, on any worker (procrastinate's job ``lock``
    stops holding once a stalled job is put back in the queue while its first run may still go
    on). A database restart releases it, and cuts that run's connections too. Returns the key."""
    from attnkit.grading.queue.app import lock_of

    key = (19, zlib.crc32(lock_of(quiz, student).encode()) - (1 << 31))  # two int4: the lock's key
    _query(url, "SELECT pg_advisory_lock(%s, %s)", key)
    return key


def _unfence(url: str, key: tuple[int, int]) -> None:
    conn = _STATUS_CONN.get(url)
    try:
        conn.execute("SELECT pg_advisory_unlock(%s, %s)", key)
    except Exception:  # the connection broke: the server released the lock with it
        conn.close()


def _finished(url: str, quiz: str, student: str, job_id: int) -> dict[str, str] | None:
    """The status row if this job already graded this submission to the end (a run that a
    database outage left ``doing`` in the queue after it finished), else None."""
    from attnkit.grading.queue.app import STATUS_TABLE

    row = _query(url, f"SELECT status, score, max_score, notes, flags FROM {STATUS_TABLE} WHERE quiz = %s "
                      "AND student = %s AND job_id = %s AND error = '' AND status <> ''",
                 (quiz, student, job_id)).fetchone()
    if row is None:
        return None
    return dict(zip(("status", "score", "max_score", "notes", "flags"), row, strict=True))


def _machinery_failed(outcome: dict[str, Any], url: str) -> str:
    """Why nbgrader's failure is the machinery's (the database), not the submission's; '' if not."""
    text = outcome.get("error", "") + outcome.get("log", "")
    try:
        from attnkit.grading.queue.app import connect

        with connect(url) as conn:
            conn.execute("SELECT 1")
    except Exception as exc:
        return f"the database is unreachable: {type(exc).__name__}: {exc}"[:300]
    if "OperationalError" in text or "psycopg" in text:
        return "a database error while grading: " + text[-300:]
    return ""


def _clean(course: Path, student: str, quiz: str) -> None:
    for part in ("submitted", "autograded", "feedback"):
        shutil.rmtree(course / part / student / quiz, ignore_errors=True)
    (course / grading_status.STATUS_FILE).unlink(missing_ok=True)


def _publish(setup: Setup, student: str, quiz: str) -> None:
    """The autograded notebook and the feedback page, to the storage folder."""
    for part in ("autograded", "feedback"):
        src = setup.course / part / student / quiz
        if src.is_dir():
            dest = setup.storage / part / student / quiz
            shutil.rmtree(dest, ignore_errors=True)
            shutil.copytree(src, dest, symlinks=True)


def run(job_id: int, attempt: int, quiz: str, student: str, submitted_at: str = "") -> dict[str, str]:
    """Grade one submission in this worker; returns its status row (see module docstring)."""
    setup = _SETUP
    assert setup is not None, "jobs.configure() first (attnkit queue worker does)"
    start = time.perf_counter()
    base = {"job_id": job_id, "submitted_at": str(submitted_at)[:64], "worker": setup.worker}
    try:
        check_name("quiz id", quiz)
        check_name("student id", student)
        if not (setup.course / setup.cfg.CourseDirectory.source_directory / quiz).is_dir():
            raise Refused(f"unknown quiz {quiz!r}: not graded")
    except Refused as exc:
        record(setup.url, str(quiz)[:100], str(student)[:100], **base, status="failed", error=str(exc),
               score="", max_score="", notes="", flags="", seconds=0.0)
        return {"status": "failed", "notes": str(exc)}
    key = _fence(setup.url, quiz, student)
    try:
        if (done := _finished(setup.url, quiz, student, job_id)) is not None:
            return done  # graded by an earlier run of this job: nothing is written twice
        return _grade(setup, job_id, attempt, quiz, student, base, start)
    finally:
        _unfence(setup.url, key)


def _grade(setup: Setup, job_id: int, attempt: int, quiz: str, student: str, base: dict[str, Any],
           start: float) -> dict[str, str]:
    _clean(setup.course, student, quiz)
    try:
        gradebook.ping()  # a connection broken by a database restart is replaced before grading
        notes = fetch(setup.submissions, student, quiz, setup.course / "submitted" / student / quiz)
        triaged = classgrade.triage(setup.course, quiz, [student])[0]
        triaged.notes += notes
        # links and special files were left behind by fetch: flagged as nbgrader and grade-class flag them
        left = [f for f in folder_flags(setup.submissions / student / quiz) if f not in triaged.flags]
        if left:
            triaged.flags += left
            if triaged.ok and "flagged" not in triaged.notes:
                triaged.notes.append("flagged")
        outcome: dict[str, Any] = {}
        if triaged.ok:
            _, outcome, _ = classgrade._grade_one(student, quiz)
            if outcome.get("success") != "True" and (why := _machinery_failed(outcome, setup.url)):
                raise RuntimeError(why)
        row = classgrade.finish_submission(setup.course, quiz, triaged, outcome, setup.cfg,
                                           grading_status.read_status(setup.course))
        _publish(setup, student, quiz)
        record(setup.url, quiz, student, graded=True, **base, status=row["status"], score=row.get("score", ""),
               max_score=row.get("max_score", ""), notes=row.get("notes", ""), flags=row.get("flags", ""),
               error="", seconds=time.perf_counter() - start)
        return row
    except Refused as exc:
        record(setup.url, quiz, student, **base, status="failed", error=str(exc), seconds=0.0)
        return {"status": "failed", "notes": str(exc)}
    except Exception as exc:
        try:  # the reason, for the instructor; the job is retried or ends failed
            record(setup.url, quiz, student, **base, error=f"attempt {attempt + 1}: {type(exc).__name__}: {exc}"[:500])
        except Exception:
            pass
        raise
    finally:
        _clean(setup.course, student, quiz)
