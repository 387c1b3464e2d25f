"""No quiz exercise is a lesson cell retyped: quizzes ask for transfer, not copying.

What a lesson shows the learner is its code cells, the source its cells print
(``inspect.getsource(x)`` of a function the lesson imports) and the worked solution of every
activity (``solution(<id>)`` prints the reference declared in
``attnkit/grading/content/exercises/lesson<N>_*.py``). Each quiz solution (the code between
``### BEGIN SOLUTION`` and ``### END SOLUTION`` in ``solutions/``) is normalised: docstrings and
comments dropped, compound statements opened up, every name that is not a builtin or a module
(``np``, ``torch``, ``math``) renamed by order of first appearance. Every window of consecutive
statements of everything a lesson shows is normalised the same way. A solution of at least
``MIN_TOKENS`` tokens that matches a window with a ``difflib`` ratio of ``THRESHOLD`` or more is
retyped. (Short bodies, a single softmax call, say, are left out: any cell that calls softmax would
match them.)
"""
from __future__ import annotations

import ast
import builtins
import difflib
import functools
import importlib
import inspect
import io
import keyword
import re
import textwrap
import tokenize
from pathlib import Path

import nbformat
import pytest

from attnkit.grading.content.catalogue import exercises

ROOT = Path(__file__).resolve().parents[1]
SOLUTIONS = sorted((ROOT / "solutions").glob("*/*.ipynb"))
LESSONS = sorted((ROOT / "lessons").glob("*.ipynb"))
THRESHOLD = 0.8
MIN_TOKENS = 15
KEEP = {"np", "torch", "math", "F", "nn", "self"} | set(dir(builtins)) | set(keyword.kwlist)


def statements(source: str) -> list[str]:
    """The simple statements of ``source`` in order, function and loop bodies opened up."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    out: list[str] = []

    def walk(body: list[ast.stmt]) -> None:
        for node in body:
            if isinstance(node, ast.Expr) and isinstance(getattr(node.value, "value", None), str):
                continue  # a docstring
            if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
                walk(node.body)
            elif isinstance(node, (ast.If, ast.For, ast.While, ast.With)):
                out.append(ast.unparse(node).splitlines()[0])  # the header line
                walk(node.body)
                walk(getattr(node, "orelse", []))
            else:
                out.append(ast.unparse(node))

    walk(tree.body)
    return out


@functools.cache
def _tokens(lines: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(tokens(list(lines)))


def tokens(lines: list[str]) -> list[str]:
    """Tokens of ``lines`` with names renamed v0, v1, ... by first appearance (attributes kept)."""
    names: dict[str, str] = {}
    out: list[str] = []
    previous = None
    skip = {tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT, tokenize.ENDMARKER}
    for tok in tokenize.generate_tokens(io.StringIO("\n".join(lines) + "\n").readline):
        if tok.type in skip:
            continue
        text = tok.string
        if tok.type == tokenize.NAME and text not in KEEP and previous != ".":
            text = names.setdefault(text, f"v{len(names)}")
        out.append(text)
        previous = tok.string
    return out


def similarity(solution: list[str], cell: list[str]) -> float:
    """The best difflib ratio between the solution and a window of the cell's statements."""
    target, n, best = _tokens(tuple(solution)), len(solution), 0.0
    for start in range(max(len(cell) - n + 1, 1)):
        for width in {max(n - 1, 1), n, n + 1}:
            window = _tokens(tuple(cell[start:start + width]))
            if window and 2 * min(len(target), len(window)) >= THRESHOLD * (len(target) + len(window)):
                matcher = difflib.SequenceMatcher(None, target, window, autojunk=False)
                if matcher.real_quick_ratio() > best and matcher.quick_ratio() > best:
                    best = max(best, matcher.ratio())
    return best


def solution_bodies(path: Path) -> list[tuple[str, str]]:
    """(grade_id, dedented solution code) of every coding exercise of a quiz's source notebook."""
    found = []
    for cell in nbformat.read(path, as_version=4).cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id", "")
        body = re.search(r"### BEGIN SOLUTION\n(.*?)### END SOLUTION", cell.source, re.S)
        if cell.metadata.get("nbgrader", {}).get("solution") and body and not grade_id.startswith("answer_"):
            found.append((grade_id, textwrap.dedent(body.group(1))))
    return found


