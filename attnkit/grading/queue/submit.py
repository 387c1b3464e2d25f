"""``attnkit queue submit QUIZ``: one grading job per submission found in ``submitted/``.

For every ``submitted/<student>/<quiz>/`` (nbgrader's layout, as ``nbgrader collect`` leaves it)
one job ``(quiz, student, submitted_at)``, where ``submitted_at`` is nbgrader's ``timestamp.txt``
or else the newest file's time. Per student:

* the same submission already waiting, being graded or graded: nothing is enqueued (a second
  ``submit`` after a deadline is harmless);
* a newer submission while an older one still waits: the older job is cancelled, the newer one
  enqueued (procrastinate's ``queueing_lock`` allows one waiting job per student and quiz); an
  older one already being graded finishes, then the newer one is graded (the job ``lock``);
* a folder whose name cannot be a student id (:data:`attnkit.grading.queue.jobs.SAFE_NAME`): not
  enqueued, listed as refused.

The quiz's assignment must be in the gradebook before a worker grades it: when it is missing it is
generated from the course's source folder in a temporary copy (``nbgrader generate_assignment``,
the instructor's ``quizzes/`` release is not touched).
"""
from __future__ import annotations

import datetime
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from attnkit.grading.queue.app import TASK, connect, lock_of, make_app
from attnkit.grading.queue.database import ENV, libpq_url
from attnkit.grading.queue.jobs import SAFE_NAME

__all__ = ["Submitted", "find_submissions", "ensure_assignment", "submit"]


@dataclass
class Submitted:
    enqueued: list[str] = field(default_factory=list)
    replaced: list[str] = field(default_factory=list)  # an older waiting job was cancelled
    unchanged: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)


def _timestamp(folder: Path) -> str:
    stamp = folder / "timestamp.txt"
    if stamp.is_file() and not stamp.is_symlink() and stamp.stat().st_size < 200:
        return stamp.read_text(errors="replace").strip()[:64]
    times = [p.lstat().st_mtime for p in folder.iterdir()] or [folder.lstat().st_mtime]
    return datetime.datetime.fromtimestamp(max(times), datetime.timezone.utc).isoformat()


def find_submissions(submitted: Path, quiz: str) -> tuple[dict[str, str], list[str]]:
    """``({student: submitted_at}, refused folder names)`` under ``submitted``."""
    found, refused = {}, []
    if submitted.is_dir():
        for entry in sorted(submitted.iterdir()):
            if not (entry / quiz).is_dir():
                continue
            if not SAFE_NAME.match(entry.name) or entry.is_symlink() or (entry / quiz).is_symlink():
                refused.append(entry.name)
                continue
            found[entry.name] = _timestamp(entry / quiz)
    return found, refused


def ensure_assignment(course: Path, quiz: str, url: str) -> bool:
    """Put ``quiz`` in the gradebook when it has no notebooks there; True if it was generated."""
    from nbgrader.api import Gradebook, MissingEntry

    from attnkit.grading.course.nbgrader_cli import nbgrader
    from attnkit.grading.queue.worker import scratch_course

    with Gradebook(url) as gb:
        try:
            if gb.find_assignment(quiz).notebooks:
                return False
        except MissingEntry:
            pass
    folder = Path(tempfile.mkdtemp(prefix="attnkit-queue-generate-"))
    try:
        import os

        scratch = scratch_course(course, folder / "course")
        old = os.environ.get(ENV)
        os.environ[ENV] = libpq_url(url)
        try:
            nbgrader(["generate_assignment", quiz, "--force"], scratch)
        finally:
            if old is None:
                os.environ.pop(ENV, None)
            else:
                os.environ[ENV] = old
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return True


def submit(course: Path, quiz: str, url: str, submitted: Path | None = None) -> Submitted:
    """Enqueue the submissions of ``quiz`` (see the module docstring)."""
    from procrastinate.exceptions import AlreadyEnqueued

    found, refused = find_submissions(Path(submitted or course / "submitted"), quiz)
    out = Submitted(refused=refused)
    if not found:
        return out
    ensure_assignment(course, quiz, url)
    app = make_app(url)
    with app.open(), connect(url) as conn:
        jobs: dict[str, list[tuple[int, str, str]]] = {}
        for job_id, status, student, stamp in conn.execute(
                "SELECT id, status::text, args->>'student', args->>'submitted_at' FROM procrastinate_jobs "
                "WHERE task_name = %s AND args->>'quiz' = %s ORDER BY id DESC", (TASK, quiz)):
            jobs.setdefault(student, []).append((job_id, status, stamp))
        new: list[tuple[str, bool, object]] = []  # (student, replaced an older one, the job)
        for student, stamp in found.items():
            mine = jobs.get(student, [])
            if any(s == stamp and status in ("todo", "doing", "succeeded") for _, status, s in mine):
                out.unchanged.append(student)
                continue
            waiting = [job_id for job_id, status, _ in mine if status == "todo"]
            for job_id in waiting:
                app.job_manager.cancel_job_by_id(job_id)
            job = app.configure_task(TASK, queueing_lock=lock_of(quiz, student), lock=lock_of(quiz, student)) \
                .make_new_job(quiz=quiz, student=student, submitted_at=stamp)
            new.append((student, bool(waiting), job))
        try:  # one statement for the whole class
            app.job_manager.batch_defer_jobs([job for _, _, job in new])
            deferred = new
        except AlreadyEnqueued:  # another submit got there first for some: one at a time
            deferred = []
            for student, replaced, job in new:
                try:
                    app.job_manager.defer_job(job)
                    deferred.append((student, replaced, job))
                except AlreadyEnqueued:
                    out.unchanged.append(student)
        for student, replaced, _ in deferred:
            (out.replaced if replaced else out.enqueued).append(student)
    return out
