"""The instructor's cells: what the grader executes, taken from the instructor, never from a submission.

A submission's cells are all learner code, whatever their metadata says: they run only in the
sandboxed kernel. The grader's own cells come from the instructor's source, matched by grade id:

* *test cells* (hidden tests included) run in the grader, where their checks decide the points;
* *set-up cells* (locked code cells that are neither tests nor answers) run in the kernel, so
  that the learner's code has what they import, and in the grader, so that the test cells do.

``nbgrader autograde`` and ``attnkit grade-class`` read them from nbgrader's gradebook (the source
cells ``nbgrader generate_assignment`` stored); ``attnkit grade`` from the instructor's notebook.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from attnkit.grading.cells import grade_id, is_setup, is_test

__all__ = ["InstructorCells"]


@dataclass(frozen=True)
class InstructorCells:
    """Sources of the instructor's test and set-up cells, by grade id."""

    tests: dict[str, str] = field(default_factory=dict)
    setup: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_notebook(cls, nb: Any) -> InstructorCells:
        """From the instructor's notebook (``solutions/<quiz>/<quiz>.ipynb``, or a release's cells)."""
        return cls({grade_id(c): c.source for c in nb.cells if is_test(c) and grade_id(c)},
                   {grade_id(c): c.source for c in nb.cells if is_setup(c) and grade_id(c)})

    @classmethod
    def from_gradebook(cls, db_url: str, notebook: str, assignment: str) -> InstructorCells:
        """From the source cells nbgrader stored for ``notebook`` of ``assignment``.

        Raises:
            nbgrader.api.MissingEntry: the gradebook does not know that notebook.
        """
        from nbgrader.api import Gradebook

        with Gradebook(db_url) as gb:
            found = gb.find_notebook(notebook, assignment)
            graded = {c.name for c in found.grade_cells}
            answers = {c.name for c in found.solution_cells}
            tests, setup = {}, {}
            for cell in found.source_cells:
                if cell.cell_type != "code":
                    continue
                if cell.name in graded and cell.name not in answers:
                    tests[cell.name] = cell.source
                elif cell.locked and cell.name not in graded and cell.name not in answers:
                    setup[cell.name] = cell.source
        return cls(tests, setup)

    def role(self, cell: Any, seen: set[str]) -> tuple[str, str]:
        """("test" | "setup" | "learner", the source to use) of a submission's code cell; ``seen``:
        the grade ids given a role so far (a second cell with the same id is learner code)."""
        gid = grade_id(cell)
        if gid is not None and gid not in seen:
            for role, sources in (("test", self.tests), ("setup", self.setup)):
                if gid in sources:
                    seen.add(gid)
                    return role, sources[gid]
        return "learner", cell.source
