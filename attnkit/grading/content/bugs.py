"""The catalogue of typical bugs, as one list: what learners get wrong, and the feedback they get.

Each bug is declared next to its exercise, in ``attnkit/grading/content/exercises/<quiz_id>.py`` (see
:mod:`attnkit.grading.content.catalogue`): an id, the message the checks print when they recognise it,
and a buggy implementation. The implementation serves twice:

* the checks run it on the same inputs as the learner's function; if the learner's output matches
  the buggy output (and not the right one), the check raises this bug's message. Messages name the
  mistake and point at the idea, never at the answer.
* the tests inject it into the solution notebook (:func:`inject`) and prove that nbgrader takes
  points off and that the feedback names the misconception.

List the catalogue with ``attnkit bugs`` or ``python -m attnkit.grading.content.bugs``;
``python -m attnkit.grading.content.bugs --markdown`` prints the table of docs/grading.md.
"""
from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

import nbformat

from attnkit.grading.cells import cells_by_id
from attnkit.grading.content import catalogue
from attnkit.grading.content.catalogue import Bug
from attnkit.grading.content.quizzes import QUIZ_IDS

__all__ = ["Bug", "BUGS", "bugs_for", "buggy_function", "inject", "markdown_table"]

BUGS: dict[str, Bug] = catalogue.bugs()


def bugs_for(quiz: str, exercise: str | None = None) -> list[Bug]:
    """The catalogued bugs of one quiz (and, if given, one exercise), in catalogue order."""
    return list(catalogue.bugs(quiz, exercise).values())


def buggy_function(bug_id: str, namespace: dict[str, Any] | None = None) -> Callable[..., Any]:
    """Define the buggy implementation of ``bug_id`` and return it (see :meth:`Bug.function`)."""
    return BUGS[bug_id].function(namespace)


def inject(nb: nbformat.NotebookNode, bug_ids: list[str]) -> nbformat.NotebookNode:
    """A copy of ``nb`` with each bug's source in place of its exercise's solution cell.

    Raises:
        KeyError: an exercise has no solution cell in ``nb``, or two bugs hit the same exercise.
    """
    nb = nbformat.from_dict(nb)
    cells = cells_by_id(nb)
    hit: set[str] = set()
    for bug_id in bug_ids:
        bug = BUGS[bug_id]
        if bug.exercise not in cells or bug.exercise in hit:
            raise KeyError(f"cannot inject {bug_id!r}: no free solution cell {bug.exercise!r}")
        cells[bug.exercise].source = bug.source.strip("\n")
        hit.add(bug.exercise)
    return nb


def markdown_table() -> str:
    """The quizzes' bug table of docs/grading.md, generated from the catalogue (a test compares them)."""
    rows = ["| bug | quiz | exercise |", "|---|---|---|"]
    rows += [f"| `{b.id}` | {b.quiz} | `{b.exercise}` |" for b in BUGS.values() if b.quiz in QUIZ_IDS]
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    """Print the catalogue (or, with ``--markdown``, the docs table)."""
    if "--markdown" in (sys.argv[1:] if argv is None else argv):
        print(markdown_table())
        return 0
    for bug in BUGS.values():
        print(f"{bug.id}  ({bug.quiz}, {bug.exercise})\n    {bug.message}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
