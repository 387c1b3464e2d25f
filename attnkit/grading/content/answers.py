"""The answer key of the conceptual questions, read from the one place it lives: the hidden tests.

The package a learner installs holds no answer (see :mod:`attnkit.grading.content.questions`). Each
question's hidden test passes its key to the check, as ``check_choice(answer, question_id,
expected=..., wrong={...}, hint=...)`` or ``check_number(...)`` with the same keywords. This module
is the one reader of that key (for the demo class and the tests): it runs the solution notebook's
setup, solution and answer-test cells with stand-ins for the two checks that record what they are
given. Only run it on the instructor's own solution notebooks.
"""
from __future__ import annotations

from typing import Any
from unittest import mock

import nbformat

from attnkit.grading import checks
from attnkit.grading.cells import grade_id, is_solution, is_test
from attnkit.grading.content import questions

__all__ = ["answer_key", "answer_cells"]


def answer_cells(nb: nbformat.NotebookNode) -> list[str]:
    """The grade ids of the answer cells (``answer_<x>``), in notebook order."""
    return [grade_id(c) for c in nb.cells if is_solution(c) and (grade_id(c) or "").startswith("answer_")]


def answer_key(nb: nbformat.NotebookNode) -> dict[str, dict[str, Any]]:
    """``{question id: {"cell": answer variable, "expected": ..., "wrong": {...}, ("hint": ...)}}``
    for every question of a solution notebook whose hidden test passes ``expected=``."""
    key: dict[str, dict[str, Any]] = {}
    cell_id = ""

    def record(answer: Any, question_id: str, **kwargs: Any) -> None:
        if "expected" in kwargs:
            key[question_id] = {"cell": cell_id.removeprefix("test_"), **kwargs}

    namespace: dict[str, Any] = {}
    with mock.patch.object(checks, "check_choice", record), mock.patch.object(checks, "check_number", record), \
            mock.patch.object(questions, "check_choice", record), mock.patch.object(questions, "check_number", record):
        for cell in nb.cells:
            cell_id = grade_id(cell) or ""
            answer_test = is_test(cell) and cell_id.startswith("test_answer_")
            runs = is_solution(cell) or cell_id.startswith("setup") or answer_test
            if cell.cell_type == "code" and runs:
                exec(compile(cell.source, f"<{cell_id}>", "exec"), namespace)  # noqa: S102 (instructor's notebook)
    return key
