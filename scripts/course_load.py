"""Print the load of each lesson and the kind of each quiz question: the numbers issue 18 asks for.

Per lesson: the words of prose (Markdown cells, LaTeX and code spans counted as words), the
activities by kind (coding, predict, knob: the ``activity:<id>`` tags, see :mod:`attnkit.activities`)
and the new ideas (the rows of ``docs/teaching_map.md``'s table of ideas taught in that lesson).
Per quiz: the coding exercises, and the conceptual questions by kind (recall or application: the
``kind`` column of the quiz's table in ``docs/teaching_map.md``, ``?`` where a quiz has none).

Usage (from the repository root)::

    python scripts/course_load.py            # a Markdown table per lesson and per quiz
"""
from __future__ import annotations

import re
import sys
from collections import Counter
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from attnkit.activities import TAG_PREFIX, Prediction, activity  # noqa: E402
from attnkit.grading.content.catalogue import exercises, questions  # noqa: E402
from attnkit.grading.content.quizzes import QUIZ_IDS  # noqa: E402

MAP = ROOT / "docs" / "teaching_map.md"
IDEA = re.compile(r"^\|\s*(?P<idea>[^|`]+?)\s*\|\s*lesson (?P<lesson>\d+), §", re.M)
KIND = re.compile(r"^\|\s*(?P<quiz>q\d+_\w+)\s*\|\s*`(?P<item>[\w.]+)`\s*\|.*"
                  r"\|\s*(?P<kind>recall|application)\s*\|\s*$", re.M)


def prose_words(nb: nbformat.NotebookNode) -> int:
    """Words of the Markdown cells."""
    return sum(len(re.findall(r"\S+", c.source)) for c in nb.cells if c.cell_type == "markdown")


def activity_kinds(nb: nbformat.NotebookNode) -> Counter:
    kinds: Counter = Counter()
    for cell in nb.cells:
        for tag in cell.get("metadata", {}).get("tags", []):
            if tag.startswith(TAG_PREFIX):
                entry = activity(tag[len(TAG_PREFIX):])
                kinds["knob" if isinstance(entry, Prediction) and entry.knob else
                      "predict" if isinstance(entry, Prediction) else "coding"] += 1
    return kinds


def ideas_by_lesson(text: str) -> Counter:
    """Rows of the ideas table (the one section whose rows start with an idea, not a quiz id)."""
    section = text.split("## Ideas", 1)[1] if "## Ideas" in text else ""
    return Counter(int(m["lesson"]) for m in IDEA.finditer(section))


def main() -> None:
    text = MAP.read_text() if MAP.exists() else ""
    ideas = ideas_by_lesson(text)
    print("| lesson | prose words | coding | predict | knob | new ideas |\n|---|---|---|---|---|---|")
    for path in sorted((ROOT / "lessons").glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        kinds, n = activity_kinds(nb), int(path.stem.split("_")[0])
        print(f"| {path.stem} | {prose_words(nb)} | {kinds['coding']} | {kinds['predict']} | {kinds['knob']} | "
              f"{ideas.get(n, '?')} |")
    kind = {(m["quiz"], m["item"]): m["kind"] for m in KIND.finditer(text)}
    print("\n| quiz | exercises | questions | recall | application |\n|---|---|---|---|---|")
    for quiz in QUIZ_IDS:
        ids = questions(quiz)
        counts = Counter(kind.get((quiz, q), "?") for q in ids)
        print(f"| {quiz} | {len(exercises(quiz))} | {len(ids)} | {counts.get('recall', 0)} | "
              f"{counts.get('application', 0)}{'' if '?' not in counts else f' ({counts[chr(63)]} unclassified)'} |")


if __name__ == "__main__":
    main()
