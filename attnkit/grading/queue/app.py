"""The grading queue: a procrastinate app on the course's PostgreSQL database, and its one task.

One job grades one submission: ``attnkit:grade_submission(quiz, student, submitted_at)``, deferred
by ``attnkit queue submit`` with

* ``queueing_lock="<quiz>:<student>"``: at most one job of a student's quiz waits in the queue
  (a second defer raises procrastinate's ``AlreadyEnqueued``; :mod:`.submit` cancels a waiting
  job of an older submission before it defers the newer one);
* ``lock="<quiz>:<student>"``: two jobs of one student's quiz never run at once (nbgrader's
  gradebook writes are read-then-write);
* three attempts (:data:`ATTEMPTS`): an error of the grading machinery (the database went away,
  the submission folder vanished) is retried, then the job is ``failed`` with the reason in
  :data:`STATUS_TABLE`. A student's code cannot fail a job: a hang or a crash of its kernel is
  that submission's status, as in ``grade-class``.

The same database holds nbgrader's gradebook, procrastinate's tables (``procrastinate_*``) and
:data:`STATUS_TABLE`, one row per (quiz, student): the grading status of docs/grading.md, the
score, the last error, which worker graded it and how long it took.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from procrastinate import App, Blueprint, PsycopgConnector, RetryStrategy

from attnkit.grading.queue.database import init_gradebook, libpq_url

__all__ = ["TASK", "QUEUE", "ATTEMPTS", "STATUS_TABLE", "SCHEMA_TABLE", "SchemaMismatch", "blueprint", "make_app",
           "lock_of", "init_queue", "connect", "procrastinate_schema", "schema_problem"]

QUEUE = "grading"
TASK = "attnkit:grade_submission"
ATTEMPTS = 3
STATUS_TABLE = "attnkit_grading"
_STATUS_DDL = f"""CREATE TABLE IF NOT EXISTS {STATUS_TABLE} (
    quiz text NOT NULL, student text NOT NULL, submitted_at text NOT NULL DEFAULT '', job_id bigint,
    status text NOT NULL DEFAULT '', score text NOT NULL DEFAULT '', max_score text NOT NULL DEFAULT '',
    notes text NOT NULL DEFAULT '', flags text NOT NULL DEFAULT '', error text NOT NULL DEFAULT '',
    worker text NOT NULL DEFAULT '', seconds double precision, updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (quiz, student))"""
# our own schema changes, applied in order by `attnkit queue init` (the number is recorded in SCHEMA_TABLE)
_STATUS_MIGRATIONS = [
    _STATUS_DDL,
    f"ALTER TABLE {STATUS_TABLE} ADD COLUMN IF NOT EXISTS gradings integer NOT NULL DEFAULT 0",
]
SCHEMA_TABLE = "attnkit_queue_schema"  # what `attnkit queue init` applied: one row per component
_SCHEMA_DDL = f"""CREATE TABLE IF NOT EXISTS {SCHEMA_TABLE} (
    component text PRIMARY KEY, version text NOT NULL, package text NOT NULL DEFAULT '',
    applied_at timestamptz NOT NULL DEFAULT now())"""


class SchemaMismatch(RuntimeError):
    """The database holds procrastinate's schema of another version than the installed one's."""

blueprint = Blueprint()


def lock_of(quiz: str, student: str) -> str:
    return f"{quiz}:{student}"


@blueprint.task(name="grade_submission", queue=QUEUE, pass_context=True,
                retry=RetryStrategy(max_attempts=ATTEMPTS - 1, linear_wait=1))
def grade_submission(context: Any, quiz: str, student: str, submitted_at: str = "") -> None:
    """Runs on a worker (:mod:`attnkit.grading.queue.worker`), which configured :mod:`.jobs`."""
    from attnkit.grading.queue import jobs

    jobs.run(context.job.id, context.job.attempts, quiz, student, submitted_at)


def make_app(url: str) -> App:
    """The queue's app on the database at ``url`` (SQLAlchemy or libpq form)."""
    app = App(connector=PsycopgConnector(conninfo=libpq_url(url)))
    app.add_tasks_from(blueprint, namespace="attnkit")
    return app


def connect(url: str) -> Any:
    """A plain psycopg connection (autocommit) for the status table."""
    import psycopg

    return psycopg.connect(libpq_url(url), autocommit=True)


def procrastinate_schema() -> tuple[str, str]:
    """(the installed procrastinate's schema version, its package version). procrastinate ships a
    migration per schema change (``procrastinate schema --migrations-path``), named by the version
    that made it; its schema is the newest migration's (3.4.0's still holds for 3.10)."""
    from importlib.metadata import version

    from procrastinate.schema import SchemaManager

    files = sorted(p.stem for p in Path(SchemaManager.get_migrations_path()).glob("*.sql"))
    return files[-1], version("procrastinate")


def _missing_migrations(recorded: str) -> list[str]:
    from procrastinate.schema import SchemaManager

    return sorted(p.name for p in Path(SchemaManager.get_migrations_path()).glob("*.sql") if p.stem > recorded)


