"""nbgrader configuration for the attnkit course (the repository root is the course directory).

Run nbgrader's own CLI from the repository root: ``nbgrader generate_assignment q4_qkv_math``,
``nbgrader autograde q4_qkv_math``, ``nbgrader generate_feedback q4_qkv_math``, ``nbgrader export``.
See docs/grading.md for the whole instructor workflow and the traps this file handles.
"""
import os
import re
import sys

_ROOT = os.path.dirname(os.path.abspath(__file__))
# The autograding kernel must import attnkit even when the package is not installed:
# nbgrader's kernel inherits this environment.
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)
os.environ["PYTHONPATH"] = os.pathsep.join(
    p for p in (_ROOT, os.environ.get("PYTHONPATH", "")) if p
)
# nbgrader runs the `alembic` tool from PATH to set up gradebook.db: find it next to this Python,
# so `.venv/bin/nbgrader ...` works without activating the environment.
os.environ["PATH"] = os.pathsep.join((os.path.dirname(sys.executable), os.environ.get("PATH", "")))

c = get_config()  # noqa: F821 (injected by traitlets when nbgrader loads this file)

c.CourseDirectory.course_id = "attnkit"
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "quizzes"

# The gradebook: SQLite gradebook.db here by default. ATTNKIT_DATABASE_URL=postgresql://... puts it (and
# the grading queue) on that PostgreSQL server for every command; or set c.CourseDirectory.db_url here.
# Before the first use: `attnkit queue init` (docs/deploy.md; never `nbgrader db upgrade` on an empty
# database). The same rewrite to the psycopg 3 driver as attnkit.grading.queue.database.sqlalchemy_url.
if os.environ.get("ATTNKIT_DATABASE_URL"):
    c.CourseDirectory.db_url = re.sub(r"^postgres(?:ql)?(?:\+\w+)?://", "postgresql+psycopg://",
                                      os.environ["ATTNKIT_DATABASE_URL"], count=1)

# Trap 1: an infinite loop must cost one question, not the quiz. Each cell gets `timeout`
# seconds, then the kernel is interrupted and the next cell runs.
c.Execute.timeout = 60
c.Execute.interrupt_on_timeout = True

# Trap 2: a learner who deletes a test cell must not dodge it: the cell is put back and graded.
c.OverwriteCells.add_missing_cells = True

# Trap 3: feedback must not reveal hidden tests, neither their source nor their tracebacks.
# nbgrader's default feedback shows both; this preprocessor removes the hidden regions and
# keeps only the error's one-line message in test cells.
c.GenerateFeedback.preprocessors = [
    "nbgrader.preprocessors.GetGrades",
    "attnkit.grading.course.feedback.HideHiddenTests",
    "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor",
]

# Trap 6 and issue 12: student code never judges itself. nbgrader's Execute (student code and
# tests in one kernel that decides its own grade) is replaced: the notebook runs in a bubblewrap
# sandbox (attnkit/grading/grader/sandbox.py: unprivileged user, only its own folder, no network,
# limits), the test cells are judged in the grader's process from plain data
# (attnkit/grading/grader/judge.py, autograde.py), and each submission ends with a status in the gradebook and in
# grading_status.csv. Without bubblewrap, autograde refuses (ATTNKIT_ALLOW_UNSANDBOXED=1 overrides).
c.Autograde.sanitize_preprocessors = [
    "attnkit.grading.course.autograde.Triage",
    "nbgrader.preprocessors.ClearOutput",
    "nbgrader.preprocessors.DeduplicateIds",
    "nbgrader.preprocessors.OverwriteKernelspec",
    "nbgrader.preprocessors.OverwriteCells",
    "nbgrader.preprocessors.CheckCellMetadata",
]
c.Autograde.autograde_preprocessors = [
    "attnkit.grading.course.autograde.JudgeInSandbox",
    "nbgrader.preprocessors.IgnorePattern",
    "nbconvert.preprocessors.ClearMetadataPreprocessor",
    "nbgrader.preprocessors.LimitOutput",
    "nbgrader.preprocessors.SaveAutoGrades",
    "nbgrader.preprocessors.AssignLatePenalties",
    "nbgrader.preprocessors.CheckCellMetadata",
    "attnkit.grading.course.autograde.RecordStatus",
]
# notebooks saved under another name are graded as <quiz>.ipynb (status renamed); a file that is
# not a notebook gets 0 and the status malformed (nbgrader still logs that it cannot read it)
c.Autograde.pre_convert_hook = "attnkit.grading.course.autograde.triage_files"
c.JudgeInSandbox.timeout = 60  # seconds per cell (and per call of a learner's function)
c.JudgeInSandbox.memory_mb = 4096

# Trap 4 (stderr output zeroes a test cell) and trap 5 (a bare False expression earns full
# credit) are handled in the quiz notebooks: test cells only call attnkit.grading.checks
# functions, which silence the learner's stderr and warnings and return None.
