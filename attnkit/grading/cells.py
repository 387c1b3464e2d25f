"""nbgrader's cells, read and written in one place (build script, grader, feedback, bundle, tests).

nbgrader keeps what a cell is in ``cell.metadata["nbgrader"]``: its ``grade_id``, whether it is a
learner's answer (``solution``), an autograder test worth ``points`` (``grade``), or read-only
(``locked``). Inside a cell's source, ``### BEGIN HIDDEN TESTS`` ... ``### END HIDDEN TESTS``
marks the tests the release and the feedback never show, ``### BEGIN SOLUTION`` ...
``### END SOLUTION`` the instructor's answer: :func:`marked_regions` finds them and
:func:`strip_hidden_tests` is the one place that removes hidden tests from a source.
"""
from __future__ import annotations

from typing import Any

import nbformat

__all__ = ["nbgrader_metadata", "meta", "grade_id", "is_solution", "is_test", "is_setup", "points", "cells_by_id",
           "HIDDEN", "SOLUTION", "HIDDEN_PLACEHOLDER", "marked_regions", "strip_hidden_tests"]

HIDDEN, SOLUTION = "HIDDEN TESTS", "SOLUTION"  # the kinds of marked region
HIDDEN_PLACEHOLDER = "# (hidden tests ran here; their messages are shown below)"


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


def _marked_lines(lines: list[str], kind: str) -> list[tuple[int, int]]:
    """(first, last) line indices of each region of ``kind``, delimiters included. A region whose
    END is missing runs to the end of the source (what follows BEGIN is never shown by mistake)."""
    found, start = [], None
    for i, line in enumerate(lines):
        if start is None and f"### BEGIN {kind}" in line:
            start = i
        elif start is not None and f"### END {kind}" in line:
            found.append((start, i))
            start = None
    if start is not None:
        found.append((start, len(lines) - 1))
    return found


def marked_regions(source: str, kinds: tuple[str, ...] = (HIDDEN, SOLUTION)) -> list[tuple[str, str]]:
    """``(kind, text between the delimiters)`` of every hidden-test or solution region of ``source``."""
    lines = source.split("\n")
    return [(kind, "\n".join(lines[a + 1:b] if "### END" in lines[b] else lines[a + 1:b + 1]))
            for kind in kinds for a, b in _marked_lines(lines, kind)]


def strip_hidden_tests(source: str, placeholder: str | None = None) -> str:
    """``source`` without its hidden-test regions (delimiters included), as the release shows it.

    Args:
        source: a test cell's source.
        placeholder: if given, the line left where each region was (with the BEGIN line's indent).

    Returns:
        The source with every line of every hidden region removed.
    """
    lines = source.split("\n")
    regions = _marked_lines(lines, HIDDEN)
    kept: list[str] = []
    previous = 0
    for a, b in regions:
        kept += lines[previous:a]
        if placeholder is not None:
            kept.append(lines[a][: len(lines[a]) - len(lines[a].lstrip())] + placeholder)
        previous = b + 1
    return "\n".join(kept + lines[previous:])
