"""``attnkit grade-class <quiz> --workers N``: a class graded in parallel into nbgrader's gradebook.

In the course directory (the repository root, or any nbgrader course with this
``nbgrader_config.py``), for every ``submitted/<student>/<quiz>/``:

1. triage in this process (:mod:`attnkit.grading.course.triage`): a notebook saved under another
   name is copied to ``<quiz>.ipynb`` (status *renamed*); a file that is not a notebook (invalid
   JSON, not nbformat) gets 0 and the status *malformed* without being run; links and special
   files in the folder are flagged, never followed or copied;
2. N worker processes, forked from a warm, clean parent (a ``forkserver`` that imported nbgrader,
   torch and the checks once, and never ran a student's code or a torch operation: forking it is
   safe), run nbgrader's own autograde for one student at a time through
   ``NbGraderAPI`` (the same preprocessors as ``nbgrader autograde``; the test cells are judged in
   the worker), then that student's feedback. The class has a warm parent sandbox
   (:mod:`attnkit.grading.grader.warm`, started alongside the forkserver) that imported numpy, IPython
   and torch once: every student's kernel is forked from it into namespaces, a scratch folder and
   a uid of its own, so a student pays neither an interpreter start nor a torch import (where the
   warm parent cannot isolate a kernel, each student gets a one-off sandbox, as in
   ``nbgrader autograde``);
3. ``nbgrader export`` to ``grades.csv`` and the statuses in ``grading_status.csv`` beside it
   (and in the gradebook: the notebook is flagged for review unless its status is *graded*, and
   the status and flags are the automatic comment of its first comment cell).

One broken submission never stops the batch: an error is that student's status. Each returned row
also says which ``kernels`` graded it (``warm`` or ``one-off``); grade-class warns loudly on stderr
when a class that has a warm parent had any submission graded in a one-off sandbox. (From a script,
call :func:`grade_class` under ``if __name__ == "__main__":``, as for any multiprocessing pool.)
"""
from __future__ import annotations

import multiprocessing
import os
import sys
import tempfile
import time
import types
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from attnkit.grading.course.comment import status_text
from attnkit.grading.course.triage import Triaged, triage
from attnkit.grading.grader import judge, sandbox
from attnkit.grading.grader.warm import WarmClient, WarmParent

__all__ = ["grade_class", "triage", "finish_submission", "main", "default_workers", "warm_warning"]


_API: Any = None
_QUIZ = ""
_CLIENT: WarmClient | None = None  # this worker's connection to the class's warm parent


def _config(course: Path, timeout: int | None, allow_unsandboxed: bool) -> Any:
    from traitlets.config.loader import PyFileConfigLoader

    cfg = PyFileConfigLoader("nbgrader_config.py", path=str(course)).load_config()
    cfg.CourseDirectory.root = str(course)
    if timeout:
        cfg.JudgeInSandbox.timeout = int(timeout)
    if allow_unsandboxed:
        cfg.JudgeInSandbox.allow_unsandboxed = True
    return cfg


def _api(course: Path, cfg: Any) -> Any:
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory

    return NbGraderAPI(coursedir=CourseDirectory(config=cfg), config=cfg)


WARM = ["attnkit.grading.course._preload", "nbgrader.apps", "nbgrader.preprocessors", "nbconvert", "torch",
        "attnkit.grading.content.engine", "attnkit.grading.checks", "attnkit.grading.grader.judge",
        "attnkit.grading.course.autograde", "attnkit.grading.grader.warm"]


def _cache_templates() -> None:
    """Keep jinja2's compiled templates in memory for the worker's life: nbgrader makes a new
    feedback exporter, hence a new jinja environment, for every student, and compiling nbconvert's
    HTML templates again costs more than rendering them. jinja's own bucket key (template name and
    source checksum) decides a hit, so a changed template is compiled afresh."""
    import jinja2
    from nbconvert.exporters.templateexporter import TemplateExporter

    class MemoryCache(jinja2.BytecodeCache):
        def __init__(self) -> None:
            self.store: dict[str, bytes] = {}

        def load_bytecode(self, bucket: Any) -> None:
            if bucket.key in self.store:
                bucket.bytecode_from_string(self.store[bucket.key])

        def dump_bytecode(self, bucket: Any) -> None:
            self.store[bucket.key] = bucket.bytecode_to_string()

    cache, create = MemoryCache(), TemplateExporter._create_environment

    def _create_environment(exporter: Any) -> Any:
        environment = create(exporter)
        environment.bytecode_cache = cache
        return environment

    TemplateExporter._create_environment = _create_environment


