"""An instructor's nbgrader steps for one course, in one process (what the formgrader's buttons call).

    cd <course folder> && python <repo>/attnkit/classroom/course_tasks.py roster=ada,bob \
        generate=q4_qkv_math release=q4_qkv_math collect=q4_qkv_math autograde=q4_qkv_math feedback=q4_qkv_math

(run as a file, it imports nbgrader only, not the attnkit package and its torch).

Each step calls ``nbgrader.apps.NbGraderAPI`` with the course's own configuration (its nbgrader_config.py,
the exchange where ``ATTNKIT_NGSHARE_URL`` is set); one process saves the few seconds of start-up each
``nbgrader`` command costs. Prints one JSON object: step -> nbgrader's result (``success``, ``log``);
exits 1 if a step failed.

* ``roster=a,b`` or ``roster=[["a", "First", "Last"], ...]`` (JSON, with the LMS's names): the students
  in the gradebook (opening it the first time creates its tables and,
  with ``alembic`` on PATH, stamps the alembic head: the PostgreSQL bootstrap of docs/deploy.md);
* ``generate=q``, ``release=q``: nbgrader's generate_assignment and release_assignment;
* ``collect=q``: the latest submission of each student from the exchange into submitted/;
* ``autograde=q``: every collected student (sandboxed and judged: nbgrader_config.py's preprocessors);
* ``feedback=q``: generate_feedback, then release_feedback to the exchange;
* ``release_feedback=q``: release_feedback only (the grading queue's workers made the pages).
"""
from __future__ import annotations

import json
import os
import sys

__all__ = ["main", "run_step"]


def _api():
    from nbgrader.apps import NbGraderAPI
    from nbgrader.apps.baseapp import NbGrader
    from nbgrader.coursedir import CourseDirectory

    app = NbGrader()
    app.config_file_paths.append(os.getcwd())
    app.load_config_file()
    coursedir = CourseDirectory(parent=app)
    return NbGraderAPI(coursedir, parent=app)


def run_step(api, step: str, value: str) -> dict:
    """One step (``roster``, ``generate``, ``release``, ``collect``, ``autograde``, ``feedback``,
    ``release_feedback``)."""
    if step == "roster":
        rows = json.loads(value) if value.startswith("[") else [[s, s, ""] for s in value.split(",") if s]
        with api.gradebook as gb:
            for student, first, last in rows:
                gb.update_or_create_student(student, first_name=first, last_name=last)
        return {"success": True}
    if step == "generate":
        return api.generate_assignment(value, force=True, create=True)
    if step == "release":
        return api.release_assignment(value)
    if step == "collect":
        return api.collect(value, update=True)
    if step == "autograde":
        results = {s: api.autograde(value, s) for s in _submitted(api, value)}
        return {"success": all(r["success"] for r in results.values()), "students": sorted(results),
                "log": "".join(r.get("log", "") for r in results.values())}
    if step == "release_feedback":
        return api.release_feedback(value)
    if step == "feedback":
        made = api.generate_feedback(value)
        if not made["success"]:
            return made
        return api.release_feedback(value)
    raise ValueError(f"unknown step {step!r}")


def _submitted(api, assignment: str) -> list[str]:
    """The students with a collected submission of ``assignment`` (folders of submitted/)."""
    root = os.path.join(api.coursedir.root, api.coursedir.submitted_directory)
    return sorted(s for s in os.listdir(root) if os.path.isdir(os.path.join(root, s, assignment)))


def main(argv: list[str]) -> int:
    api = _api()
    results = {}
    for arg in argv:
        step, _, value = arg.partition("=")
        result = run_step(api, step, value)
        results[arg] = {"success": bool(result.get("success")), "log": result.get("log", ""),
                        "error": result.get("error", ""), **({"students": result["students"]}
                                                             if "students" in result else {})}
        if not result.get("success"):
            break
    print(json.dumps(results))
    return 0 if all(r["success"] for r in results.values()) else 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
