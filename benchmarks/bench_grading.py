"""How long grading a class takes: plain serial nbgrader next to ``attnkit grade-class``, one run.

Three course directories get the same class of N submissions (default 40) of one quiz, built
from the adversarial corpus's harmless submissions (honest, noisy, slow, blank, buggy, banned
built-ins, edited or deleted test cells; nothing that touches files, the network, processes or
memory, because the first contender runs them unsandboxed). Then, side by side:

* vanilla: nbgrader as it comes, ``Execute`` in a Jupyter kernel per notebook, no sandbox (the
  configuration before judged grading, for reference; its grades differ where the ban is dodged);
* serial: ``nbgrader autograde <quiz>`` with this course's configuration (students one after the
  other in nbgrader's own loop, each in a sandbox, judged outside), then ``generate_feedback``
  and ``export``: the instructor's plain workflow;
* optionally (``--per-student``) one ``nbgrader autograde --student <id>`` call per submission;
* ``attnkit grade-class <quiz> --workers W`` (autograde, feedback, export, statuses), and again
  with each of ``--also-workers`` (say 3: one more than cores, the command's default);
* ``attnkit grade <notebook>`` of one notebook, end to end, as a learner runs it.

It prints seconds per submission and the ratio, checks that both gradebooks hold identical
grades, and prints the machine's load (other processes share these cores).

Run: ``.venv/bin/python benchmarks/bench_grading.py [--students 40] [--workers 2] [--also-workers 3]``
(``make bench-grading``).
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from adversarial.corpus import ENTRIES, QUIZ, build, honest_notebook  # noqa: E402

from attnkit.grading.course import classgrade  # noqa: E402
from attnkit.grading.course.nbgrader_cli import make_course, nbgrader  # noqa: E402

HARMLESS = ("honest", "honest_noisy", "honest_slow", "blank", "patch_checks", "fake_sys_modules", "input_transformer",
            "reexported_builtin", "default_arg_builtin", "duplicated_test_cell", "invented_grade_cell",
            "deleted_test_cell", "edited_test_cell", "copied_from_attnkit", "patch_numpy", "always_equal_answer")
QUICK = [e for e in ENTRIES if e.name in HARMLESS]
VANILLA = """
# the configuration before judged grading: nbgrader's own Execute, unsandboxed (benchmark only)
c.Autograde.sanitize_preprocessors = [
    "nbgrader.preprocessors.ClearOutput", "nbgrader.preprocessors.DeduplicateIds",
    "nbgrader.preprocessors.OverwriteKernelspec", "nbgrader.preprocessors.OverwriteCells",
    "nbgrader.preprocessors.CheckCellMetadata"]
c.Autograde.autograde_preprocessors = [
    "nbgrader.preprocessors.Execute", "nbgrader.preprocessors.IgnorePattern",
    "nbconvert.preprocessors.ClearMetadataPreprocessor", "nbgrader.preprocessors.LimitOutput",
    "nbgrader.preprocessors.SaveAutoGrades", "nbgrader.preprocessors.AssignLatePenalties",
    "nbgrader.preprocessors.CheckCellMetadata"]
