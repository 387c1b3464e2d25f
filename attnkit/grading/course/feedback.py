"""Feedback that teaches without giving hidden tests away (an nbgrader preprocessor).

nbgrader 0.9's ``generate_feedback`` renders the autograded notebook as it ran: the test cells
hold the hidden tests that ``autograde`` put back, and a failing cell shows its full traceback,
which quotes the hidden line that failed. ``HideHiddenTests`` runs inside ``generate_feedback``
(see ``nbgrader_config.py``) and, in every autograder test cell:

1. removes the ``### BEGIN HIDDEN TESTS`` ... ``### END HIDDEN TESTS`` region from the source and
   leaves a one-line comment in its place;
2. replaces each error output by a short one that keeps only the exception's name and message
   (the misconception the check named), never the traceback.

Solution cells (the learner's own code) are left as they are: their tracebacks show only the
learner's code.
"""
from __future__ import annotations

from typing import Any

from nbformat.notebooknode import NotebookNode
from nbgrader import utils
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Unicode

__all__ = ["HideHiddenTests", "strip_hidden_region", "HIDDEN_PLACEHOLDER"]

HIDDEN_PLACEHOLDER = "# (hidden tests ran here; their messages are shown below)"
BEGIN_HIDDEN = "BEGIN HIDDEN TESTS"
END_HIDDEN = "END HIDDEN TESTS"


def strip_hidden_region(source: str, placeholder: str = HIDDEN_PLACEHOLDER) -> str:
    """Return ``source`` with every hidden-test region replaced by ``placeholder``.

    Args:
        source: a cell's source text.
        placeholder: the line left where a hidden region was (indentation is kept).

    Returns:
        The source without any line of a hidden region, delimiters included.
    """
    kept: list[str] = []
    inside = False
    for line in source.split("\n"):
        if BEGIN_HIDDEN in line:
            inside = True
            indent = line[: len(line) - len(line.lstrip())]
            kept.append(indent + placeholder)
        elif END_HIDDEN in line:
            inside = False
        elif not inside:
            kept.append(line)
    return "\n".join(kept)


def _short_error(output: NotebookNode) -> NotebookNode:
    """One error output reduced to ``Name: message`` with no traceback frames."""
    ename = output.get("ename", "Error")
    evalue = output.get("evalue", "")
    line = f"{ename}: {evalue}" if evalue else ename
    return NotebookNode(output_type="error", ename=ename, evalue=evalue, traceback=[line])


class HideHiddenTests(NbGraderPreprocessor):
    """Strip hidden tests and traceback frames from autograder test cells before rendering."""

    placeholder = Unicode(HIDDEN_PLACEHOLDER, help="Line left where a hidden region was.").tag(
        config=True
    )

    def preprocess_cell(
        self, cell: NotebookNode, resources: dict[str, Any], cell_index: int
    ) -> tuple[NotebookNode, dict[str, Any]]:
        if cell.cell_type != "code" or not utils.is_grade(cell) or utils.is_solution(cell):
            return cell, resources
        cell.source = strip_hidden_region(cell.source, self.placeholder)
        cell.outputs = [
            _short_error(out) if out.get("output_type") == "error" else out for out in cell.outputs
        ]
        return cell, resources