def _reuse_nbgrader_setup() -> None:
    """Two of nbgrader's per-notebook costs paid once per worker instead, with the same results:
    ``jsonschema.validate`` checks nbgrader's cell schema against the meta-schema before validating
    each cell's metadata (the schema never changes: check it once, keep its validator), and every
    ``Gradebook`` makes a new SQLAlchemy engine, whose statement cache starts empty (keep one engine
    per database URL; ``Gradebook.close`` still disposes of its connections)."""
    import jsonschema
    import nbgrader.api
    from nbgrader.nbgraderformat import common

    validators: dict[int, Any] = {}

    def validate(instance: Any, schema: Any) -> None:
        if id(schema) not in validators:
            cls = jsonschema.validators.validator_for(schema)
            cls.check_schema(schema)
            validators[id(schema)] = (schema, cls(schema))  # the schema is kept alive with its id
        error = jsonschema.exceptions.best_match(validators[id(schema)][1].iter_errors(instance))
        if error is not None:
            raise error

    common.jsonschema = types.SimpleNamespace(validate=validate)
    engines: dict[tuple, Any] = {}
    create_engine = nbgrader.api.create_engine

    def shared_engine(url: Any, **kwargs: Any) -> Any:
        key = (str(url), tuple(sorted(kwargs.items())))
        if key not in engines:
            engines[key] = create_engine(url, **kwargs)
        return engines[key]

    nbgrader.api.create_engine = shared_engine


def _init_worker(course: str, quiz: str, timeout: int | None, allow_unsandboxed: bool, spool: str) -> None:
    global _API, _QUIZ, _CLIENT
    os.chdir(course)
    warnings.filterwarnings("ignore", module="nbgrader")  # SQLAlchemy's autoflush notes, once per student
    warnings.filterwarnings("ignore", message="Cell is missing an id field")  # nbformat normalises them
    _cache_templates()
    _reuse_nbgrader_setup()
    if spool:
        # every student's kernel is forked from the class's warm parent (see grade_class)
        _CLIENT = WarmClient(spool)
        judge.use_warm_parent(_CLIENT)
    _API, _QUIZ = _api(Path(course), _config(Path(course), timeout, allow_unsandboxed)), quiz


def _grade_one(student: str, quiz: str = "") -> tuple[str, dict[str, Any], float]:
    """nbgrader's autograde and feedback of one student in this worker (``quiz``: the worker's
    quiz unless given: a queue worker grades any quiz)."""
    quiz = quiz or _QUIZ
    start = time.perf_counter()
    result: dict[str, Any] = {}
    for attempt in range(3):  # sqlite may be busy with another worker's write
        try:
            result = _API.autograde(quiz, student, force=True, create=True)
        except Exception as exc:  # never let one student stop the batch
            result = {"success": False, "error": f"{type(exc).__name__}: {exc}", "log": ""}
        if result.get("success") or "locked" not in str(result.get("error", "")) + str(result.get("log", "")):
            break
        time.sleep(0.5 * (attempt + 1))
    if result.get("success"):
        try:
            _API.generate_feedback(quiz, student, force=True)
        except Exception as exc:
            result["feedback_error"] = str(exc)
    # which kernel graded it: forked from the warm parent (still connected), or a one-off sandbox
    result["kernels"] = "warm" if _CLIENT is not None and _CLIENT.channel is not None else "one-off"
    if _CLIENT is not None and _CLIENT.failed:
        result["warm_failed"] = _CLIENT.failed
    return student, {k: str(v)[-2000:] for k, v in result.items()}, time.perf_counter() - start


