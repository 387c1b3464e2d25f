"""attnkit.grading.grader.status: one status per submission, its row beside nbgrader's export."""
from __future__ import annotations

from pathlib import Path

from attnkit.grading.grader.status import STATUSES, combine_status, read_status, write_status_row


def test_status_rows_replace_and_sort(tmp_path: Path) -> None:
    write_status_row(tmp_path, {"student_id": "b", "assignment": "q", "score": "1", "status": "graded"})
    write_status_row(tmp_path, {"student_id": "a", "assignment": "q", "score": "0", "status": "crashed"})
    write_status_row(tmp_path, {"student_id": "b", "assignment": "q", "score": "2", "status": "flagged"})
    rows = read_status(tmp_path)
    assert list(rows) == [("a", "q"), ("b", "q")] and rows["b", "q"]["status"] == "flagged"


def test_the_most_severe_status_wins() -> None:
    assert combine_status(["flagged", "timed out"]) == "timed out"
    assert combine_status([]) == "graded"
    assert combine_status(["crashed"], ["protocol violation", "flagged"]) == "protocol violation"
    assert STATUSES[0] == "malformed" and STATUSES[-1] == "graded"
