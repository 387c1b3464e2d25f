"""Test-wide settings, for the tests and the notebook kernels they start.

Markers (registered in pyproject.toml): the tests that run a notebook, nbgrader, JupyterLab or a
browser, a PostgreSQL server or the class hub, are marked ``slow`` (and ``lessons``, ``nbgrader``,
``lab``, ``browser``, ``postgres`` or ``hub``), so that ``make test-fast`` (``-m "not slow"``) is the
inner loop and ``make test`` still runs everything.
The tests that run student code in the grading sandbox are marked ``sandbox`` (by file below, or
by hand): where bubblewrap cannot run here they are skipped with the reason, except on CI
(CI=true), where that is a failure.
"""
import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

# test file -> what makes it slow
SLOW_FILES = {"test_quizzes.py": "nbgrader", "test_lab.py": "lab", "test_browser.py": "browser",
              "test_hub_class.py": "hub"}
SLOW_MARKERS = ("lessons", "nbgrader", "lab", "browser", "postgres", "hub")
# test files whose every test grades in the sandbox (others mark single tests @pytest.mark.sandbox)
SANDBOX_FILES = ("test_warm.py", "test_adversarial.py", "test_feedback_browser.py", "test_quizzes.py")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        path = Path(str(item.fspath))
        if path.suffix == ".ipynb":  # an nbval cell of a lesson
            item.add_marker(pytest.mark.lessons)
        elif path.name in SLOW_FILES:
            item.add_marker(getattr(pytest.mark, SLOW_FILES[path.name]))
        if any(item.get_closest_marker(m) for m in SLOW_MARKERS):
            item.add_marker(pytest.mark.slow)
        if path.name in SANDBOX_FILES:
            item.add_marker(pytest.mark.sandbox)
    needing = [item for item in items if item.get_closest_marker("sandbox")]
    if needing and os.environ.get("CI", "").lower() not in ("1", "true", "yes"):
        from attnkit.grading.grader.sandbox import unavailable_reason

        reason = unavailable_reason()
        for item in needing if reason else []:
            item.add_marker(pytest.mark.skip(reason=f"needs the grading sandbox: {reason}"))


@pytest.fixture(autouse=True, scope="session")
def one_torch_thread():
    """`make test` runs two workers on two cores: one torch thread each keeps them from fighting."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="session")
def postgres():
    """A PostgreSQL server for this test session (attnkit/classroom/postgres.py): socket only, stopped at the end."""
    from attnkit.classroom.postgres import PostgresMissing, PostgresServer

    try:
        server = PostgresServer.start()
    except PostgresMissing as exc:
        pytest.skip(str(exc))
    try:
        yield server
    finally:
        server.stop()
