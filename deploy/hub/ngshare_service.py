"""Run ngshare (the exchange) as a hub-managed service, bound to the address of its service URL only,
with its database on the class's PostgreSQL server.

ngshare 0.6.0 listens on ``0.0.0.0`` (``ngshare.main``: "Must listen on all interfaces for proxy"); on
one machine the proxy reaches it on loopback, so this wrapper binds the host of
``JUPYTERHUB_SERVICE_URL`` (``127.0.0.1`` here; ``0.0.0.0`` in its Kubernetes pod, deploy/k8s/ngshare.yaml,
which runs this same file for the two fixes below) and then runs ngshare's own ``main`` with the same
arguments.

ngshare 0.6.0 cannot create its tables on PostgreSQL: its three file association tables declare
``left_id TEXT`` as a foreign key to the integer ``_id`` of ``assignments``/``submissions``
(``ngshare/database/database.py`` and its first alembic migration); SQLite accepts that, PostgreSQL
refuses the constraint ("Key columns ... are of incompatible types: text and integer"). The ids stored
there are those integers, so for a PostgreSQL URL this wrapper declares the columns ``INTEGER``, creates
the schema from ngshare's models and stamps it at ngshare's alembic head (what its own upgrade would
reach), so that ngshare's start-up upgrade finds nothing to do.

Enrolling a roster (``POST /students/<course>``) is quadratic in ngshare 0.6.0: for each new user
``find_or_create_user`` commits, the commit expires every object of the request's session, and the next
``student not in course.students`` loads the course's whole student list again, one query per
enrolled student. 2,000 new learners cost about 2 million SQL statements (n = 400: 83,400 statements,
205 s on a loaded 2-core machine; docs/deploy.md). This wrapper makes ``find_or_create_user`` flush
instead of commit: the new user is written in the request's transaction, committed with the rest of
the request, and nothing is expired: 2,000 new learners in one request are 10,003 statements (35 s).

It runs in ngshare's own environment (``.venv-ngshare``, SQLAlchemy<2: with SQLAlchemy 2 ngshare 0.6.0
prints "Successfully released" and stores nothing, LibreTexts/ngshare#167; psycopg2 for PostgreSQL), so
it imports only ngshare, SQLAlchemy, alembic and tornado.

    .venv-ngshare/bin/python deploy/hub/ngshare_service.py --admins attnkit-admin \
        --database postgresql+psycopg2://ngshare@/ngshare?host=/run/postgresql --storage /srv/ngshare/files/
"""
import os
import sys
from urllib.parse import urlparse

from tornado.httpserver import HTTPServer

__all__ = ["main", "create_postgres_schema", "find_or_create_user"]

FILE_ASSOCIATIONS = ("assignment_files_assoc_table", "submission_files_assoc_table", "feedback_files_assoc_table")


def create_postgres_schema(url: str) -> None:
    """ngshare's tables on PostgreSQL (integer ``left_id``), stamped at its alembic head; idempotent."""
    from alembic import command
    from ngshare import dbutil
    from ngshare.database.database import Base
    from sqlalchemy import INTEGER, create_engine, inspect

    for name in FILE_ASSOCIATIONS:
        Base.metadata.tables[name].c.left_id.type = INTEGER()
    engine = create_engine(url)
    try:
        if "alembic_version" in inspect(engine).get_table_names():
            return
        Base.metadata.create_all(engine)
    finally:
        engine.dispose()
    command.stamp(dbutil.get_alembic_config(url), "head")


def find_or_create_user(self, user_id):
    """ngshare's ``MyHelpers.find_or_create_user`` with ``flush`` where it had ``commit`` (see above)."""
    from ngshare.database.database import User

    user = self.db.query(User).filter(User.id == user_id).one_or_none()
    if user is None:
        user = User(user_id)
        self.db.add(user)
        self.db.flush()
    return user


def _database(argv: list[str]) -> str:
    for i, arg in enumerate(argv):
        if arg == "--database" and i + 1 < len(argv):
            return argv[i + 1]
        if arg.startswith("--database="):
            return arg.split("=", 1)[1]
    return ""


def main(argv: list[str]) -> None:
    host = urlparse(os.environ["JUPYTERHUB_SERVICE_URL"]).hostname or "127.0.0.1"
    listen = HTTPServer.listen

    def listen_on_service_host(self, port, address=""):  # noqa: ARG001 (ngshare passes 0.0.0.0)
        return listen(self, port, host)

    HTTPServer.listen = listen_on_service_host
    if _database(argv).startswith("postgresql"):
        create_postgres_schema(_database(argv))
    from ngshare.ngshare import MyHelpers
    from ngshare.ngshare import main as ngshare_main

    MyHelpers.find_or_create_user = find_or_create_user
    ngshare_main(argv)


if __name__ == "__main__":
    main(sys.argv[1:])
