"""How long `attnkit report` takes for a large class: 2,000 students by default.

    .venv/bin/python benchmarks/bench_report.py [--students 2000] [--quiz q4_qkv_math] [--rounds 3]

Builds a synthetic class (attnkit/grading/course/synthetic.py: every catalogued bug, typical wrong
answer, new mistake and blank answer judged once by the quiz's own test cells) straight into a
SQLite gradebook in a temporary course directory, then times the report as the command makes it:
reading the gradebook and the misconception records, three matplotlib plots, the HTML page and the
CSV. Prints each phase's median wall and CPU time over the rounds (CPU time: this process only,
less sensitive to a loaded machine) and the page's size. Timings are never asserted.
"""
from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from attnkit.grading.course import synthetic
from attnkit.grading.report import command
from attnkit.grading.report.collect import collect
from attnkit.grading.report.export import write_csv
from attnkit.grading.report.page import render

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--students", type=int, default=2000)
    parser.add_argument("--quiz", default="q4_qkv_math")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    course = Path(tempfile.mkdtemp(prefix="attnkit-bench-report-"))
    try:
        shutil.copytree(ROOT / "solutions" / args.quiz, course / "solutions" / args.quiz)
        shutil.copy(ROOT / "nbgrader_config.py", course / "nbgrader_config.py")
        start = time.perf_counter()
        sol = synthetic.solution(course, args.quiz)
        students = synthetic.synthetic_class(sol, args.quiz, args.students, seed=2000)
        judged = time.perf_counter()
        synthetic.write_gradebook(f"sqlite:///{course / 'gradebook.db'}", sol, args.quiz, students)
        written = time.perf_counter()
        print(f"{args.students} students of {args.quiz}: variants judged in {judged - start:.1f} s, "
              f"gradebook written in {written - judged:.1f} s (set-up, not the report)")
        phases: dict[str, list[tuple[float, float]]] = {
            "collect": [], "render (3 plots + HTML)": [], "csv": [], "whole command (attnkit report --csv)": []}
        for _ in range(args.rounds):
            marks = [(time.perf_counter(), time.process_time())]
            with command._open(course) as gb:
                report = collect(gb.db, args.quiz, course)
            marks.append((time.perf_counter(), time.process_time()))
            page = render(report, course, course / "reports")
            marks.append((time.perf_counter(), time.process_time()))
            write_csv([report])
            marks.append((time.perf_counter(), time.process_time()))
            command.build(course, [args.quiz], with_csv=True)
            marks.append((time.perf_counter(), time.process_time()))
            for name, (a, b) in zip(phases, zip(marks, marks[1:])):
                phases[name].append((b[0] - a[0], b[1] - a[1]))
        for name, values in phases.items():
            wall = statistics.median(v[0] for v in values)
            cpu = statistics.median(v[1] for v in values)
            print(f"  {name:40} median {wall:6.2f} s wall, {cpu:6.2f} s CPU  (wall per round: "
                  + ", ".join(f"{v[0]:.2f}" for v in values) + ")")
        print(f"  page: {len(page.encode()) / 1024:.0f} KiB, {len(report.submissions)} submissions, "
              f"{sum(len(i.wrong) for i in report.items)} (item, mistake) pairs")
    finally:
        shutil.rmtree(course, ignore_errors=True)


if __name__ == "__main__":
    main()
