"""Issue 19: grades out to the LMS (attnkit.grading.queue.lms).

The export plugins run through nbgrader's own ``nbgrader export --exporter=...`` on a gradebook
made with nbgrader's API, and their CSV is checked column by column against the formats Canvas and
Moodle document (see the module docstring); the Canvas push goes through the real ``canvasapi``
client to a stub Canvas on 127.0.0.1:18200 that records what it is sent.
"""
from __future__ import annotations

import csv
import json
import subprocess
import sys
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from attnkit.grading.queue import lms

pytestmark = [pytest.mark.slow, pytest.mark.nbgrader]
PORT = 18200
TOKEN = "stub-token-19"


@pytest.fixture
def gradebook(tmp_path: Path):
    """Two quizzes (10 and 4 points), three students; carol did not hand in q2."""
    from nbgrader.api import Gradebook

    from attnkit.grading.queue.database import init_gradebook

    url = f"sqlite:///{tmp_path / 'gradebook.db'}"
    init_gradebook(url)  # no alembic tool needed on PATH
    with Gradebook(url) as gb:
        for quiz, points in (("q1_bottleneck", 10), ("q2_spotlight", 4)):
            gb.add_assignment(quiz)
            gb.add_notebook(quiz, quiz)
            gb.add_grade_cell("test_a", quiz, quiz, max_score=points, cell_type="code")
        people = [("alice", "Alice", "Liddell", "alice@uni.example", "101"), ("bob", "Bob", "", "", None),
                  ("carol", "Carol", "Danvers", "carol@uni.example", "103")]
        for sid, first, last, email, lms_id in people:
            gb.add_student(sid, first_name=first, last_name=last, email=email, lms_user_id=lms_id)
        scores = {("q1_bottleneck", "alice"): 10, ("q1_bottleneck", "bob"): 7.5, ("q1_bottleneck", "carol"): 0,
                  ("q2_spotlight", "alice"): 3, ("q2_spotlight", "bob"): 4}
        for (quiz, sid), score in scores.items():
            gb.add_submission(quiz, sid)
            grade = gb.find_grade("test_a", quiz, quiz, sid)
            grade.auto_score = score
        gb.db.commit()
    (tmp_path / "nbgrader_config.py").write_text("c = get_config()\n")
    return tmp_path


def _export(course: Path, exporter: str, to: str, *extra: str) -> list[list[str]]:
    done = subprocess.run([sys.executable, "-m", "nbgrader", "export", f"--exporter={exporter}", f"--to={to}",
                           *extra], cwd=course, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    with open(course / to, newline="") as fh:
        return list(csv.reader(fh))


def test_canvas_csv_has_canvas_s_columns_and_points_possible(gradebook: Path) -> None:
    rows = _export(gradebook, "attnkit.grading.queue.lms.CanvasCsvExportPlugin", "canvas.csv",
                   "--CanvasCsvExportPlugin.assignment_ids={'q1_bottleneck': 5501}")
    assert rows[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "q1_bottleneck (5501)",
                       "q2_spotlight"]
    assert rows[1] == ["Points Possible", "", "", "", "", "10", "4"]
    assert rows[2:] == [["Liddell, Alice", "101", "", "alice", "", "10", "3"],
                        ["Bob", "", "", "bob", "", "7.5", "4"],
                        ["Danvers, Carol", "103", "", "carol", "", "0", ""]]  # no q2 submission: left empty


def test_moodle_csv_one_column_per_quiz_by_username(gradebook: Path) -> None:
    rows = _export(gradebook, "attnkit.grading.queue.lms.MoodleCsvExportPlugin", "moodle.csv",
                   "--assignment=q2_spotlight")
    assert rows == [["Username", "Email address", "q2_spotlight"], ["alice", "alice@uni.example", "3"],
                    ["bob", "", "4"], ["carol", "carol@uni.example", ""]]


class StubCanvas(BaseHTTPRequestHandler):
    """The few Canvas REST endpoints canvasapi calls for a bulk grade update."""

    posted: list[tuple[str, dict]] = []

    def log_message(self, *args) -> None:
        pass

    def _send(self, body, status: int = 200) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        if self.headers.get("Authorization") != f"Bearer {TOKEN}":
            return self._send({"errors": [{"message": "Invalid access token."}]}, 401)
        path = urllib.parse.urlparse(self.path)
        query = urllib.parse.parse_qs(path.query)
        if path.path == "/api/v1/courses/7":
            return self._send({"id": 7, "name": "attnkit"})
        if path.path == "/api/v1/courses/7/search_users":  # what canvasapi calls for get_users
            assert query.get("enrollment_type[]") == ["student"]
            return self._send([{"id": 901, "name": "Alice", "login_id": "alice"},
                               {"id": 902, "name": "Bob", "login_id": "bob"}])  # carol is not in Canvas
        if path.path == "/api/v1/courses/7/assignments":
            names = {"q1_bottleneck": 5501, "q2_spotlight": 5502}
            term = query.get("search_term", [""])[0]
            return self._send([{"id": i, "name": n, "course_id": 7} for n, i in names.items() if term in n])
        self._send({"errors": [{"message": "not found"}]}, 404)

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", 0))
        form = urllib.parse.parse_qs(self.rfile.read(length).decode())
        StubCanvas.posted.append((self.path, form))
        self._send({"id": 1, "workflow_state": "queued", "url": "http://127.0.0.1/progress/1"})


def test_canvas_push_through_canvasapi_to_a_stub_server(gradebook: Path) -> None:
    from nbgrader.api import Gradebook

    server = ThreadingHTTPServer(("127.0.0.1", PORT), StubCanvas)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    StubCanvas.posted = []
    try:
        with Gradebook(f"sqlite:///{gradebook / 'gradebook.db'}") as gb:
            missed = lms.push_canvas(gb, f"http://127.0.0.1:{PORT}", TOKEN, 7)
        with pytest.raises(Exception, match="Invalid access token"):
            with Gradebook(f"sqlite:///{gradebook / 'gradebook.db'}") as gb:
                lms.push_canvas(gb, f"http://127.0.0.1:{PORT}", "wrong", 7)
    finally:
        server.shutdown()
        server.server_close()
    assert missed == {"q1_bottleneck": ["carol"], "q2_spotlight": []}
    posted = dict(StubCanvas.posted)
    assert set(posted) == {"/api/v1/courses/7/assignments/5501/submissions/update_grades",
                           "/api/v1/courses/7/assignments/5502/submissions/update_grades"}
    assert posted["/api/v1/courses/7/assignments/5501/submissions/update_grades"] == {
        "grade_data[901][posted_grade]": ["10"], "grade_data[902][posted_grade]": ["7.5"]}
    assert posted["/api/v1/courses/7/assignments/5502/submissions/update_grades"] == {
        "grade_data[901][posted_grade]": ["3"], "grade_data[902][posted_grade]": ["4"]}
