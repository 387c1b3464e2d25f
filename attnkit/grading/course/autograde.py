"""nbgrader preprocessors that put judged grading into ``nbgrader autograde`` (see nbgrader_config.py).

* :class:`Triage` (first sanitizing step): notes test cells deleted, duplicated, edited or
  invented; invented grade cells lose their grade metadata (nbgrader restores the real ones);
* :class:`JudgeInSandbox` (replaces nbgrader's ``Execute``): runs the notebook in the sandbox and
  judges its test cells in the grader (:func:`attnkit.grading.grader.judge.judge_notebook`);
* :class:`RecordStatus` (after ``SaveAutoGrades``): the status in the gradebook (flagged for review
  unless *graded*; status and flags as the automatic comment of the first comment cell) and in
  ``grading_status.csv`` beside nbgrader's export.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Bool, Float, Integer

from attnkit.grading.cells import meta as _nbgrader
from attnkit.grading.cells import strip_hidden_tests
from attnkit.grading.course.comment import status_text
from attnkit.grading.course.triage import Triaged, copy_regular_files_only, triage
from attnkit.grading.grader.judge import InstructorCells, combine_status, judge_notebook, write_status_row
from attnkit.grading.limits import DEFAULT, GradingLimits

__all__ = ["Triage", "JudgeInSandbox", "RecordStatus", "triage_files"]


class Triage(NbGraderPreprocessor):
    """First sanitizing step: note test cells deleted, duplicated, edited or invented, and drop
    the grade metadata of invented ones (nbgrader restores and grades the real ones)."""

    def preprocess(self, nb: Any, resources: dict) -> tuple[Any, dict]:
        from nbgrader.api import Gradebook, MissingEntry

        info = resources.get("nbgrader", {})
        notes: list[str] = []
        try:
            with Gradebook(info["db_url"]) as gb:
                known = {c.name: c for c in gb.find_notebook(info["notebook"], info["assignment"]).source_cells}
        except (KeyError, MissingEntry):
            return nb, resources
        seen: set[str] = set()
        for cell in nb.cells:
            meta = _nbgrader(cell)
            grade_id = meta.get("grade_id")
            if not grade_id:
                continue
            if grade_id not in known:
                notes.append(f"invented cell {grade_id}")
                cell.metadata.pop("nbgrader", None)
                continue
            if grade_id in seen:
                notes.append(f"duplicated cell {grade_id}")
                cell.metadata.pop("nbgrader", None)
                cell.source = "# a duplicate of a locked cell, ignored by the grader"
                continue
            seen.add(grade_id)
            if meta.get("grade") and not meta.get("solution") and cell.source.strip() != \
                    strip_hidden_tests(known[grade_id].source).strip():
                notes.append(f"test cell {grade_id} edited")
        for name, cell in known.items():
            if name not in seen and cell.locked and cell.cell_type == "code":
                notes.append(f"test cell {name} deleted")
        if notes:
            nb.metadata.setdefault("attnkit", {})["triage"] = notes
        return nb, resources


class JudgeInSandbox(NbGraderPreprocessor):
    """Replaces nbgrader's ``Execute``: the notebook runs in a sandbox, the instructor's test cells
    (from the gradebook) are judged in the grader (see :func:`judge_notebook`); each test cell's
    output is the verdict. The limits are :mod:`attnkit.grading.limits`' with these two settings."""

    timeout = Float(DEFAULT.cell_s, help="seconds per cell and per call of a learner's function (the notebook "
                                         "and its CPU time get ten times as long)").tag(config=True)
    memory_mb = Integer(DEFAULT.memory_mb, help="address-space limit of the grading kernel (MiB)").tag(config=True)
    allow_unsandboxed = Bool(False, help="grade without a sandbox when bubblewrap cannot run").tag(config=True)

    def preprocess(self, nb: Any, resources: dict) -> tuple[Any, dict]:
        triage = nb.metadata.get("attnkit", {}).get("triage", [])
        info = resources.get("nbgrader", {})
        try:
            source = InstructorCells.from_gradebook(info["db_url"], info["notebook"], info["assignment"])
        except Exception:  # fail closed: with no instructor cells, nothing scores
            source = InstructorCells()
        limits = GradingLimits.for_cell(self.timeout, memory_mb=self.memory_mb)
        result = judge_notebook(nb, source, limits=limits, allow_unsandboxed=self.allow_unsandboxed)
        notes = result.notes + (["test cells restored"] if triage else [])
        resources.setdefault("attnkit", {}).update(
            status=combine_status(notes), notes=notes + triage, flags=result.flags, kernel=result.kernel,
            misconceptions=result.misconceptions)
        result.nb.metadata.pop("attnkit", None)
        return result.nb, resources


