"""Issue 19: the gradebook on PostgreSQL (attnkit.grading.queue.database) against a real server.

The two traps of nbgrader 0.9 (docs/deploy.md) stay fixed: ``init_gradebook`` never needs
``nbgrader db upgrade`` on an empty database, and leaves ``alembic_version`` at nbgrader's head
even without the ``alembic`` tool on PATH and beside the queue's own tables; nbgrader's own CLI in
the course root then writes into that database when ``ATTNKIT_DATABASE_URL`` names it.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from attnkit.grading.queue import database

pytestmark = [pytest.mark.postgres, pytest.mark.slow]
REPO = Path(__file__).resolve().parents[1]


def test_the_url_comes_from_the_environment_then_the_config_then_sqlite(tmp_path, monkeypatch) -> None:
    monkeypatch.delenv(database.ENV, raising=False)
    assert database.database_url(tmp_path) == f"sqlite:///{tmp_path.resolve() / 'gradebook.db'}"
    (tmp_path / "nbgrader_config.py").write_text("c = get_config()\nc.CourseDirectory.db_url = "
                                                 "'postgresql://u@db.example/gb'\n")
    assert database.database_url(tmp_path) == "postgresql+psycopg://u@db.example/gb"
    monkeypatch.setenv(database.ENV, "postgres://grader@10.0.0.5:5432/attnkit")
    assert database.database_url(tmp_path) == "postgresql+psycopg://grader@10.0.0.5:5432/attnkit"
    assert database.libpq_url(database.database_url(tmp_path)) == "postgresql://grader@10.0.0.5:5432/attnkit"


def test_the_course_config_and_nbgrader_read_the_same_url(tmp_path, monkeypatch) -> None:
    """nbgrader_config.py rewrites ATTNKIT_DATABASE_URL itself (it must not import attnkit): the same
    URL as database_url, as nbgrader's own CourseDirectory sees it."""
    from nbgrader.coursedir import CourseDirectory
    from traitlets.config.loader import PyFileConfigLoader

    monkeypatch.setenv(database.ENV, "postgresql://grader@/gradebook_x?host=/run/pg")
    cfg = PyFileConfigLoader("nbgrader_config.py", path=str(REPO)).load_config()
    assert CourseDirectory(config=cfg).db_url == database.database_url(REPO)
    monkeypatch.delenv(database.ENV)
    cfg = PyFileConfigLoader("nbgrader_config.py", path=str(REPO)).load_config()
    assert CourseDirectory(config=cfg, root=str(tmp_path)).db_url.startswith("sqlite:///")


def test_an_empty_database_gets_the_head_revision_without_alembic_on_path(postgres, monkeypatch) -> None:
    url = postgres.createdb("gb_empty")
    monkeypatch.setenv("PATH", "/usr/bin:/bin")  # no alembic tool (trap 2)
    assert shutil.which("alembic") is None
    database.init_gradebook(url)
    head = database.alembic_head()
    assert database.gradebook_revision(url) == head == postgres.psql("SELECT version_num FROM alembic_version",
                                                                      "gb_empty")
    database.init_gradebook(url)  # idempotent
    assert postgres.psql("SELECT count(*) FROM alembic_version", "gb_empty") == "1"
    assert postgres.psql("SELECT id FROM course", "gb_empty") == "attnkit"


def test_the_trap_reproduced_then_repaired(postgres, monkeypatch) -> None:
    """nbgrader's Gradebook beside other tables (the queue's) creates its own tables but no
    alembic_version; nbgrader db upgrade on an empty database fails. init_gradebook repairs the first
    and makes the second unnecessary."""
    from nbgrader.api import Gradebook

    url = postgres.createdb("gb_trap")
    postgres.psql("CREATE TABLE procrastinate_jobs (id serial)", "gb_trap")
    Gradebook(url).close()
    assert database.gradebook_revision(url) is None  # the trap
    database.init_gradebook(url)
    assert database.gradebook_revision(url) == database.alembic_head()
    empty = postgres.createdb("gb_upgrade")
    env = {**os.environ, "PATH": str(Path(sys.executable).parent) + os.pathsep + os.environ["PATH"]}
    done = subprocess.run([sys.executable, "-m", "nbgrader", "db", "upgrade", f"--db={empty}"], env=env,
                          capture_output=True, text=True)
    assert done.returncode != 0 or database.gradebook_revision(empty) != database.alembic_head(), \
        "nbgrader db upgrade now works on an empty database: trap 1 is gone, update docs/deploy.md"


def test_nbgrader_in_the_course_root_writes_to_postgres(postgres, tmp_path, monkeypatch) -> None:
    from attnkit.grading.course.nbgrader_cli import make_course

    url = postgres.createdb("gb_cli")
    database.init_gradebook(url)
    monkeypatch.setenv(database.ENV, postgres.url("gb_cli", driver="postgresql"))
    course = make_course(tmp_path / "course", ["q4_qkv_math"])  # nbgrader generate_assignment
    assert not (course / "gradebook.db").exists()
    assert postgres.psql("SELECT name FROM assignment", "gb_cli") == "q4_qkv_math"
    assert int(postgres.psql("SELECT count(*) FROM grade_cells", "gb_cli")) > 0