"""


def place_class(course: Path, students: int, canary: Path) -> None:
    """``students`` submissions in ``course``/submitted/, cycling through the harmless entries."""
    release = nbformat.read(course / "quizzes" / QUIZ / f"{QUIZ}.ipynb", as_version=4)
    honest = honest_notebook(release, nbformat.read(REPO / "solutions" / QUIZ / f"{QUIZ}.ipynb", as_version=4))
    for i in range(students):
        entry = QUICK[i % len(QUICK)]
        build(entry, honest, course / "submitted" / f"s{i:02d}_{entry.name}" / QUIZ, canary=canary, course=course,
              port=9)


def _seconds(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def _scores(course: Path) -> dict[str, float]:
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        return {s.student.id: float(s.score) for s in gb.assignment_submissions(QUIZ)}


def _load() -> str:
    one, five, _ = os.getloadavg()
    top = subprocess.run(["ps", "-eo", "pcpu,comm", "--sort=-pcpu"], capture_output=True, text=True).stdout
    busy = [" ".join(line.split()[1:]) for line in top.splitlines()[1:6] if float(line.split()[0]) > 20]
    return f"load average {one:.1f} (1 min), {five:.1f} (5 min); busiest: {', '.join(busy) or 'none'}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--students", type=int, default=40)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--also-workers", type=int, nargs="*", default=[], help="also time grade-class with these")
    parser.add_argument("--per-student", action="store_true", help="also time one nbgrader call per student")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="attnkit-bench-grading-"))
    print(f"before: {_load()}")
    courses = {}
    extra = [w for w in args.also_workers if w != args.workers]
    for name in ("vanilla", "serial", "class", *[f"class{w}" for w in extra]):
        course = make_course(work / name, [QUIZ])
        if name == "vanilla":
            with open(course / "nbgrader_config.py", "a") as fh:
                fh.write(VANILLA)
        place_class(course, args.students, work / "CANARY")
        courses[name] = course
    n = args.students

    def serial(name: str) -> None:
        nbgrader(["autograde", QUIZ, "--force"], courses[name], check=False)
        nbgrader(["generate_feedback", QUIZ, "--force"], courses[name], check=False)
        nbgrader(["export", "--to=grades.csv"], courses[name])

    t_vanilla = _seconds(lambda: serial("vanilla"))
    t_serial = _seconds(lambda: serial("serial"))
    t_class = _seconds(lambda: classgrade.grade_class(QUIZ, courses["class"], workers=args.workers))
    t_extra = {w: _seconds(lambda w=w: classgrade.grade_class(QUIZ, courses[f"class{w}"], workers=w)) for w in extra}
    same = all(_scores(courses["serial"]) == _scores(courses[c]) for c in courses if c.startswith("class"))
    students = sorted(p.name for p in (courses["serial"] / "submitted").iterdir())
    t_per = None
    if args.per_student:
        t_per = _seconds(lambda: [nbgrader(["autograde", QUIZ, "--student", s, "--force"], courses["serial"],
                                           check=False) for s in students])
    one = courses["class"] / "submitted" / students[0] / QUIZ / f"{QUIZ}.ipynb"
    t_self = _seconds(lambda: subprocess.run([str(Path(sys.executable).parent / "attnkit"), "grade", str(one)],
                                             capture_output=True))
    print(f"quiz {QUIZ}: {n} submissions, course directories in {work}")
    print(f"  vanilla nbgrader, a kernel each, unsandboxed     {t_vanilla:7.1f} s  {t_vanilla / n:5.2f} s/submission")
    print(f"  serial nbgrader (autograde + feedback + export)  {t_serial:7.1f} s  {t_serial / n:5.2f} s/submission")
    if t_per is not None:
        print(f"  nbgrader autograde --student, one call each      {t_per:7.1f} s  {t_per / n:5.2f} s/submission")
    print(f"  attnkit grade-class --workers {args.workers} (same steps)     {t_class:7.1f} s  "
          f"{t_class / n:5.2f} s/submission")
    for w, t in t_extra.items():
        print(f"  attnkit grade-class --workers {w} (same steps)     {t:7.1f} s  {t / n:5.2f} s/submission")
    print(f"  throughput ratio grade-class / vanilla nbgrader  {t_vanilla / t_class:7.2f} x")
    print(f"  throughput ratio grade-class / serial nbgrader   {t_serial / t_class:7.2f} x  (--workers {args.workers})")
    for w, t in t_extra.items():
        print(f"  throughput ratio grade-class / serial nbgrader   {t_serial / t:7.2f} x  (--workers {w})")
    print(f"  identical grades, serial nbgrader and grade-class: {same}")
    vanilla = _scores(courses["vanilla"])
    differ = sorted(s for s, score in _scores(courses["class"]).items() if vanilla.get(s) != score)
    print(f"  vanilla nbgrader grades differently for: {', '.join(differ) or 'nobody'}")
    print(f"  attnkit grade, one notebook end to end           {t_self:7.1f} s")
    print(f"after: {_load()}")


if __name__ == "__main__":
    main()
