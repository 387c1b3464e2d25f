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


def test_queue_init_records_versions_and_refuses_another_procrastinate_schema(postgres, tmp_path) -> None:
    """``attnkit queue init`` is idempotent; a database holding procrastinate's schema of another
    version is refused with both versions and the migrations to apply named, and so is a worker;
    ``--schema-migrated`` records the installed version; a database set up before the version
    table existed gets it (and the status table's newer column)."""
    sys.path.insert(0, str(Path(__file__).parent))
    from queueharness import attnkit, queue_env

    from attnkit.grading.queue.app import procrastinate_schema

    postgres.createdb("gb_schema")
    env = queue_env(postgres, "gb_schema")
    schema, package = procrastinate_schema()
    first = attnkit(["queue", "init"], tmp_path, env)
    assert first.returncode == 0 and "procrastinate schema" in first.stdout and "attnkit_grading" in first.stdout
    assert "already set up" in attnkit(["queue", "init"], tmp_path, env).stdout
    recorded = "SELECT version || ' ' || package FROM attnkit_queue_schema WHERE component = 'procrastinate'"
    assert postgres.psql(recorded, "gb_schema") == f"{schema} {package}"

    older = "03.00.00_01_pre_cancel_notification"
    postgres.psql(f"UPDATE attnkit_queue_schema SET version = '{older}', package = '3.0.0' "
                  "WHERE component = 'procrastinate'", "gb_schema")
    refused = attnkit(["queue", "init"], tmp_path, env, check=False)
    assert refused.returncode == 2, refused.stdout
    for part in (older, "procrastinate 3.0.0", f"procrastinate {package}", schema, "03.01.00_50_post_add_heartbeat.sql",
                 "procrastinate schema --migrations-path", "--schema-migrated", "docs/deploy.md"):
        assert part in refused.stderr, (part, refused.stderr)
    worker = attnkit(["queue", "worker", "--burst"], tmp_path, env, check=False)
    assert worker.returncode == 2 and "attnkit queue init" in worker.stderr, worker.stderr
    migrated = attnkit(["queue", "init", "--schema-migrated"], tmp_path, env)
    assert migrated.returncode == 0 and postgres.psql(recorded, "gb_schema") == f"{schema} {package}"

    postgres.psql("UPDATE attnkit_queue_schema SET version = '99.00.00_01_pre_future', package = '99.0.0' "
                  "WHERE component = 'procrastinate'", "gb_schema")
    newer = attnkit(["queue", "init"], tmp_path, env, check=False)
    assert newer.returncode == 2 and "99.0.0" in newer.stderr and "never downgraded" in newer.stderr, newer.stderr

    # a database of an attnkit before the version table: taken to hold the installed schema, brought up to date
    postgres.psql("DROP TABLE attnkit_queue_schema; ALTER TABLE attnkit_grading DROP COLUMN gradings", "gb_schema")
    upgraded = attnkit(["queue", "init"], tmp_path, env)
    assert upgraded.returncode == 0 and "attnkit_grading (migration 2)" in upgraded.stdout, upgraded.stdout
    assert postgres.psql(recorded, "gb_schema") == f"{schema} {package}"
    assert postgres.psql("SELECT count(*) FROM information_schema.columns WHERE table_name = 'attnkit_grading' "
                         "AND column_name = 'gradings'", "gb_schema") == "1"


POOLED = """
import sys
from nbgrader.api import Gradebook
from sqlalchemy import text
from attnkit.grading.queue import gradebook

gradebook.reuse_connections()
url = sys.argv[1]


def backend():
    with Gradebook(url, "attnkit") as gb:
        return gb.db.execute(text("SELECT pg_backend_pid()")).scalar()


before = {backend() for _ in range(6)}
with Gradebook(url, "attnkit") as gb:
    gb.add_student("s_pool")
print(len(before), flush=True)
sys.stdin.readline()  # the test restarts the server here
gradebook.ping()
with Gradebook(url, "attnkit") as gb:
    print(gb.find_student("s_pool").id, backend() not in before, flush=True)
"""


def test_a_worker_keeps_its_gradebook_connections_and_survives_a_restart(postgres) -> None:
    """A queue worker's nbgrader (attnkit/grading/queue/gradebook.py): six gradebooks opened one after the
    other use one server connection (nbgrader alone opens one each), and after the server restarts
    one ping gets a new connection: the worker goes on without losing an attempt."""
    url = postgres.createdb("gb_pool")
    database.init_gradebook(url)
    worker = subprocess.Popen([sys.executable, "-c", POOLED, url], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, cwd=REPO)
    try:
        assert worker.stdout.readline().strip() == "1", worker.stderr.read()[-3000:]
        postgres.restart(down_s=1)
        out, err = worker.communicate("\n", timeout=120)
    finally:
        if worker.poll() is None:
            worker.kill()
    assert worker.returncode == 0 and out.split() == ["s_pool", "True"], (out, err[-3000:])


PREPARED = """
import sys
from nbgrader.api import Gradebook, Student
from sqlalchemy import text
from attnkit.grading.queue import gradebook

gradebook.reuse_connections()
url = sys.argv[1]
with Gradebook(url, "attnkit") as gb:
    gb.add_student("s_kept")
for _ in range(8):  # a job's ping, then reads, each in a Gradebook of its own, as nbgrader's autograde opens them
    gradebook.ping()
    with Gradebook(url, "attnkit") as gb:
        gb.find_student("s_kept")
with Gradebook(url, "attnkit") as gb:
    print(gb.db.execute(text("SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE '%FROM student%'"))
          .scalar())
with Gradebook(url, "attnkit") as gb:  # writes never committed: closing rolls them back
    gb.db.execute(text("INSERT INTO student (id) VALUES ('s_executed')"))
with Gradebook(url, "attnkit") as gb:
    gb.db.add(Student(id="s_flushed"))
    gb.db.flush()
try:  # a failed flush: the error nbgrader sees is its own, and the session is rolled back
    with Gradebook(url, "attnkit") as gb:
        gb.db.add(Student(id="s_kept"))
        gb.db.flush()
except Exception as exc:
    print(type(exc).__name__)
with Gradebook(url, "attnkit") as gb:
    print(sorted(s.id for s in gb.students))
"""


def test_a_worker_keeps_its_statements_prepared_and_rolls_back_writes(postgres) -> None:
    """nbgrader's reads leave a transaction open that closing a Gradebook rolled back, and psycopg forgets
    every prepared statement at a ROLLBACK: PostgreSQL planned each of a job's statements again. A worker's
    Gradebook ends a transaction that wrote nothing with COMMIT (statements stay prepared), and one that
    wrote without committing is still rolled back. The ping at the start of each job keeps them too."""
    url = postgres.createdb("gb_prepared")
    database.init_gradebook(url)
    done = subprocess.run([sys.executable, "-c", PREPARED, url], capture_output=True, text=True, cwd=REPO,
                          timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    prepared, failed, students = done.stdout.splitlines()
    assert int(prepared) >= 1, done.stdout
    assert failed == "IntegrityError", done.stdout
    assert students == "['s_kept']", done.stdout
