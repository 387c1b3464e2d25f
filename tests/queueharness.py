"""Helpers of the queue tests (tests/test_queue_*.py): a course on a database of the ``postgres``
fixture, the ``attnkit queue`` commands as an instructor runs them, and real worker processes.

    env = queue_env(postgres, "gb_x")          # os.environ + ATTNKIT_DATABASE_URL
    attnkit(["queue", "init"], course, env)
    worker = start_worker(course, env, "--concurrency", "2")
    wait_done(postgres.url("gb_x"), "q4_qkv_math", n=10)
    stop_worker(worker)
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

__all__ = ["queue_env", "attnkit", "start_worker", "start_status_wait", "stop_worker", "kill_worker", "jobs",
           "wait_done"]


def queue_env(postgres, dbname: str) -> dict[str, str]:
    return {**os.environ, "ATTNKIT_DATABASE_URL": postgres.url(dbname, driver="postgresql")}


def attnkit(args: list[str], course: Path, env: dict[str, str], check: bool = True) -> subprocess.CompletedProcess:
    done = subprocess.run([sys.executable, "-m", "attnkit.cli", *args, "--course", str(course)], env=env,
                          capture_output=True, text=True, timeout=600)
    if check and done.returncode not in (0, 1):
        raise AssertionError(f"attnkit {args} -> {done.returncode}\n{done.stdout}\n{done.stderr[-3000:]}")
    return done


def start_worker(course: Path, env: dict[str, str], *args: str, log: Path | None = None) -> subprocess.Popen:
    """``attnkit queue worker`` in a session of its own (so that a test can kill all of it)."""
    out = open(log, "ab") if log else subprocess.DEVNULL
    return subprocess.Popen([sys.executable, "-m", "attnkit.cli", "queue", "worker", "--course", str(course),
                             "--heartbeat", "1", "--stall-after", "5", *args], env=env, stdout=out,
                            stderr=subprocess.STDOUT, start_new_session=True)


def start_status_wait(course: Path, env: dict[str, str]) -> subprocess.Popen:
    """``attnkit queue status QUIZ --wait`` of tests/adversarial's quiz, output captured (text)."""
    return subprocess.Popen([sys.executable, "-m", "attnkit.cli", "queue", "status", "q4_qkv_math", "--wait",
                             "--course", str(course)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)


def stop_worker(worker: subprocess.Popen, timeout: float = 90) -> None:
    """SIGTERM (finish the current job), then SIGKILL of the whole session."""
    if worker.poll() is None:
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(timeout)
        except subprocess.TimeoutExpired:
            pass
    kill_worker(worker)


def kill_worker(worker: subprocess.Popen) -> None:
    """SIGKILL to every process of the worker's session: a machine that dies."""
    try:
        os.killpg(worker.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    worker.wait(30)


def jobs(url: str, quiz: str | None = None) -> list[tuple]:
    """(id, status, student, attempts) of every grading job, oldest first."""
    import psycopg

    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True) as conn:
        return conn.execute("SELECT id, status::text, args->>'student', attempts FROM procrastinate_jobs "
                            "WHERE %s::text IS NULL OR args->>'quiz' = %s ORDER BY id", (quiz, quiz)).fetchall()


def wait_done(url: str, quiz: str, timeout: float = 300, worker: subprocess.Popen | None = None) -> list[tuple]:
    """Wait until no job of ``quiz`` waits or runs; returns the jobs."""
    deadline = time.monotonic() + timeout
    while True:
        found = jobs(url, quiz)
        if found and all(status not in ("todo", "doing") for _, status, _, _ in found):
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"jobs not done after {timeout} s: {found}")
        if worker is not None and worker.poll() is not None and worker.returncode != 0:
            raise AssertionError(f"the worker ended with {worker.returncode}")
        time.sleep(1.0)
