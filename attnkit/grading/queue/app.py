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

from typing import Any

from procrastinate import App, Blueprint, PsycopgConnector, RetryStrategy

from attnkit.grading.queue.database import init_gradebook, libpq_url

__all__ = ["TASK", "QUEUE", "ATTEMPTS", "STATUS_TABLE", "blueprint", "make_app", "lock_of", "init_queue",
           "connect"]

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


def init_queue(url: str) -> list[str]:
    """``attnkit queue init``: the gradebook (:func:`init_gradebook`), procrastinate's schema and
    the status table, each created only when missing; returns what was created."""
    done = []
    init_gradebook(url)
    with connect(url) as conn:
        conn.execute("SELECT pg_advisory_lock(1919191920)")  # workers may start together
        try:
            if conn.execute("SELECT to_regclass('procrastinate_jobs')").fetchone()[0] is None:
                app = make_app(url)
                with app.open():
                    app.schema_manager.apply_schema()
                done.append("procrastinate schema")
            if conn.execute(f"SELECT to_regclass('{STATUS_TABLE}')").fetchone()[0] is None:
                conn.execute(_STATUS_DDL)
                done.append(STATUS_TABLE)
        finally:
            conn.execute("SELECT pg_advisory_unlock(1919191920)")
    return done