def _check_procrastinate(conn: Any, migrated: bool) -> str | None:
    """Compare the schema recorded in SCHEMA_TABLE with the installed procrastinate's; returns
    what was recorded anew (None: nothing), raises :class:`SchemaMismatch`."""
    schema, package = procrastinate_schema()
    row = conn.execute(f"SELECT version, package FROM {SCHEMA_TABLE} WHERE component = 'procrastinate'").fetchone()
    if row is not None and row[0] != schema and not migrated:
        if row[0] > schema:
            raise SchemaMismatch(
                f"the database holds procrastinate's schema {row[0]} (procrastinate {row[1]}), newer than this "
                f"attnkit's procrastinate {package} (schema {schema}): install the newer attnkit or procrastinate "
                "on this machine; a schema is never downgraded (docs/deploy.md, 'Upgrading the queue')")
        missing = _missing_migrations(row[0])
        raise SchemaMismatch(
            f"the database holds procrastinate's schema {row[0]} (procrastinate {row[1]}); this attnkit has "
            f"procrastinate {package} (schema {schema}). Stop every worker, apply in order the migrations "
            f"{', '.join(missing)} from `procrastinate schema --migrations-path` (psql -f each), then run "
            "`attnkit queue init --schema-migrated` (docs/deploy.md, 'Upgrading the queue')")
    if row is None or row[0] != schema:
        conn.execute(f"INSERT INTO {SCHEMA_TABLE} (component, version, package) VALUES ('procrastinate', %s, %s) "
                     "ON CONFLICT (component) DO UPDATE SET version = EXCLUDED.version, package = EXCLUDED.package, "
                     "applied_at = now()", (schema, package))
        return f"procrastinate schema {schema} recorded"
    return None


def schema_problem(url: str) -> str | None:
    """Why a worker must not start on this database (None: it may): ``attnkit queue init`` was not
    run there with this attnkit (its status table or procrastinate's schema is of another version)."""
    schema, package = procrastinate_schema()
    with connect(url) as conn:
        if conn.execute(f"SELECT to_regclass('{SCHEMA_TABLE}')").fetchone()[0] is None:
            return "the database has no grading queue yet, or one set up by an older attnkit: run `attnkit queue init`"
        found = dict(conn.execute(f"SELECT component, version FROM {SCHEMA_TABLE}").fetchall())
    if found.get("attnkit") != str(len(_STATUS_MIGRATIONS)):
        return (f"the status table is at version {found.get('attnkit')}, this attnkit needs "
                f"{len(_STATUS_MIGRATIONS)}: run `attnkit queue init`")
    if found.get("procrastinate") != schema:
        return (f"the database holds procrastinate's schema {found.get('procrastinate')}, this worker's procrastinate "
                f"{package} needs {schema}: run `attnkit queue init` (docs/deploy.md, 'Upgrading the queue')")
    return None


def init_queue(url: str, migrated: bool = False) -> list[str]:
    """``attnkit queue init``: the gradebook (:func:`init_gradebook`), procrastinate's schema and
    the status table, each created or brought up to date only when needed; returns what was done.

    The versions are recorded in :data:`SCHEMA_TABLE`. Our own status table's changes are applied
    in order. procrastinate's schema is created when missing; when the database holds the schema
    of another procrastinate version, :class:`SchemaMismatch` says which migrations to apply
    (procrastinate leaves applying them to the operator, in order, with workers stopped), and
    ``migrated=True`` (``--schema-migrated``) records the installed version once that is done. A
    database made before SCHEMA_TABLE existed is taken to hold the installed version's schema.
    """
    done = []
    init_gradebook(url)
    with connect(url) as conn:
        conn.execute("SELECT pg_advisory_lock(1919191920)")  # workers may start together
        try:
            conn.execute(_SCHEMA_DDL)
            if conn.execute("SELECT to_regclass('procrastinate_jobs')").fetchone()[0] is None:
                app = make_app(url)
                with app.open():
                    app.schema_manager.apply_schema()
                done.append("procrastinate schema")
            if (recorded := _check_procrastinate(conn, migrated)) and not done:
                done.append(recorded)
            row = conn.execute(f"SELECT version FROM {SCHEMA_TABLE} WHERE component = 'attnkit'").fetchone()
            exists = conn.execute(f"SELECT to_regclass('{STATUS_TABLE}')").fetchone()[0] is not None
            applied = (int(row[0]) if row else 1) if exists else 0
            for number, ddl in enumerate(_STATUS_MIGRATIONS[applied:], start=applied + 1):
                conn.execute(ddl)
                done.append(f"{STATUS_TABLE} ({'created' if number == 1 else f'migration {number}'})")
            if applied != len(_STATUS_MIGRATIONS):
                conn.execute(f"INSERT INTO {SCHEMA_TABLE} (component, version) VALUES ('attnkit', %s) ON CONFLICT "
                             "(component) DO UPDATE SET version = EXCLUDED.version, applied_at = now()",
                             (str(len(_STATUS_MIGRATIONS)),))
        finally:
            conn.execute("SELECT pg_advisory_unlock(1919191920)")
    return done
