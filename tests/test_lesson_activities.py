"""Every lesson's activities, checked three ways: as shipped, all solved, and with a wrong answer.

A lesson cell that holds an activity carries the tag ``activity:<id>`` (see :mod:`attnkit.activities`):
the cell where the learner writes a function (``check`` runs it) or the cell where they write a
guess or a knob's answer (a later cell calls ``reveal``). The slow tests build a copy of each
lesson and run it under nbval in a fresh kernel:

* **shipped**: as the learner gets it; every coding activity says "not done", every prediction
  "no guess", and the lesson still runs to the end;
* **solved**: each function replaced by the worked solution that ``solution(<id>)`` shows (kept in
  ``attnkit/grading/content/exercises/lesson<N>_*.py``, outside the notebook), each guess by the
  declared answer; every check says right, every knob's answer is within its tolerance;
* **wrong**: each function replaced by the first catalogued bug of its exercise; every check says
  wrong with that bug's message, and the lesson still runs to the end.

A last cell appended to each copy asserts what ``attnkit.activities.last_result`` recorded. The
run times are printed (``-s``) and never asserted. The fast tests check the tags, the kinds of
activity per lesson and, without a notebook, that every catalogued bug of every activity is named.
"""
from __future__ import annotations

import ast
import inspect
import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import nbformat
import pytest

from attnkit.activities import TAG_PREFIX, Prediction, activity, check, last_result, reveal, solution
from attnkit.grading.content.catalogue import exercises, resolve

ROOT = Path(__file__).resolve().parents[1]
LESSONS = sorted((ROOT / "lessons").glob("*.ipynb"))
MODES = ("shipped", "solved", "wrong")


def tagged(nb: nbformat.NotebookNode) -> list[tuple[int, str]]:
    """(cell index, activity id) of every activity cell, in order."""
    found = []
    for i, cell in enumerate(nb.cells):
        for tag in cell.get("metadata", {}).get("tags", []):
            if tag.startswith(TAG_PREFIX):
                found.append((i, tag[len(TAG_PREFIX):]))
    return found


def read(path: Path) -> nbformat.NotebookNode:
    return nbformat.read(path, as_version=4)


def _replace_function(source: str, name: str, replacement: str) -> str:
    """``source`` with the definition of ``name`` replaced by ``replacement``."""
    tree = ast.parse(source)
    node = next((n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == name), None)
    assert node is not None, f"the activity cell does not define {name}():\n{source}"
    lines = source.splitlines()
    start = node.lineno - 1 - len(node.decorator_list)
    return "\n".join(lines[:start] + replacement.rstrip().splitlines() + lines[node.end_lineno:])


def _replace_ellipsis(source: str, value: float) -> str:
    """``source`` with its ``name = ...`` assignment set to ``value``."""
    tree = ast.parse(source)
    node = next((n for n in tree.body if isinstance(n, ast.Assign) and isinstance(n.value, ast.Constant)
                 and n.value.value is Ellipsis), None)
    assert node is not None, f"the activity cell has no `answer = ...` line:\n{source}"
    lines = source.splitlines()
    line = lines[node.lineno - 1]
    lines[node.lineno - 1] = line[:node.value.col_offset] + repr(value) + line[node.value.end_col_offset:]
    return "\n".join(lines)


def variant(path: Path, mode: str) -> tuple[nbformat.NotebookNode, dict[str, dict]]:
    """A copy of the lesson for ``mode`` and, per activity, what its last result must be."""
    nb = read(path)
    expected: dict[str, dict] = {}
    for index, activity_id in tagged(nb):
        entry = activity(activity_id)
        cell = nb.cells[index]
        if isinstance(entry, Prediction):
            if mode == "solved":
                cell.source = _replace_ellipsis(cell.source, entry.solved)
                expected[activity_id] = {"status": ["right"] if entry.knob else ["right", "wrong"]}
            else:
                expected[activity_id] = {"status": ["no guess"]}
            continue
        if mode == "solved":
            worked = textwrap.dedent(inspect.getsource(entry.reference))
            cell.source = _replace_function(cell.source, entry.name, worked)
            expected[activity_id] = {"status": ["right"]}
        elif mode == "wrong":
            bug = entry.bugs[0]
            cell.source = _replace_function(cell.source, entry.name, textwrap.dedent(f"""
                from attnkit.grading.content.catalogue import exercise as _exercise, resolve as _resolve
                _ex = _exercise({activity_id!r})
                {entry.name} = _ex.bug({bug.id!r}).function({{n: _resolve(p) for n, p in _ex.replacements.items()}})
                """))
            expected[activity_id] = {"status": ["wrong"], "message": bug.message}
        else:
            expected[activity_id] = {"status": ["not done"]}
    nb.cells.append(nbformat.v4.new_code_cell(textwrap.dedent(f"""
        from attnkit.activities import last_result as _last_result
        for _id, _want in {json.dumps(expected)}.items():
            _got = _last_result(_id)
            assert _got is not None, f"{{_id}}: no check or reveal ran for it"
            assert _got.status in _want["status"], \
                f"{{_id}}: {{_got.status}} ({{_got.message}}), expected {{_want['status']}}"
            assert _want.get("message", "") in _got.message, \
                f"{{_id}}: the message does not name the bug: {{_got.message}}"
        """)))
    return nb, expected


# fast: tags and kinds ----------------------------------------------------------------------------

