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
from typing import Any

from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Bool, Float, Integer

from attnkit.grading.grader import sandbox
from attnkit.grading.grader.judge import _nbgrader, _visible, combine_status, judge_notebook, write_status_row

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
                    _visible(known[grade_id].source).strip():
                notes.append(f"test cell {grade_id} edited")
        for name, cell in known.items():
            if name not in seen and cell.locked and cell.cell_type == "code":
                notes.append(f"test cell {name} deleted")
        if notes:
            nb.metadata.setdefault("attnkit", {})["triage"] = notes
        return nb, resources


class JudgeInSandbox(NbGraderPreprocessor):
    """Replaces nbgrader's ``Execute``: the notebook runs in a sandbox, the test cells are judged
    in the grader (see :func:`judge_notebook`); each test cell's output is the verdict."""

    timeout = Integer(60, help="seconds per cell").tag(config=True)
    memory_mb = Integer(4096, help="address-space limit of the grading kernel (MiB)").tag(config=True)
    allow_unsandboxed = Bool(False, help="grade without a sandbox when bubblewrap cannot run").tag(config=True)
    cpu_factor = Float(10.0, help="CPU-seconds limit = cpu_factor x timeout").tag(config=True)

    def preprocess(self, nb: Any, resources: dict) -> tuple[Any, dict]:
        timeout = self.timeout
        try:  # honour --Execute.timeout given on the command line
            timeout = int(self.parent.config.Execute.get("timeout", timeout)) if self.parent else timeout
        except Exception:
            pass
        triage = nb.metadata.get("attnkit", {}).get("triage", [])
        limits = sandbox.Limits(memory_mb=self.memory_mb, cpu_s=int(timeout * self.cpu_factor))
        result = judge_notebook(nb, cell_timeout=timeout, limits=limits, allow_unsandboxed=self.allow_unsandboxed)
        notes = result.notes + (["test cells restored"] if triage else [])
        resources.setdefault("attnkit", {}).update(
            status=combine_status(notes), notes=notes + triage, flags=result.flags,
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
        filed = _FILED.get((info.get("student"), info.get("assignment")), [])  # renamed, by triage_files
        if filed:
            judged = {**judged, "notes": list(dict.fromkeys(judged.get("notes", []) + filed))}
            judged["status"] = combine_status(judged["notes"] + [judged.get("status", "graded")])
        status = judged.get("status", "graded")
        text = f"attnkit grading status: {status}"
        if judged.get("flags"):
            text += "\nflags (for review; they do not change the grade):\n" + "\n".join(
                f"- {f}" for f in judged["flags"])
        if judged.get("notes"):
            text += "\nnotes: " + "; ".join(judged["notes"])
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
            "flags": " | ".join(judged.get("flags", []))})
        return nb, resources


# nbgrader's pre-convert hook (c.Autograde.pre_convert_hook): what grade-class's triage does, for
# plain `nbgrader autograde` too. nbgrader calls it for each submission folder with the list of
# notebooks it is about to convert (``student`` is the command's pattern, not the student: the
# folder says who it is); the list is edited in place.
_FILED: dict[tuple[str, str], list[str]] = {}  # (student, quiz) -> triage notes, read by RecordStatus


def triage_files(assignment: str, student: str, notebooks: list[str], **_: Any) -> None:
    """Before a submission is converted: a notebook saved under another name is graded as
    ``<quiz>.ipynb`` (status *renamed*); a file that is not a notebook gets 0 points, is flagged in
    the gradebook and has the status *malformed* (nbgrader then logs that it cannot read it, and
    goes on with the next student)."""
    from pathlib import Path

    from attnkit.grading.course.classgrade import _config, _mark, triage

    if not notebooks:
        return
    folder = Path(notebooks[0]).parent
    who, quiz = folder.parent.name, folder.name
    course = Path.cwd()  # nbgrader runs the hooks in the course directory
    done = triage(course, quiz, [who])[0]
    _FILED[(who, quiz)] = done.notes
    if done.ok:
        notebooks[:] = [str(folder / f"{quiz}.ipynb")]
        return
    notes = "; ".join(done.notes)
    _mark(course, _config(course, None, False), quiz, who, "attnkit grading status: malformed\n" + notes, zero=True)
    write_status_row(course, {"student_id": who, "assignment": quiz, "score": "0", "max_score": "",
                              "status": "malformed", "notes": notes, "flags": ""})


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
