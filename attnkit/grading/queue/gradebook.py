"""A queue worker's gradebook connections: warm, pooled, and the schema checked once per worker.

nbgrader opens a new :class:`nbgrader.api.Gradebook` about 14 times to autograde one submission
and write its feedback (the autograde app, each of its gradebook preprocessors, the feedback's
``GetGrades``). Each one makes an engine, checks the schema (``inspect`` plus ``create_all``: a
catalog query per table) and its ``close`` disposes of the engine. On SQLite that is a file open;
on PostgreSQL it is a new server process per ``Gradebook`` (a fork, a login, cold catalog caches)
and some 250 round trips per submission, measured at about 0.4 s of the 1.2 s a job took.

:func:`reuse_connections` changes that for the life of one worker process, with nbgrader's
results unchanged:

* one SQLAlchemy engine per database URL, whose pool keeps its connections between
  ``Gradebook`` objects (``close`` ends the session and returns the connection to the pool instead
  of disposing of the engine); :func:`ping`, once at the start of each job, finds a connection
  that a database restart broke and has SQLAlchemy replace the pool's connections, so a worker
  goes on after an outage (a ping per ``Gradebook``, SQLAlchemy's ``pool_pre_ping``, would cost
  14 round trips per job);
* the schema check of ``Gradebook.__init__`` (create missing tables, stamp a new database) is
  done by the first ``Gradebook`` of each URL and course, as nbgrader does it (with the course
  row); later ones skip it. ``attnkit queue init`` created the schema before
  any worker ran (:func:`attnkit.grading.queue.database.init_gradebook`).
* the statements stay prepared. psycopg prepares a statement on a connection after its fifth
  execution, and forgets every prepared statement at each ROLLBACK. nbgrader's reads leave a
  transaction open that closing the session rolls back: 14 times per submission, so nothing was
  ever prepared and PostgreSQL planned every statement again (two of nbgrader's queries, the
  grade and comment of a cell with their score subqueries, 12 times per submission each, take
  about 2 ms to plan and 0.2 ms to run). ``close`` ends a transaction that wrote nothing
  (PostgreSQL assigned it no transaction id) with COMMIT, which has the same effect as a rollback
  and keeps them; one that wrote is rolled back as before (:func:`ping` commits its SELECT too).
  Measured with pg_stat_statements, 40 submissions through 2 worker processes: planning 2,930 ms
  -> 520 ms, the server's CPU per submission 0.134 -> 0.057 s, the run 39.0 s -> 34.2 s.

The worker calls it after ``classgrade``'s per-worker set-up; ``grade-class`` (SQLite) does not.
"""
from __future__ import annotations

from typing import Any

__all__ = ["reuse_connections", "ping"]

_ENGINES: dict[str, Any] = {}
_CHECKED: set[str] = set()


def _engine(url: Any) -> Any:
    from sqlalchemy import create_engine

    key = str(url)
    if key not in _ENGINES:
        _ENGINES[key] = create_engine(url, echo=False, future=True, pool_size=2, max_overflow=8)
    return _ENGINES[key]


def ping() -> None:
    """Use each pooled engine once: a connection broken by a database restart raises here (the
    job is then retried) and SQLAlchemy drops the pool's connections, so the next ones are new."""
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError

    for engine in _ENGINES.values():
        for attempt in (1, 2):
            try:
                with engine.connect() as conn:
                    conn.execute(text("SELECT 1"))
                    conn.commit()  # not the rollback of closing: psycopg would forget its prepared statements
                break
            except DBAPIError as exc:  # a broken connection: the pool is emptied, try a new one once
                if not exc.connection_invalidated or attempt == 2:
                    raise


def _commit_if_read_only(session: Any) -> None:
    """COMMIT the session's open transaction when it wrote nothing (no transaction id assigned):
    the same as the rollback that follows, without psycopg forgetting its prepared statements.
    A transaction that wrote, a failed one, or any error here: left to the rollback."""
    import psycopg
    from psycopg.pq import TransactionStatus
    from sqlalchemy.exc import SQLAlchemyError

    try:
        if not session.in_transaction():
            return
        raw = session.connection().connection.dbapi_connection  # raises in a session a failed flush left
        if raw is not None and raw.info.transaction_status == TransactionStatus.INTRANS and \
                raw.execute("SELECT txid_current_if_assigned() IS NULL").fetchone()[0]:
            raw.commit()  # SQLAlchemy's rollback then finds no transaction: psycopg sends nothing
    except (psycopg.Error, SQLAlchemyError):
        pass


def reuse_connections() -> None:
    """Patch nbgrader's ``Gradebook`` in this process (see the module docstring); idempotent."""
    from nbgrader import api
    from sqlalchemy.orm import scoped_session, sessionmaker

    if getattr(api.Gradebook, "_attnkit_pooled", False):
        return
    first_init = api.Gradebook.__init__

    def __init__(self: Any, db_url: str, course_id: str = "default_course", authenticator: Any = None) -> None:
        key = f"{db_url} {course_id}"
        if key not in _CHECKED:  # nbgrader's own __init__, on the shared engine
            create_engine, api.create_engine = api.create_engine, lambda url, **_: _engine(url)
            try:
                first_init(self, db_url, course_id, authenticator)
            finally:
                api.create_engine = create_engine
            _CHECKED.add(key)
            return
        self.engine = _engine(db_url)
        self.db = scoped_session(sessionmaker(autoflush=True, bind=self.engine, future=True))
        self.course_id = course_id
        self.authenticator = authenticator

    def close(self: Any) -> None:
        _commit_if_read_only(self.db())
        self.db.remove()  # the session ends (a rollback); its connection goes back to the worker's pool

    api.Gradebook.__init__ = __init__
    api.Gradebook.close = close
    api.Gradebook._attnkit_pooled = True
