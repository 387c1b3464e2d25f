"""Feedback pages point each miss at the lesson sections that teach it (an nbgrader preprocessor).

``RevisitSections`` runs inside ``nbgrader generate_feedback`` after ``GetGrades`` (which puts each
cell's points in its metadata) and ``HideHiddenTests`` (see ``nbgrader_config.py``). Under every
autograder test cell that did not earn its points it adds one line of output::

    Revisit: lesson 4, §1 One query, three keys, three values; lesson 4, §4 Build it yourself

read from the teaching map (:func:`attnkit.grading.content.teaching_map.revisit_line`; ``attnkit
grade`` writes the same lines into the learner's own feedback page). The line holds lesson
headings only: nothing of the hidden tests, the answer key or another submission.
"""
from __future__ import annotations

from typing import Any

from nbformat.notebooknode import NotebookNode
from nbgrader import utils
from nbgrader.preprocessors import NbGraderPreprocessor

from attnkit.grading.content.teaching_map import revisit_line

__all__ = ["RevisitSections", "revisit_line", "missed"]


def missed(cell: NotebookNode) -> bool:
    """Whether an autograder test cell lost points: its score from the gradebook, else an error output."""
    meta = cell.metadata.get("nbgrader", {})
    if meta.get("score") is not None and meta.get("points") is not None:
        return float(meta["score"]) < float(meta["points"])
    return any(out.get("output_type") == "error" for out in cell.get("outputs", []))


class RevisitSections(NbGraderPreprocessor):
    """Add the lesson sections to revisit under every test cell that lost points."""

    def preprocess_cell(self, cell: NotebookNode, resources: dict[str, Any],
                        cell_index: int) -> tuple[NotebookNode, dict[str, Any]]:
        if cell.cell_type != "code" or not utils.is_grade(cell) or utils.is_solution(cell) or not missed(cell):
            return cell, resources
        quiz = resources.get("nbgrader", {}).get("assignment", "")
        line = revisit_line(quiz, cell.metadata.get("nbgrader", {}).get("grade_id", ""))
        if line:
            cell.outputs = [*cell.outputs, NotebookNode(output_type="stream", name="stdout", text=line + "\n")]
        return cell, resources
