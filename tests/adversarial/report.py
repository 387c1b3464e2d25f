"""The corpus table: every attack, the grade it deserves, and what grade-class and plain
``nbgrader autograde`` gave it, in one run (markdown on stdout). tests/test_adversarial.py asserts
the same; this prints it for a person (an issue note, docs/grading.md).

Run: ``.venv/bin/python tests/adversarial/report.py`` (about 4 minutes on 2 cores).
"""
from __future__ import annotations

import csv
import sys
import tempfile
import threading
import time
from pathlib import Path

import nbformat

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from adversarial.corpus import ENTRIES, QUIZ, build, honest_notebook, quiz_points  # noqa: E402
from attnkit.grading.course import classgrade  # noqa: E402
from attnkit.grading.course.nbgrader_cli import REPO_ROOT, make_course, nbgrader  # noqa: E402

TIMEOUT = 20  # as tests/test_adversarial.py: generous on a loaded machine


def _rows(course: Path) -> dict[str, dict[str, str]]:
    path = course / "grading_status.csv"
    with open(path, newline="") as fh:
        return {r["student_id"]: r for r in csv.DictReader(fh)}


def main() -> None:
    base = Path(tempfile.mkdtemp(prefix="attnkit-corpus-report-"))
    courses = {}
    for how in ("class", "nbgrader"):
        course = make_course(base / how, [QUIZ])
        release = nbformat.read(course / "quizzes" / QUIZ / f"{QUIZ}.ipynb", as_version=4)
        honest = honest_notebook(release, nbformat.read(REPO_ROOT / "solutions" / QUIZ / f"{QUIZ}.ipynb", 4))
        for entry in ENTRIES:
            build(entry, honest, course / "submitted" / entry.name / QUIZ, canary=base / "CANARY", course=course,
                  port=9)
        courses[how] = course
    points = quiz_points(release)
    plain = threading.Thread(target=nbgrader, args=(["autograde", QUIZ, "--force",
                                                     f"--JudgeInSandbox.timeout={TIMEOUT}"], courses["nbgrader"]),
                             kwargs={"check": False})
    start = time.perf_counter()
    plain.start()
    classgrade.grade_class(QUIZ, courses["class"], workers=2, timeout=TIMEOUT)
    plain.join()
    seconds = time.perf_counter() - start
    got = {how: _rows(course) for how, course in courses.items()}
    print("| attack | expected (score, status) | grade-class | nbgrader autograde | flags (grade-class) |")
    print("|---|---|---|---|---|")
    agree = {"class": 0, "nbgrader": 0}
    for entry in ENTRIES:
        want = f"{entry.score(points):g}, {entry.status}"
        cells = []
        for how in ("class", "nbgrader"):
            row = got[how].get(entry.name)
            cells.append(f"{float(row['score']):g}, {row['status']}" if row else "(no row: nbgrader logs an error)")
        agree["class"] += cells[0] == want
        agree["nbgrader"] += cells[1] == want
        flags = got["class"].get(entry.name, {}).get("flags", "")
        print(f"| {entry.name}: {entry.attack} | {want} | {cells[0]} | {cells[1]} | {flags[:90]} |")
    print(f"\n{agree['class']}/{len(ENTRIES)} as expected through grade-class, {agree['nbgrader']}/{len(ENTRIES)} "
          f"through nbgrader autograde; both courses graded side by side in {seconds:.0f} s; "
          f"canary written: {(base / 'CANARY').exists()}")


if __name__ == "__main__":
    main()
