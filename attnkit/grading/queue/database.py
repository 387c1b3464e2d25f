"""Which database a course uses, and a PostgreSQL gradebook set up correctly.

The gradebook is nbgrader's: ``c.CourseDirectory.db_url`` in the course's ``nbgrader_config.py``
(SQLite ``gradebook.db`` in the course folder by default). ``ATTNKIT_DATABASE_URL`` in the
environment overrides it for every command (nbgrader's CLI too: ``nbgrader_config.py`` reads it),
and the grading queue (:mod:`attnkit.grading.queue.app`) lives in the same PostgreSQL database.

    database_url(".")                      # 'postgresql+psycopg://grader@db/attnkit?...' or 'sqlite:///.../gradebook.db'
    init_gradebook(url)                    # tables, alembic_version at nbgrader's head, the course row

Two traps of nbgrader 0.9 with PostgreSQL (docs/deploy.md), handled by :func:`init_gradebook`:
``nbgrader db upgrade`` on an empty database fails (alembic starts from the empty revision; it is
never called here: an empty database gets nbgrader's tables and is stamped at the head), and
``Gradebook()`` creates the tables *before* it calls the ``alembic`` tool from ``PATH``, and only
when the database had no table at all: without the tool, or with another application's tables
already there (the queue's), ``alembic_version`` is never created. Here the head revision is read
in this process from nbgrader's own migration scripts, so ``PATH`` does not matter.
"""
from __future__ import annotations

import os
import re
from pathlib import Path

__all__ = ["ENV", "database_url", "sqlalchemy_url", "libpq_url", "is_postgres", "init_gradebook",
           "alembic_head", "gradebook_revision"]

ENV = "ATTNKIT_DATABASE_URL"
# nbgrader_config.py rewrites ATTNKIT_DATABASE_URL with this same pattern (it must not import attnkit)
_SCHEME = re.compile(r"^postgres(?:ql)?(?:\+\w+)?://")


def sqlalchemy_url(url: str) -> str:
    """``postgresql://...`` (libpq form, as instructors write it) as SQLAlchemy's URL with the
    psycopg 3 driver; other URLs (``sqlite:///...``) unchanged."""
    return _SCHEME.sub("postgresql+psycopg://", url, count=1)


def libpq_url(url: str) -> str:
    """The same database as a libpq connection URI (what psycopg and procrastinate take)."""
    return _SCHEME.sub("postgresql://", url, count=1)


def is_postgres(url: str) -> bool:
    return bool(_SCHEME.match(url))


def database_url(course_dir: str | Path = ".") -> str:
    """The course's gradebook URL (SQLAlchemy form): ``ATTNKIT_DATABASE_URL``, else
    ``c.CourseDirectory.db_url`` of ``<course_dir>/nbgrader_config.py``, else nbgrader's default
    ``sqlite:///<course_dir>/gradebook.db``."""
    if os.environ.get(ENV):
        return sqlalchemy_url(os.environ[ENV])
    course = Path(course_dir).resolve()
    if (course / "nbgrader_config.py").exists():
        from traitlets.config.loader import PyFileConfigLoader

        cfg = PyFileConfigLoader("nbgrader_config.py", path=str(course)).load_config()
        if "db_url" in cfg.CourseDirectory:
            return sqlalchemy_url(str(cfg.CourseDirectory.db_url))
    return f"sqlite:///{course / 'gradebook.db'}"


def alembic_head() -> str:
    """nbgrader's newest gradebook revision, from its migration scripts (no ``alembic`` tool)."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory
    from nbgrader.dbutil import ALEMBIC_DIR

    config = Config()
    config.set_main_option("script_location", ALEMBIC_DIR)
    return ScriptDirectory.from_config(config).get_current_head()


def gradebook_revision(url: str) -> str | None:
    """The revision in ``alembic_version``, or None when the table is missing."""
    from sqlalchemy import create_engine, inspect, text

    engine = create_engine(sqlalchemy_url(url))
    try:
        with engine.connect() as conn:
            if "alembic_version" not in inspect(conn).get_table_names():
                return None
            return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    finally:
        engine.dispose()


def init_gradebook(url: str, course_id: str = "attnkit") -> None:
    """Create or upgrade nbgrader's gradebook at ``url``; idempotent, safe beside other tables.

    An empty database (or one holding only other applications' tables) gets nbgrader's tables and
    ``alembic_version`` at the head; one with the tables but no ``alembic_version`` (the trap
    above) is stamped at the head, since ``create_all`` made the newest schema; an older revision
    is upgraded by nbgrader's own migrations, run in this process. Then the course row exists.
    """
    from alembic import command
    from alembic.config import Config
    from nbgrader.api import Base, Gradebook
    from nbgrader.dbutil import ALEMBIC_DIR
    from sqlalchemy import create_engine, inspect, text

    url = sqlalchemy_url(url)
    head = alembic_head()
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            if is_postgres(url):  # one bootstrap at a time (several workers may start together)
                conn.execute(text("SELECT pg_advisory_xact_lock(1919191919)"))
            tables = set(inspect(conn).get_table_names())
            if "alembic_version" not in tables:
                Base.metadata.create_all(bind=conn)  # the newest schema: stamp it at the head
                conn.execute(text("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL, "
                                  "CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num))"))
                conn.execute(text("INSERT INTO alembic_version (version_num) VALUES (:v)"), {"v": head})
            current = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    finally:
        engine.dispose()
    if current != head:  # an older gradebook: nbgrader's migrations (what `nbgrader db upgrade` runs)
        config = Config()
        config.set_main_option("script_location", ALEMBIC_DIR)
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
        command.upgrade(config, "head")
    Gradebook(url, course_id).close()  # the course row
