"""How long grading takes: per submission, for the demo class, for self-grading, per quiz solution.

Measured side by side in one run, in a temporary course directory:

* batch: one ``nbgrader autograde <quiz>`` for the whole demo class (what the demo and tests do);
* serial: plain nbgrader, one ``nbgrader autograde <quiz> --student <id>`` call per submission;
* the whole demo flow (generate, autograde, feedback, export) and one ``attnkit grade``;
* each solution notebook executed top to bottom in a fresh kernel (hidden tests included).

Run: ``.venv/bin/python benchmarks/bench_grading.py [--quiz q4_qkv_math]``.
"""
from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from attnkit.grading.course import QUIZ_IDS, REPO_ROOT, autograde, export_csv, make_course, nbgrader, submit
from attnkit.grading.demo import demo_class
from attnkit.grading.selfgrade import grade_notebook


def _seconds(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def solution_run_time(quiz: str) -> float:
    """Seconds to execute the instructor copy (solutions and hidden tests) in a fresh kernel."""
    nb = nbformat.read(REPO_ROOT / "solutions" / quiz / f"{quiz}.ipynb", as_version=4)
    client = NotebookClient(nb, timeout=120, kernel_name="python3",
                            resources={"metadata": {"path": str(REPO_ROOT)}})
    return _seconds(client.execute)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quiz", default="q4_qkv_math", choices=QUIZ_IDS)
    quiz = parser.parse_args().quiz
    work = Path(tempfile.mkdtemp(prefix="attnkit-bench-grading-"))

    course = work / "course"
    t_generate = _seconds(lambda: make_course(course, [quiz]))
    students = demo_class(course, quiz)
    for s in students:
        submit(course, s.id, quiz, s.notebook)
    n = len(students)
    t_batch = _seconds(lambda: nbgrader(["autograde", quiz, "--force"], course))
    t_serial = _seconds(lambda: [nbgrader(["autograde", quiz, "--student", s.id, "--force"], course)
                                 for s in students])
    t_feedback = _seconds(lambda: nbgrader(["generate_feedback", quiz, "--force"], course))
    t_export = _seconds(lambda: export_csv(course))

    flow = work / "flow"

    def whole_flow() -> None:
        make_course(flow, [quiz])
        for s in demo_class(flow, quiz):
            submit(flow, s.id, quiz, s.notebook)
        autograde(flow, [quiz])
        export_csv(flow)

    t_flow = _seconds(whole_flow)
    mine = work / f"{quiz}.ipynb"
    nbformat.write(students[0].notebook, mine)
    t_self = _seconds(lambda: grade_notebook(mine, workdir=work / "self"))

    print(f"quiz {quiz}, demo class of {n} submissions, course in {work}")
    print(f"  generate_assignment                      {t_generate:7.1f} s")
    print(f"  autograde, batch (one call)              {t_batch:7.1f} s   {t_batch / n:5.2f} s/submission")
    print(f"  autograde, plain serial (call/student)   {t_serial:7.1f} s   {t_serial / n:5.2f} s/submission"
          f"   serial/batch = {t_serial / t_batch:.2f}")
    print(f"  generate_feedback                        {t_feedback:7.1f} s   {t_feedback / n:5.2f} s/submission")
    print(f"  export CSV                               {t_export:7.1f} s")
    print(f"  demo class, whole flow                   {t_flow:7.1f} s")
    print(f"  attnkit grade (one notebook, end to end) {t_self:7.1f} s")
    print("solution notebooks in a fresh kernel (must be <= 30 s each):")
    for q in QUIZ_IDS:
        print(f"  {q:20} {solution_run_time(q):6.1f} s")


if __name__ == "__main__":
    main()
