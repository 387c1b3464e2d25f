"""Print the load of each lesson and the kind of each quiz question: the notes tables of issue 18.

Per lesson: the activities by kind (coding, predict, knob: the ``activity:<id>`` cell tags, see
:mod:`attnkit.activities`), the words of prose (Markdown cells, LaTeX and code spans counted as
words) and the new ideas (the rows of ``docs/teaching_map.md``'s ideas table taught in that lesson).
Per quiz: the coding exercises and the conceptual questions, by kind (``recall`` or
``application``: the ``kind`` column of the quiz's table in the teaching map).

The teaching map and the lessons are read with the one parser,
:mod:`attnkit.grading.content.teaching_map`. The declarations (which activity is a knob, which
exercises and questions a quiz has) are read from the exercise modules' source, not imported, so
that ``--root`` can point at another checkout of the course, e.g. an older commit::

    python scripts/course_stats.py                       # this checkout
    git worktree add /tmp/pre18 b7e5ea9 && python scripts/course_stats.py --root /tmp/pre18

Where the other checkout's map has no ideas table or no kind column, the column says ``-``.
"""
from __future__ import annotations

import argparse
import ast
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from attnkit.grading.content import teaching_map as tm  # noqa: E402

TAG = "activity:"


def declarations(root: Path) -> dict[str, dict[str, str]]:
    """Per exercise module (quiz id or ``lesson<N>``): declared name -> ``coding``, ``predict``,
    ``knob`` (lesson activities) or ``exercise``, ``question`` (quizzes), read from the source."""
    found: dict[str, dict[str, str]] = {}
    for path in sorted(root.glob("attnkit/grading/**/exercises/*.py")):
        if path.stem.startswith("_"):
            continue
        tree = ast.parse(path.read_text())
        quiz = path.stem.split("_")[0] if path.stem.startswith("lesson") else path.stem
        names = found.setdefault(quiz, {})
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.args
                    and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
                continue
            name, lesson = node.args[0].value, quiz.startswith("lesson")
            knob = any(k.arg == "knob" and isinstance(k.value, ast.Constant) and k.value.value for k in node.keywords)
            if node.func.id == "Exercise":
                names[f"{quiz}.{name}" if lesson else name] = "coding" if lesson else "exercise"
            elif node.func.id == "Prediction":
                names[name] = "knob" if knob else "predict"
            elif node.func.id == "Question":
                names[name] = "question"
    return found


def lesson_table(root: Path) -> list[str]:
    declared = {k: v for names in declarations(root).values() for k, v in names.items()}
    ideas = Counter(r.lesson for r in tm.idea_rows(root / "docs" / "teaching_map.md"))
    lines = ["| lesson | coding | predict | knob | prose words | new ideas |", "|---|---|---|---|---|---|"]
    for path in sorted((root / "lessons").glob("*.ipynb")):
        kinds = Counter(declared.get(t[len(TAG):], "?") for *_, tags in tm.lesson_cells(path)
                        for t in tags if t.startswith(TAG))
        unknown = f" ({kinds['?']} undeclared)" if kinds["?"] else ""
        lesson = int(path.stem.split("_")[0])
        lines.append(f"| {path.stem} | {kinds['coding']} | {kinds['predict']} | {kinds['knob']}{unknown} | "
                     f"{tm.prose_words(path)} | {ideas.get(lesson, '-') if ideas else '-'} |")
    return lines


def quiz_table(root: Path) -> list[str]:
    kind = {(r.quiz, r.item): r.kind for r in tm.rows(root / "docs" / "teaching_map.md")}
    lines = ["| quiz | exercises | questions | recall | application |", "|---|---|---|---|---|"]
    for quiz, names in declarations(root).items():
        if quiz.startswith("lesson"):
            continue
        questions = [n for n, k in names.items() if k == "question"]
        counts = Counter(kind.get((quiz, q)) or "-" for q in questions)
        recorded = len(questions) - counts["-"]
        cells = (f"{counts['recall']} | {counts['application']}" if recorded else "- | -") + \
            (f" ({counts['-']} not classified)" if recorded and counts["-"] else "")
        lines.append(f"| {quiz} | {sum(k == 'exercise' for k in names.values())} | {len(questions)} | {cells} |")
    return lines


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--root", type=Path, default=ROOT, help="a checkout of the course (default: this one)")
    root = parser.parse_args(argv).root.resolve()
    print("\n".join(lesson_table(root)) + "\n\n" + "\n".join(quiz_table(root)))


if __name__ == "__main__":
    main()
