"""nbgrader's cell metadata, read and written in one place (build script, tests, bug injection, demo).

nbgrader keeps what a cell is in ``cell.metadata["nbgrader"]``: its ``grade_id``, whether it is a
learner's answer (``solution``), an autograder test worth ``points`` (``grade``), or read-only
(``locked``).
"""
from __future__ import annotations

from typing import Any

import nbformat

__all__ = ["nbgrader_metadata", "meta", "grade_id", "is_solution", "is_test", "is_setup", "points", "cells_by_id"]


def nbgrader_metadata(grade_id: str, *, grade: bool = False, solution: bool = False, locked: bool = False,
                      points: float | None = None) -> dict[str, Any]:
    """The ``metadata["nbgrader"]`` of a new cell (schema 3, as nbgrader 0.9 writes it)."""
    data: dict[str, Any] = {"grade": grade, "grade_id": grade_id, "locked": locked, "schema_version": 3,
                            "solution": solution, "task": False}
    if points is not None:
        data["points"] = points
    return data


def meta(cell: Any) -> dict[str, Any]:
    """A cell's nbgrader metadata; ``{}`` for an ordinary cell."""
    return cell.get("metadata", {}).get("nbgrader", {}) or {}


def grade_id(cell: Any) -> str | None:
    return meta(cell).get("grade_id")


def is_solution(cell: Any) -> bool:
    """A cell the learner writes (an exercise or an answer)."""
    return bool(meta(cell).get("solution"))


def is_test(cell: Any) -> bool:
    """An autograder test cell (a code cell worth points). The one test of it in the package; the
    grader asks it of the instructor's cells only, never of a submission's."""
    return cell.get("cell_type", "code") == "code" and bool(meta(cell).get("grade")) and not is_solution(cell)


def is_setup(cell: Any) -> bool:
    """A locked instructor code cell that is neither a test nor an answer: set-up code."""
    data = meta(cell)
    return cell.get("cell_type", "code") == "code" and bool(data.get("locked")) and not data.get("solution") \
        and not data.get("grade")


def points(cell: Any) -> float:
    return float(meta(cell).get("points", 0.0))


def cells_by_id(nb: nbformat.NotebookNode) -> dict[str, Any]:
    """``{grade_id: cell}`` of the cells that have one."""
    return {grade_id(c): c for c in nb.cells if grade_id(c) is not None}