class RecordStatus(NbGraderPreprocessor):
    """After SaveAutoGrades: the status in the gradebook (flagged for review, and the status and
    flags as the automatic comment of the notebook's first comment cell) and in grading_status.csv."""

    def preprocess(self, nb: Any, resources: dict) -> tuple[Any, dict]:
        from nbgrader.api import Gradebook

        info = resources.get("nbgrader", {})
        judged = resources.get("attnkit", {})
        filed = _FILED.get((info.get("student"), info.get("assignment")))  # by triage_files
        if filed is not None and (filed.notes or filed.flags):
            judged = {**judged, "notes": list(dict.fromkeys(judged.get("notes", []) + filed.notes)),
                      "flags": list(dict.fromkeys(judged.get("flags", []) + filed.flags))}
            judged["status"] = combine_status(judged["notes"] + [judged.get("status", "graded")])
        status = judged.get("status", "graded")
        text = status_text(status, judged.get("notes", []), judged.get("flags", []))
        score = max_score = ""
        with Gradebook(info["db_url"]) as gb:
            submission = gb.find_submission_notebook(info["notebook"], info["assignment"], info["student"])
            submission.flagged = status != "graded"
            comments = sorted(submission.comments, key=lambda c: c.name)
            if comments:
                comments[0].auto_comment = text
            gb.db.commit()
            score, max_score = submission.score, submission.max_score
        write_status_row(_course_root(self), {
            "student_id": info["student"], "assignment": info["assignment"], "score": f"{score:g}",
            "max_score": f"{max_score:g}", "status": status, "notes": "; ".join(judged.get("notes", [])),
            "flags": " | ".join(judged.get("flags", [])), "kernel": judged.get("kernel", "")})
        return nb, resources


# nbgrader's pre-convert hook (c.Autograde.pre_convert_hook): what grade-class's triage does, for
# plain `nbgrader autograde` too. nbgrader calls it for each submission folder with the list of
# notebooks it is about to convert (``student`` is the command's pattern, not the student: the
# folder says who it is); the list is edited in place.
_FILED: dict[tuple[str, str], Triaged] = {}  # (student, quiz) -> triage, read by RecordStatus


def triage_files(assignment: str, student: str, notebooks: list[str], **_: Any) -> None:
    """Before a submission is converted (see :mod:`attnkit.grading.course.triage`): a notebook saved
    under another name is graded as ``<quiz>.ipynb`` (status *renamed*); links and special files
    are flagged and never copied; a file that is not a notebook, or a notebook that is a link or
    a special file, gets 0 points, is flagged in the gradebook and has the status *malformed*
    (nbgrader converts nothing for it, and goes on with the next student)."""
    copy_regular_files_only()
    if not notebooks:
        return
    folder = Path(notebooks[0]).parent
    who, quiz = folder.parent.name, folder.name
    course = Path.cwd()  # nbgrader runs the hooks in the course directory
    try:
        done = triage(course, quiz, [who])[0]
    except Exception as exc:  # nbgrader would log a failing hook and grade on: fail closed instead
        done = Triaged(who, ["malformed", f"triage failed: {type(exc).__name__}: {exc}"[:300]], False)
    _FILED[(who, quiz)] = done
    if done.ok:
        notebooks[:] = [str(folder / f"{quiz}.ipynb")]
        return
    notebooks[:] = []  # never opened: it may be a link, a FIFO or not JSON
    from attnkit.grading.course.classgrade import _config, _mark

    _mark(course, _config(course, None, False), quiz, who, status_text("malformed", done.notes, done.flags),
          zero=True)
    write_status_row(course, {"student_id": who, "assignment": quiz, "score": "0", "max_score": "",
                              "status": "malformed", "notes": "; ".join(done.notes), "flags": " | ".join(done.flags)})


def _course_root(preprocessor: Any) -> str:
    """The course directory of the nbgrader app running this preprocessor (else the cwd)."""
    node = preprocessor
    for _ in range(6):
        node = getattr(node, "parent", None)
        if node is None:
            break
        coursedir = getattr(node, "coursedir", None)
        if coursedir is not None and getattr(coursedir, "root", None):
            return coursedir.root
    return os.getcwd()