def _mark(course: Path, cfg: Any, quiz: str, student: str, text: str, zero: bool) -> None:
    """Flag a submission for review in the gradebook, with ``text`` as its automatic comment;
    ``zero``: it could not be run, so it gets an entry with 0 points."""
    from nbgrader.api import Gradebook
    from nbgrader.coursedir import CourseDirectory

    with Gradebook(CourseDirectory(config=cfg).db_url, CourseDirectory(config=cfg).course_id) as gb:
        gb.update_or_create_student(student)
        submission = gb.update_or_create_submission(quiz, student) if zero else \
            gb.find_submission(quiz, student)
        for notebook in submission.notebooks:
            notebook.flagged = True
            if zero:
                for grade in notebook.grades:
                    grade.auto_score = 0
                    grade.needs_manual_grade = False
            comments = sorted(notebook.comments, key=lambda c: c.name)
            if comments:
                comments[0].auto_comment = text
        gb.db.commit()


def export(course: Path, cfg: Any, to: str = "grades.csv") -> Path:
    """nbgrader's CSV export (the same plugin ``nbgrader export`` uses)."""
    from nbgrader.api import Gradebook
    from nbgrader.coursedir import CourseDirectory
    from nbgrader.plugins import CsvExportPlugin

    path = course / to
    with Gradebook(CourseDirectory(config=cfg).db_url, CourseDirectory(config=cfg).course_id) as gb:
        CsvExportPlugin(to=str(path)).export(gb)
    return path


def default_workers() -> int:
    """One worker per core, plus one: a worker waiting on a slow notebook (a learner's sleep, a
    hang until its time limit) leaves its core to the others."""
    return (os.cpu_count() or 1) + 1


def grade_class(quiz: str, course_dir: str | Path = ".", workers: int | None = None, timeout: int | None = None,
                allow_unsandboxed: bool = False, students: Sequence[str] | None = None,
                feedback: bool = True, progress: Callable[[int, int], None] | None = None) -> list[dict[str, str]]:
    """Grade every submission of ``quiz`` in ``course_dir``; returns the status rows (one per student).
    ``progress(done, total)`` is called as each submission is graded."""
    workers = workers or default_workers()
    course = Path(course_dir).resolve()
    sandboxed = sandbox.check_available(allow_unsandboxed)  # refuse loudly before anything runs
    cfg = _config(course, timeout, allow_unsandboxed)
    if students is None:
        students = sorted(p.name for p in (course / "submitted").iterdir() if (p / quiz).is_dir()) \
            if (course / "submitted").is_dir() else []
    triaged = triage(course, quiz, students)
    runnable = [t.student for t in triaged if t.ok]
    outcomes: dict[str, dict[str, Any]] = {}
    if not runnable:
        return _finish(course, quiz, triaged, outcomes, cfg)
    # the warm parent of every kernel imports torch in its sandbox while the forkserver imports
    # nbgrader and torch here: the two starts overlap
    warm = WarmParent(tempfile.mkdtemp(prefix="attnkit-grade-class-"), label=f"grade-class:{course}").spawn() \
        if sandboxed else None
    spool = str(warm.spool) if warm else ""
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(WARM)  # imported once; every worker is forked from there
    try:
        with context.Pool(max(1, min(workers, len(runnable))), initializer=_init_worker,
                          initargs=(str(course), quiz, timeout, allow_unsandboxed, spool)) as pool:
            for student, outcome, seconds in pool.imap_unordered(_grade_one, runnable):
                outcomes[student] = {**outcome, "seconds": seconds}
                if progress is not None:
                    progress(len(outcomes), len(runnable))
            rows = pool.apply(_finish, (course, quiz, triaged, outcomes, cfg))  # nbgrader is loaded there
            if warm is not None and (warning := warm_warning(outcomes)):
                print(warning, file=sys.stderr, flush=True)
            pool.close()
            pool.join()  # workers end on their own: their warm parents die with them
    finally:
        if warm is not None:
            warm.close()
    return rows