@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.stem)
def test_lesson_has_a_coding_a_predict_and_a_knob_activity(path):
    ids = [activity_id for _, activity_id in tagged(read(path))]
    entries = [activity(i) for i in ids]
    kinds = {"coding": sum(not isinstance(e, Prediction) for e in entries),
             "predict": sum(isinstance(e, Prediction) and not e.knob for e in entries),
             "knob": sum(isinstance(e, Prediction) and e.knob for e in entries)}
    assert len(ids) >= 3 and all(kinds.values()), f"{path.name} has activities {kinds} ({ids}): it needs at least " \
                                                  f"3, with one coding, one predict-then-reveal and one knob"
    assert len(set(ids)) == len(ids), f"{path.name} tags an activity twice: {ids}"


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.stem)
def test_shipped_activity_cells_are_unfinished_and_checked(path):
    nb = read(path)
    lesson = f"lesson{int(path.stem.split('_')[0])}"
    for index, activity_id in tagged(nb):
        assert activity_id.startswith(f"{lesson}."), f"{path.name} tags {activity_id}, an activity of another lesson"
        entry, source = activity(activity_id), nb.cells[index].source
        later = "\n".join(c.source for c in nb.cells[index:])
        if isinstance(entry, Prediction):
            _replace_ellipsis(source, 0.0)  # asserts the `answer = ...` line
            assert f'reveal("{activity_id}"' in later, f"{activity_id}: no reveal cell after the guess"
        else:
            assert "raise NotImplementedError" in source, f"{activity_id}: the shipped cell should be unfinished"
            assert f'{entry.name} = check("{activity_id}", {entry.name})' in source, \
                f"{activity_id}: the cell should end with `{entry.name} = check(\"{activity_id}\", {entry.name})`"
            assert entry.bugs, f"{activity_id}: a coding activity needs catalogued wrong answers"


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.stem)
def test_every_lesson_assert_carries_a_message(path):
    bare = []
    for i, cell in enumerate(read(path).cells):
        if cell.cell_type == "code":
            for node in ast.walk(ast.parse(cell.source)):
                if isinstance(node, ast.Assert) and node.msg is None:
                    bare.append(f"cell {i}: {ast.unparse(node)[:80]}")
    assert not bare, f"{path.name}: asserts without a message a learner can act on:\n" + "\n".join(bare)


# fast: the engine names every catalogued bug of every activity ---------------------------------

LESSON_EXERCISES = [e for e in exercises() if e.quiz.startswith("lesson")]


@pytest.mark.parametrize("ex", LESSON_EXERCISES, ids=lambda e: e.id)
def test_activity_check_accepts_the_solution_and_names_each_bug(ex, capsys):
    assert check(ex.id, ex.reference) is ex.reference and last_result(ex.id).status == "right"
    replacements = {n: resolve(p) for n, p in ex.replacements.items()}
    for bug in ex.bugs:
        returned = check(ex.id, bug.function(replacements))
        result = last_result(ex.id)
        assert result.status == "wrong" and bug.message in result.message, f"{bug.id}: {result.message}"
        assert returned is ex.reference, "a wrong function is replaced by the reference"
    capsys.readouterr()


def test_check_never_raises_and_says_not_done(capsys):
    ex = LESSON_EXERCISES[0]

    def unfinished(*args, **kwargs):
        raise NotImplementedError

    def broken(*args, **kwargs):
        raise TypeError("learner's typo")

    assert check(ex.id, unfinished) is ex.reference and last_result(ex.id).status == "not done"
    assert "not done yet" in capsys.readouterr().out
    assert check(ex.id, broken) is ex.reference and last_result(ex.id).status == "wrong"
    assert "TypeError: learner's typo" in capsys.readouterr().out


def test_solution_prints_the_reference_source(capsys):
    ex = LESSON_EXERCISES[0]
    solution(ex.id)
    assert f"def {ex.name}(" in capsys.readouterr().out


def test_reveal_compares_within_tolerance(capsys):
    prediction = next(activity(i) for _, i in tagged(read(LESSONS[0])) if isinstance(activity(i), Prediction))
    measured = 40.0
    cases = [(..., "no guess"), (measured, "right"), ("forty", "no guess"),
             (measured + 10 * (prediction.tolerance * (abs(measured) if prediction.relative else 1) + 1), "wrong")]
    for guess, status in cases:
        assert reveal(prediction.id, guess, measured) is None, "reveal returns nothing: a cell shows only its printout"
        assert last_result(prediction.id).status == status, f"guess {guess!r}: {last_result(prediction.id)}"
    assert "measured 40" in capsys.readouterr().out


# slow: each lesson run three ways under nbval --------------------------------------------------

@pytest.mark.slow
@pytest.mark.lessons
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.stem)
def test_lesson_runs_with_activities(path, mode, tmp_path):
    nb, expected = variant(path, mode)
    assert expected, f"{path.name} has no activity cells"
    copy = tmp_path / f"{path.stem}_{mode}.ipynb"
    nbformat.write(nb, copy)
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    start = time.perf_counter()
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--nbval-lax",
                          "--nbval-cell-timeout=300", str(copy)], cwd=tmp_path, env=env,
                         capture_output=True, text=True, timeout=900)
    print(f"{path.stem} {mode}: {time.perf_counter() - start:.0f} s")
    assert run.returncode == 0, f"{path.name} run {mode}: nbval failed\n{run.stdout[-4000:]}\n{run.stderr[-2000:]}"
