"""``attnkit grade-class <quiz> --workers N``: a class graded in parallel into nbgrader's gradebook.

In the course directory (the repository root, or any nbgrader course with this
``nbgrader_config.py``), for every ``submitted/<student>/<quiz>/``:

1. triage in this process: a notebook saved under another name is copied to ``<quiz>.ipynb``
   (status *renamed*); a file that is not a notebook (invalid JSON, not nbformat) gets 0 and the
   status *malformed* without being run;
2. N worker processes, forked from a warm, clean parent (a ``forkserver`` that imported nbgrader,
   torch and the checks once, and never ran a student's code or a torch operation: forking it is
   safe), run nbgrader's own autograde for one student at a time through
   ``NbGraderAPI`` (the same preprocessors as ``nbgrader autograde``: every student's kernel is a
   fresh sandbox, the test cells are judged in the worker), then that student's feedback;
3. ``nbgrader export`` to ``grades.csv`` and the statuses in ``grading_status.csv`` beside it
   (and in the gradebook: the notebook is flagged for review unless its status is *graded*, and
   the status and flags are the automatic comment of its first comment cell).

One broken submission never stops the batch: an error is that student's status. (From a script,
call :func:`grade_class` under ``if __name__ == "__main__":``, as for any multiprocessing pool.)
"""
from __future__ import annotations

import csv
import multiprocessing
import os
import shutil
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat

from attnkit.grading import judge

__all__ = ["grade_class", "triage", "main"]


@dataclass
class Triaged:
    student: str
    notes: list[str]
    ok: bool  # run it through nbgrader


def triage(course: Path, quiz: str, students: Sequence[str]) -> list[Triaged]:
    """Renamed and malformed submissions, decided without running them."""
    out = []
    for student in students:
        folder = course / "submitted" / student / quiz
        expected = folder / f"{quiz}.ipynb"
        notes: list[str] = []
        if not expected.exists():
            candidates = sorted(folder.glob("*.ipynb"))
            if not candidates:
                out.append(Triaged(student, ["malformed", f"no notebook in submitted/{student}/{quiz}/"], False))
                continue
            shutil.copy2(candidates[0], expected)  # the original stays where the student put it
            notes += ["renamed", f"notebook was named {candidates[0].name}"]
        try:
            nb = nbformat.read(expected, as_version=4)
            nbformat.validate(nb)
            if not isinstance(nb.cells, list):
                raise ValueError("no cells")
        except Exception as exc:  # any unreadable file: malformed, never run
            why = f"not a valid notebook: {type(exc).__name__}: {exc}"[:300]
            out.append(Triaged(student, ["malformed", why], False))
            continue
        out.append(Triaged(student, notes, True))
    return out


_API: Any = None
_QUIZ = ""


def _config(course: Path, timeout: int | None, allow_unsandboxed: bool) -> Any:
    from traitlets.config.loader import PyFileConfigLoader

    cfg = PyFileConfigLoader("nbgrader_config.py", path=str(course)).load_config()
    cfg.CourseDirectory.root = str(course)
    if timeout:
        cfg.JudgeInSandbox.timeout = int(timeout)
    if allow_unsandboxed:
        cfg.JudgeInSandbox.allow_unsandboxed = True
    return cfg


def _api(course: Path, cfg: Any) -> Any:
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory

    return NbGraderAPI(coursedir=CourseDirectory(config=cfg), config=cfg)


WARM = ["nbgrader.apps", "nbgrader.preprocessors", "nbconvert", "torch", "attnkit.grading.engine",
        "attnkit.grading.checks", "attnkit.grading.judge", "attnkit.grading.autograde"]


def _init_worker(course: str, quiz: str, timeout: int | None, allow_unsandboxed: bool) -> None:
    global _API, _QUIZ
    os.chdir(course)
    _API, _QUIZ = _api(Path(course), _config(Path(course), timeout, allow_unsandboxed)), quiz


def _grade_one(student: str) -> tuple[str, dict[str, Any], float]:
    start = time.perf_counter()
    result: dict[str, Any] = {}
    for attempt in range(3):  # sqlite may be busy with another worker's write
        try:
            result = _API.autograde(_QUIZ, student, force=True, create=True)
        except Exception as exc:  # never let one student stop the batch
            result = {"success": False, "error": f"{type(exc).__name__}: {exc}", "log": ""}
        if result.get("success") or "locked" not in str(result.get("error", "")) + str(result.get("log", "")):
            break
        time.sleep(0.5 * (attempt + 1))
    if result.get("success"):
        try:
            _API.generate_feedback(_QUIZ, student, force=True)
        except Exception as exc:
            result["feedback_error"] = str(exc)
    return student, {k: str(v)[-2000:] for k, v in result.items()}, time.perf_counter() - start


