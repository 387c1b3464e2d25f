"""``attnkit queue worker [--concurrency N]``: a long-lived grading worker for one machine.

The process started by the command is a supervisor. It starts the machine's warm parent sandbox
(:mod:`attnkit.grading.grader.warm`, as ``grade-class`` does: every student's kernel is forked from
it) and N worker processes forked from a warm forkserver that imported nbgrader, torch and the
checks once (``classgrade.WARM``). Each worker has its own scratch course (a copy of the course's
``nbgrader_config.py`` and source folder: no shared file system between machines is assumed),
grades one job at a time as a procrastinate worker (``concurrency=1``: nbgrader's API runs in one
thread per process), and heartbeats into the database.

Faults:

* a worker process that dies (SIGKILL, out of memory) is started again by the supervisor; the job
  it held stays ``doing`` until every worker's recovery loop sees that its worker stopped
  heartbeating for ``stall_after`` seconds, then procrastinate's ``retry_job`` puts it back in the
  queue: it is graded again from the start (nbgrader's ``force=True``: one submission in the
  gradebook), once;
* the database restarting: a worker whose connection broke leaves procrastinate's loop with an
  error, waits and opens the app again (the job in flight, if any, is retried as above);
* the supervisor killed alone (SIGKILL, out of memory): each worker watches it (:func:`_die_with`)
  and kills itself at once, as a machine that dies; the warm parent and every kernel forked from
  it die with the supervisor (bubblewrap's ``--die-with-parent``, then their pid namespaces), a
  one-off sandbox with its worker. The job a worker held is retried by another worker, as above;
* SIGTERM or SIGINT: the workers finish their current job and stop (Kubernetes sends SIGTERM).
"""
from __future__ import annotations

import asyncio
import ctypes
import logging
import multiprocessing
import multiprocessing.connection
import os
import select
import shutil
import signal
import socket
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any

from attnkit.grading.course import classgrade
from attnkit.grading.grader import sandbox
from attnkit.grading.grader.warm import WarmParent
from attnkit.grading.queue import jobs
from attnkit.grading.queue.app import QUEUE, TASK, make_app, schema_problem
from attnkit.grading.queue.database import ENV, database_url, is_postgres, libpq_url
from attnkit.grading.queue.gradebook import reuse_connections

__all__ = ["scratch_course", "serve", "main"]

log = logging.getLogger("attnkit.queue.worker")


def scratch_course(course: Path, folder: Path) -> Path:
    """A worker's own course folder: the course's nbgrader_config.py and source folder, copied."""
    from nbgrader.coursedir import CourseDirectory

    source = CourseDirectory(config=classgrade._config(course, None, False)).source_directory
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    shutil.copy2(course / "nbgrader_config.py", folder / "nbgrader_config.py")
    shutil.copytree(course / source, folder / source)
    return folder


async def _recover(app: Any, stall_after: float) -> None:
    """Put back in the queue the jobs of workers that stopped heartbeating (a SIGKILL'd worker)."""
    while True:
        await asyncio.sleep(max(1.0, stall_after / 3))
        try:
            stalled = await app.job_manager.get_stalled_jobs(task_name=TASK, seconds_since_heartbeat=stall_after)
        except Exception:
            continue  # the database is away: the worker's loop notices too
        for job in stalled:
            try:
                await app.job_manager.retry_job(job)
                log.warning("job %s (%s) of a stalled worker is back in the queue", job.id, job.task_kwargs)
            except Exception:
                pass  # another worker was faster


async def serve(url: str, name: str, heartbeat: float = 10.0, stall_after: float = 30.0, burst: bool = False) -> None:
    """One worker's procrastinate loop, opened again after a database error."""
    while True:
        app = make_app(url)
        try:
            async with app.open_async():
                recovery = asyncio.create_task(_recover(app, stall_after))
                try:
                    await app.run_worker_async(queues=[QUEUE], concurrency=1, wait=not burst, name=name,
                                               update_heartbeat_interval=heartbeat,
                                               stalled_worker_timeout=stall_after, fetch_job_polling_interval=2.0)
                finally:
                    recovery.cancel()
            return
        except Exception as exc:
            log.warning("worker %s: %s: %s; reconnecting", name, type(exc).__name__, exc)
            await asyncio.sleep(2.0)