def printed_sources(path: Path) -> list[tuple[str, str]]:
    """(name, source) of everything a lesson prints with ``inspect.getsource(x)``, x imported by the lesson."""
    cells = [c.source for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code"]
    imported: dict[str, str] = {}
    printed = []
    for source in cells:
        try:
            tree = ast.parse(source)
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module:
                imported.update({a.asname or a.name: f"{node.module}:{a.name}" for a in node.names})
            elif isinstance(node, ast.Call) and ast.unparse(node.func) in ("inspect.getsource", "getsource"):
                printed.append(ast.unparse(node.args[0]))
    found = []
    for expr in printed:
        head, *attributes = expr.split(".")
        assert head in imported, f"{path.name} prints the source of {expr}, which it does not import by name"
        module, name = imported[head].split(":")
        obj = getattr(importlib.import_module(module), name)
        for attribute in attributes:
            obj = getattr(obj, attribute)
        found.append((expr, textwrap.dedent(inspect.getsource(obj))))
    assert len(printed) == len(found)
    return found


def activity_solutions() -> list[tuple[str, str]]:
    """(activity id, source) of every coding activity's worked solution."""
    return [(e.id, textwrap.dedent(inspect.getsource(e.reference))) for e in exercises()
            if e.quiz.startswith("lesson") and e.reference is not None]


LESSON_CELLS = [(path.name, statements(cell.source)) for path in LESSONS
                for cell in nbformat.read(path, as_version=4).cells if cell.cell_type == "code"]
SHOWN = LESSON_CELLS + [(f"{path.name} prints {name}", statements(source)) for path in LESSONS
                        for name, source in printed_sources(path)] + \
    [(f"the solution of {activity_id}", statements(source)) for activity_id, source in activity_solutions()]


def test_the_normalisation_sees_a_retype_through_renaming():
    lesson = statements("def my_attention(query, key, value, mask=None):\n"
                        "    scores = query @ key.transpose(-2, -1) / math.sqrt(query.shape[-1])\n"
                        "    weights = torch.softmax(scores, dim=-1)  # rows sum to 1\n"
                        "    return weights @ value, weights\n")
    retyped = statements("s = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])\n"
                         "w = torch.softmax(s, dim=-1)\nreturn w @ v, w\n")
    variant = statements("s = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])\n"
                         "s = s.masked_fill(~torch.tril(torch.ones_like(s, dtype=torch.bool)), -math.inf)\n"
                         "e = torch.exp(s - s.amax(dim=-1, keepdim=True))\nreturn e / e.sum(dim=-1, keepdim=True)\n")
    assert similarity(retyped, lesson) >= THRESHOLD
    assert similarity(variant, lesson) < THRESHOLD


# quiz 7's add_and_norm retypes the source lesson 7 prints (issue 18); the branch that rewrites quiz 7 removes this
@pytest.mark.parametrize("path", SOLUTIONS, ids=lambda p: p.stem)
def test_no_quiz_exercise_is_a_lesson_cell_retyped(path):
    retyped = []
    for grade_id, body in solution_bodies(path):
        solution = statements(body)
        if len(tokens(solution)) < MIN_TOKENS:
            continue
        for shown, cell in SHOWN:
            score = similarity(solution, cell)
            if score >= THRESHOLD:
                retyped.append(f"{grade_id} matches {shown} ({score:.2f}): {cell[:3]}")
    assert not retyped, f"{path.stem}: quiz exercises that retype what a lesson showed; ask for a variant " \
                        "instead:\n" + "\n".join(retyped)


def test_printed_source_and_activity_solutions_are_compared():
    """The lessons' printed source and the activities' worked solutions are among what a quiz may not retype."""
    printed = [name for name, _ in SHOWN if " prints " in name]
    solutions = [name for name, _ in SHOWN if name.startswith("the solution of ")]
    assert any("AttentionDecoder.step" in name for name in printed), printed
    assert "the solution of lesson4.my_attention" in solutions and len(solutions) >= 8, solutions
    mine = statements(next(source for name, source in activity_solutions() if name == "lesson4.my_attention"))
    assert max(similarity(mine, cell) for name, cell in SHOWN if name == "the solution of lesson4.my_attention") == 1.0