def warm_warning(outcomes: dict[str, dict[str, Any]]) -> str | None:
    """The loud note grade-class prints when some submissions were graded in one-off sandboxes
    although the class has a warm parent (None if every kernel was warm)."""
    cold = sorted(s for s, o in outcomes.items() if o.get("kernels") == "one-off")
    if not cold:
        return None
    why = next((o["warm_failed"] for o in outcomes.values() if o.get("warm_failed")), "the warm parent went away")
    return (f"attnkit grade-class: WARNING: NO WARM KERNELS for {len(cold)} of {len(outcomes)} submissions "
            f"({', '.join(cold[:5])}{', ...' if len(cold) > 5 else ''}): each was graded in a one-off sandbox "
            f"(as safe, slower).\n  Why: {why}"[:2000])


def _finish(course: Path, quiz: str, triaged: list[Triaged], outcomes: dict[str, dict[str, Any]],
            cfg: Any) -> list[dict[str, str]]:
    """The statuses (in grading_status.csv and the gradebook) and nbgrader's export. Run by a
    worker, which has nbgrader imported already, or here when no submission could be run."""
    statuses = judge.read_status(course)
    rows = [{**finish_submission(course, quiz, t, outcomes.get(t.student, {}), cfg, statuses),
             "kernels": outcomes.get(t.student, {}).get("kernels", "")} for t in triaged]
    export(course, cfg)
    return rows


def finish_submission(course: Path, quiz: str, t: Triaged, outcome: dict[str, Any], cfg: Any,
                      statuses: dict[tuple[str, str], dict[str, str]]) -> dict[str, str]:
    """One submission's status row (also written to grading_status.csv and the gradebook), from its
    triage, its grading outcome (:func:`_grade_one`) and the rows nbgrader's RecordStatus wrote."""
    row = dict(statuses.get((t.student, quiz), {}))
    if not t.ok:
        _mark(course, cfg, quiz, t.student, status_text("malformed", t.notes, t.flags), zero=True)
        row = {"student_id": t.student, "assignment": quiz, "score": "0", "max_score": "", "status": "malformed",
               "notes": "; ".join(t.notes), "flags": " | ".join(t.flags)}
    elif not outcome.get("success") == "True" or not row:
        error = outcome.get("error", "") or "no result"
        row = {"student_id": t.student, "assignment": quiz, "score": row.get("score", "0"),
               "max_score": row.get("max_score", ""), "status": "crashed",
               "notes": f"nbgrader could not grade it: {error}"[:500], "flags": row.get("flags", "")}
    if (t.notes or t.flags) and t.ok:
        notes = [n for n in row.get("notes", "").split("; ") if n] + t.notes
        flags = list(dict.fromkeys([f for f in row.get("flags", "").split(" | ") if f] + t.flags))
        row["notes"], row["flags"] = "; ".join(dict.fromkeys(notes)), " | ".join(flags)
        row["status"] = judge.combine_status(notes + [row.get("status", "graded")])
        _mark(course, cfg, quiz, t.student, status_text(row["status"], row["notes"].split("; "), flags), zero=False)
    judge.write_status_row(course, row)
    return row


def _progress(done: int, total: int) -> None:
    if sys.stderr.isatty():
        print(f"\r  graded {done}/{total} submissions", end="\n" if done == total else "", file=sys.stderr, flush=True)
    elif done % 10 == 0 or done == total:
        print(f"  graded {done}/{total} submissions", file=sys.stderr, flush=True)


def main(quiz: str, course_dir: str = ".", workers: int | None = None, timeout: int | None = None,
         allow_unsandboxed: bool = False) -> int:
    start = time.perf_counter()
    workers = workers or default_workers()
    rows = grade_class(quiz, course_dir, workers, timeout, allow_unsandboxed, progress=_progress)
    seconds = time.perf_counter() - start
    print(f"{quiz}: {len(rows)} submissions graded in {seconds:.1f} s with {workers} workers")
    print(f"  {'student':24} {'score':>7}  status")
    for row in sorted(rows, key=lambda r: r["student_id"]):
        flags = f"  flags: {row['flags'][:100]}" if row.get("flags") else ""
        print(f"  {row['student_id']:24} {row['score']:>3}/{row.get('max_score') or '?':<3}  {row['status']}{flags}")
    course = Path(course_dir)
    print(f"\ngrades: {course / 'grades.csv'}\nstatuses: {course / judge.STATUS_FILE}\n"
          f"feedback: {course / 'feedback'}/<student>/{quiz}/")
    return 0 if all(r["status"] == "graded" for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