def _die_with(supervisor: int) -> None:
    """Kill this process (SIGKILL, at once) when the process ``supervisor`` ends.

    A worker is forked by multiprocessing's forkserver, not by the supervisor, so the kernel's
    parent-death signal (set here too) fires only when the forkserver ends. The supervisor itself
    is watched through a pidfd (Linux 5.3): it becomes readable when that process ends, whatever
    killed it; a supervisor already gone when the worker starts ends the worker too.
    """
    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
    try:
        watched = os.pidfd_open(supervisor)
    except (ProcessLookupError, OSError):
        os.kill(os.getpid(), signal.SIGKILL)
        return

    def watch() -> None:
        select.select([watched], [], [])
        os.kill(os.getpid(), signal.SIGKILL)

    threading.Thread(target=watch, name="supervisor-watch", daemon=True).start()


def _child(index: int, supervisor: int, course: str, url: str, submissions: str, storage: str, scratch: str, spool: str,
           timeout: int | None, allow_unsandboxed: bool, heartbeat: float, stall_after: float, burst: bool) -> None:
    _die_with(supervisor)
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter(f"worker {index}: %(levelname)s %(message)s"))
    for name in ("attnkit.queue.worker", "procrastinate"):
        logging.getLogger(name).addHandler(handler)
        logging.getLogger(name).setLevel(logging.WARNING)
    os.environ[ENV] = libpq_url(url)  # the scratch course's nbgrader_config.py reads it
    folder = scratch_course(Path(course), Path(scratch) / f"worker-{index}")
    classgrade._init_worker(str(folder), "", timeout, allow_unsandboxed, spool)
    reuse_connections()  # warm, pooled gradebook connections for this worker's life
    name = f"{socket.gethostname()}:{os.getpid()}"
    jobs.configure(jobs.Setup(folder, Path(submissions), Path(storage), url,
                              classgrade._config(folder, timeout, allow_unsandboxed), name))
    asyncio.run(serve(url, name, heartbeat, stall_after, burst))


def main(course: str = ".", concurrency: int | None = None, submissions: str | None = None, storage: str | None = None,
         timeout: int | None = None, allow_unsandboxed: bool = False, heartbeat: float = 10.0,
         stall_after: float = 30.0, burst: bool = False) -> int:
    """Run N workers until SIGTERM/SIGINT (``burst``: until the queue is empty); N defaults to
    grade-class's: the number of cores plus one."""
    concurrency = concurrency or classgrade.default_workers()
    root = Path(course).resolve()
    url = database_url(root)
    if not is_postgres(url):
        print(f"attnkit queue worker: the queue needs PostgreSQL: set {ENV}=postgresql://... (see docs/deploy.md)",
              file=sys.stderr)
        return 2
    if why := schema_problem(url):
        print(f"attnkit queue worker: {why}", file=sys.stderr)
        return 2
    sandboxed = sandbox.check_available(allow_unsandboxed)
    scratch = tempfile.mkdtemp(prefix="attnkit-queue-worker-")
    warm = WarmParent(Path(scratch) / "warm", label=f"queue-worker:{root}").spawn() if sandboxed else None
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(classgrade.WARM)
    args = (str(root), url, str(Path(submissions or root / "submitted").resolve()),
            str(Path(storage or root).resolve()), scratch, str(warm.spool) if warm else "", timeout,
            allow_unsandboxed, heartbeat, stall_after, burst)
    procs: dict[int, Any] = {}
    stopping = False

    def stop(*_: Any) -> None:
        nonlocal stopping
        stopping = True
        for p in procs.values():
            if p.is_alive():
                os.kill(p.pid, signal.SIGTERM)  # procrastinate finishes the current job, then stops

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print(f"attnkit queue worker: {concurrency} workers on {root}", file=sys.stderr, flush=True)
    try:
        while True:
            for i in range(concurrency):
                p = procs.get(i)
                if not stopping and (p is None or (p.exitcode is not None and (p.exitcode != 0 or not burst))):
                    if p is not None:
                        print(f"attnkit queue worker: worker {i} ended ({p.exitcode}); starting it again",
                              file=sys.stderr, flush=True)
                    procs[i] = context.Process(target=_child, args=(i, os.getpid(), *args), daemon=False)
                    procs[i].start()
            if all(p.exitcode is not None for p in procs.values()) and (stopping or burst):
                break
            # a worker's exit wakes the loop at once
            multiprocessing.connection.wait([p.sentinel for p in procs.values() if p.exitcode is None], timeout=0.5)
    finally:
        for p in procs.values():
            p.join(timeout=60)
            if p.is_alive():
                p.kill()
        if warm is not None:
            warm.close()
        shutil.rmtree(scratch, ignore_errors=True)
    return 0