def _mark(course: Path, cfg: Any, quiz: str, student: str, text: str, zero: bool) -> None:
    """Flag a submission for review in the gradebook, with ``text`` as its automatic comment;
    ``zero``: it could not be run, so it gets an entry with 0 points."""
    from nbgrader.api import Gradebook
    from nbgrader.coursedir import CourseDirectory

    with Gradebook(CourseDirectory(config=cfg).db_url, CourseDirectory(config=cfg).course_id) as gb:
        gb.update_or_create_student(student)
        submission = gb.update_or_create_submission(quiz, student) if zero else \
            gb.find_submission(quiz, student)
        for notebook in submission.notebooks:
            notebook.flagged = True
            if zero:
                for grade in notebook.grades:
                    grade.auto_score = 0
                    grade.needs_manual_grade = False
            comments = sorted(notebook.comments, key=lambda c: c.name)
            if comments:
                comments[0].auto_comment = text
        gb.db.commit()


def export(course: Path, cfg: Any, to: str = "grades.csv") -> Path:
    """nbgrader's CSV export (the same plugin ``nbgrader export`` uses)."""
    from nbgrader.api import Gradebook
    from nbgrader.coursedir import CourseDirectory
    from nbgrader.plugins import CsvExportPlugin

    path = course / to
    with Gradebook(CourseDirectory(config=cfg).db_url, CourseDirectory(config=cfg).course_id) as gb:
        CsvExportPlugin(to=str(path)).export(gb)
    return path


def grade_class(quiz: str, course_dir: str | Path = ".", workers: int = 2, timeout: int | None = None,
                allow_unsandboxed: bool = False, students: Sequence[str] | None = None,
                feedback: bool = True) -> list[dict[str, str]]:
    """Grade every submission of ``quiz`` in ``course_dir``; returns the status rows (one per student)."""
    course = Path(course_dir).resolve()
    from attnkit.grading import sandbox

    sandbox.check_available(allow_unsandboxed)  # refuse loudly before anything runs
    cfg = _config(course, timeout, allow_unsandboxed)
    if students is None:
        students = sorted(p.name for p in (course / "submitted").iterdir() if (p / quiz).is_dir()) \
            if (course / "submitted").is_dir() else []
    triaged = triage(course, quiz, students)
    runnable = [t.student for t in triaged if t.ok]
    outcomes: dict[str, dict[str, Any]] = {}
    if runnable:
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(WARM)  # imported once; every worker is forked from there
        with context.Pool(max(1, min(workers, len(runnable))), initializer=_init_worker,
                          initargs=(str(course), quiz, timeout, allow_unsandboxed)) as pool:
            for student, outcome, seconds in pool.imap_unordered(_grade_one, runnable):
                outcomes[student] = {**outcome, "seconds": seconds}
    statuses = judge.read_status(course)
    rows = []
    for t in triaged:
        row = dict(statuses.get((t.student, quiz), {}))
        if not t.ok:
            _mark(course, cfg, quiz, t.student, "attnkit grading status: malformed\n" + "; ".join(t.notes), zero=True)
            row = {"student_id": t.student, "assignment": quiz, "score": "0", "max_score": "", "status": "malformed",
                   "notes": "; ".join(t.notes), "flags": ""}
        elif not outcomes.get(t.student, {}).get("success") == "True" or not row:
            error = outcomes.get(t.student, {}).get("error", "") or "no result"
            row = {"student_id": t.student, "assignment": quiz, "score": row.get("score", "0"),
                   "max_score": row.get("max_score", ""), "status": "crashed",
                   "notes": f"nbgrader could not grade it: {error}"[:500], "flags": row.get("flags", "")}
        if t.notes and t.ok:
            notes = [n for n in row.get("notes", "").split("; ") if n] + t.notes
            row["notes"] = "; ".join(dict.fromkeys(notes))
            row["status"] = judge.combine_status(notes + [row.get("status", "graded")])
            text = f"attnkit grading status: {row['status']}\nnotes: {row['notes']}"
            if row.get("flags"):
                text += "\nflags (for review; they do not change the grade):\n" + row["flags"].replace(" | ", "\n")
            _mark(course, cfg, quiz, t.student, text, zero=False)
        judge.write_status_row(course, row)
        rows.append(row)
    export(course, cfg)
    return rows


def main(quiz: str, course_dir: str = ".", workers: int = 2, timeout: int | None = None,
         allow_unsandboxed: bool = False) -> int:
    start = time.perf_counter()
    rows = grade_class(quiz, course_dir, workers, timeout, allow_unsandboxed)
    seconds = time.perf_counter() - start
    print(f"{quiz}: {len(rows)} submissions graded in {seconds:.1f} s with {workers} workers")
    print(f"  {'student':24} {'score':>7}  status")
    for row in sorted(rows, key=lambda r: r["student_id"]):
        flags = f"  flags: {row['flags'][:100]}" if row.get("flags") else ""
        print(f"  {row['student_id']:24} {row['score']:>3}/{row.get('max_score') or '?':<3}  {row['status']}{flags}")
    course = Path(course_dir)
    print(f"\ngrades: {course / 'grades.csv'}\nstatuses: {course / judge.STATUS_FILE}\n"
          f"feedback: {course / 'feedback'}/<student>/{quiz}/")
    return 0 if all(r["status"] == "graded" for r in rows) else 1


def _csv_rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
