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

# Trap 2: a learner who deletes a test cell must not dodge it: the cell is put back and graded.
c.OverwriteCells.add_missing_cells = True

# Trap 3: feedback must not reveal hidden tests, neither their source nor their tracebacks.
# nbgrader's default feedback shows both; this preprocessor removes the hidden regions and
# keeps only the error's one-line message in test cells.
c.GenerateFeedback.preprocessors = [
    "nbgrader.preprocessors.GetGrades",
    "attnkit.grading.course.feedback.HideHiddenTests",
    "attnkit.grading.course.revisit.RevisitSections",  # the lesson sections to revisit under each miss
    "attnkit.grading.course.feedback.SafeOutputs",
    "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor",
]

# Trap 7: nothing a submission wrote runs in a browser. The feedback pages and formgrader
# render the autograded notebook: its kernel outputs are kept to plain text and raster images
# (SafeOutputs, in autograde and in feedback), its Markdown is rendered by safe_markdown2html (raw
# HTML as text; no script, event handler, javascript: link or remote image; nbgrader's templates
# ignore nbconvert's sanitize_html for Markdown, which covers outputs), the status comment is escaped
# (attnkit/grading/course/comment.py), and the pages load no script from a CDN: attnkit's
# templates folder, searched first, replaces nbconvert's MathJax loader (formulas stay as TeX).
from importlib.util import find_spec  # noqa: E402  (no import of attnkit or nbgrader: they would load torch)

c.HTMLExporter.sanitize_html = True
c.HTMLExporter.filters = {"markdown2html": "attnkit.grading.course.feedback.safe_markdown2html"}
c.HTMLExporter.extra_template_basedirs = [
    os.path.join(find_spec("attnkit").submodule_search_locations[0], "grading", "course", "templates"),
    os.path.join(find_spec("nbgrader").submodule_search_locations[0], "server_extensions", "formgrader", "templates"),
]
# Links and special files in a submission folder are never copied (nbgrader's shutil.copy follows
# links): the hooks make nbgrader's converters copy regular files only.
c.GenerateFeedback.pre_convert_hook = "attnkit.grading.course.triage.copy_regular_files_only"
# and each page written gets the course's WCAG 2.1 AA fixes (contrast, the page's language)
c.GenerateFeedback.post_convert_hook = "attnkit.grading.course.feedback.accessible_feedback_pages"

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
    "attnkit.grading.course.feedback.SafeOutputs",
    "nbgrader.preprocessors.IgnorePattern",
    "nbconvert.preprocessors.ClearMetadataPreprocessor",
    "nbgrader.preprocessors.LimitOutput",
    "nbgrader.preprocessors.SaveAutoGrades",
    "nbgrader.preprocessors.AssignLatePenalties",
    "nbgrader.preprocessors.CheckCellMetadata",
    "attnkit.grading.course.autograde.RecordStatus",
    # the misconception recognised per test cell, in the gradebook's database (`attnkit report`)
    "attnkit.grading.course.misconceptions.RecordMisconceptions",
]
# notebooks saved under another name are graded as <quiz>.ipynb (status renamed); links and special
# files in the folder are flagged and never copied; a file that is not a notebook (or is a link)
# gets 0 and the status malformed (attnkit/grading/course/triage.py)
c.Autograde.pre_convert_hook = "attnkit.grading.course.autograde.triage_files"
# the grading limits (seconds per cell, memory, ...) are attnkit/grading/limits.py's; override one with e.g.
# c.JudgeInSandbox.timeout = 30

# Trap 4 (stderr output zeroes a test cell) and trap 5 (a bare False expression earns full
# credit) are handled in the quiz notebooks: test cells only call attnkit.grading.checks
# functions, which silence the learner's stderr and warnings and return None.
