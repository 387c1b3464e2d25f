"""ngshare 0.6.0 as the class runs it (deploy/hub/ngshare_service.py): its real handler code, in its own
environment (.venv-ngshare, SQLAlchemy 1.4), on a database of its own; no hub.

* a course roster is enrolled with a number of SQL statements linear in its size (ngshare's own
  ``find_or_create_user`` commits per new user, which makes ``POST /students/<course>`` quadratic:
  the characterisation below keeps the reason visible);
* its schema is created on PostgreSQL (0.6.0's own fails there) and stamped at its alembic head.
"""
from __future__ import annotations

import json
import subprocess

import pytest

from attnkit.classroom.hub import NGSHARE_PYTHON, REPO

pytestmark = pytest.mark.skipif(not NGSHARE_PYTHON.exists(), reason="no .venv-ngshare (make install: hub-setup)")

# ngshare's ListStudents.post, called on a handler without a server, counting the SQL it sends
ENROL = r"""
import json, sys
sys.path.insert(0, sys.argv[1])
from sqlalchemy import create_engine, event
from sqlalchemy.orm import sessionmaker
from tornado.web import Finish
from ngshare.ngshare import ListStudents, MyHelpers
from ngshare.database.database import Base, Course
import ngshare_service

url, n, patched = sys.argv[2], int(sys.argv[3]), sys.argv[4] == "patched"
if url.startswith("postgresql"):
    ngshare_service.create_postgres_schema(url)
engine = create_engine(url)
Base.metadata.create_all(engine)
if patched:
    MyHelpers.find_or_create_user = ngshare_service.find_or_create_user
statements = [0]
event.listen(engine, "before_cursor_execute", lambda *a: statements.__setitem__(0, statements[0] + 1))
db = sessionmaker(bind=engine)()
db.add(Course("attn101")); db.commit()
rows = [{"username": f"s{i:04d}", "first_name": "F", "last_name": "L", "email": "e@x"} for i in range(n)]
handler = ListStudents.__new__(ListStudents)
handler.db = db
handler.is_admin = lambda: True
handler.get_argument = lambda name, default=None: json.dumps(rows) if name == "students" else default
statements[0] = 0
try:
    ListStudents.post.__wrapped__(handler, "attn101")
except Finish as done:
    answer = json.loads(str(done.args[0]))
db.close()
check = sessionmaker(bind=engine)()
enrolled = len(check.query(Course).filter(Course.id == "attn101").one().students)
print(json.dumps({"statements": statements[0], "success": answer["success"], "enrolled": enrolled}))
"""


def enrol(url: str, n: int, patched: bool) -> dict:
    out = subprocess.run([str(NGSHARE_PYTHON), "-c", ENROL, str(REPO / "deploy" / "hub"), url, str(n),
                          "patched" if patched else "ngshare"], capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_enrolling_a_roster_is_linear_in_its_size():
    n = 60
    ours = enrol("sqlite://", n, patched=True)  # in memory: the statements are counted, not timed
    theirs = enrol("sqlite://", n, patched=False)
    assert ours["success"] and theirs["success"] and ours["enrolled"] == theirs["enrolled"] == n
    assert ours["statements"] <= 6 * n + 10, ours  # a handful per learner
    assert theirs["statements"] >= n * n / 4, theirs  # ngshare 0.6.0: the course's list reloaded per learner


@pytest.mark.postgres
def test_ngshare_runs_on_postgresql(postgres):
    url = postgres.createdb("ngshare_unit").replace("postgresql+psycopg://", "postgresql+psycopg2://", 1)
    done = enrol(url, 50, patched=True)
    assert done["success"] and done["enrolled"] == 50
    assert postgres.psql("select data_type from information_schema.columns where table_name = "
                         "'submission_files_assoc_table' and column_name = 'left_id'", "ngshare_unit") == "integer"
    assert postgres.psql("select version_num from alembic_version", "ngshare_unit") == "1921a169739b"
