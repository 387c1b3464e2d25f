"""A class on one machine: the fake LMS, JupyterHub, its proxy, ngshare, the formgrader services and
the grading workers.

``ClassHub`` is what ``make class-demo`` and the hub tests (tests/test_hub_*.py) start, with
deploy/hub/jupyterhub_config.py; everything listens on 127.0.0.1, on the fixed ports of ``PORTS``
(18100-18199), PostgreSQL on a Unix socket only: one server with the hub's database, ngshare's and one
per course (nbgrader's gradebook and the course's grading queue, ``attnkit queue``).

    hub = ClassHub(workdir, postgres).start()     # LMS, hub, proxy, ngshare, formgraders, one grading
                                                  # worker per course; courses released
    hub.launch("ada", "lms-101")                  # an LTI 1.3 launch: a requests.Session logged in as ada
    hub.nbgrader_as_student("ada", "fetch_assignment", "q4_qkv_math", "--course", "attn101")
    hub.queue("attn101", "submit", "q4_qkv_math")  # the instructor's ``attnkit queue`` in the course folder
    hub.stop()                                    # every process it started, even after a failure

Stopping: the grading workers first (SIGTERM: a job being graded is finished). JupyterHub's own
graceful stop takes 35-60 s (it waits on its services), and the hub restarts a proxy that dies before
it. So ``stop`` kills the hub first, then asks every process that was under it (proxy, services,
learners' servers, their kernels) to end, and kills what is left after a few seconds.
Since the spawners start servers in sessions of their own, the launching process becomes a "child
subreaper" (Linux prctl): whatever the hub leaves behind is re-parented to it and found.
"""
from __future__ import annotations

import ctypes
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import requests

from attnkit.classroom.lms import COURSES, USERS, Platform
from attnkit.grading.grader.sandbox import alive, descendants
from attnkit.grading.queue.app import init_queue
from attnkit.grading.queue.database import init_gradebook

__all__ = ["PORTS", "REPO", "ClassHub", "CourseSpec"]

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy" / "hub"
PORTS = {"public": 18100, "proxy_api": 18101, "hub": 18102, "lms": 18103, "ngshare": 18104,
         "courses": 18110, "servers": [18120, 18200]}
NGSHARE_PYTHON = REPO / ".venv-ngshare" / "bin" / "python"
WORKER_STOP_S = 60.0  # a worker finishes the submission it grades (seconds) before it stops


class Postgres(Protocol):  # attnkit.classroom.postgres.PostgresServer
    def createdb(self, name: str) -> str: ...
    def psql(self, sql: str, dbname: str = "postgres") -> str: ...
    def pids(self) -> set[int]: ...


@dataclass
class CourseSpec:
    name: str
    lms_context: str
    quizzes: list[str]
    port: int
    dir: Path
    token: str = field(default_factory=lambda: secrets.token_hex(24))
    db_url: str = ""


def _become_subreaper() -> None:
    """Orphans of the hub's tree are re-parented to this process (PR_SET_CHILD_SUBREAPER), so stop() finds them."""
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0)


class ClassHub:
    """The whole class set-up on 127.0.0.1; ``start()`` returns when it can be used, ``stop()`` always cleans."""

    def __init__(self, workdir: Path, postgres: Postgres, courses: dict[str, list[str]] | None = None,
                 log_level: str = "INFO", workers: bool = True) -> None:
        self.work = Path(workdir)
        self.postgres = postgres
        self.log_level = log_level
        quizzes = courses or {"attn101": ["q4_qkv_math"], "attn202": ["q1_bottleneck"]}
        contexts = {course: ctx for ctx, course in COURSES.items()}
        self.courses = {name: CourseSpec(name, contexts[name], qs, PORTS["courses"] + i, self.work / "courses" / name)
                        for i, (name, qs) in enumerate(quizzes.items())}
        self.public = f"http://127.0.0.1:{PORTS['public']}"
        self.hub_api = f"http://127.0.0.1:{PORTS['hub']}/hub/api"
        self.ngshare_url = f"{self.public}/services/ngshare"
        self.admin_token = secrets.token_hex(24)
        self.lms = Platform(PORTS["lms"], f"{self.public}/hub/lti13/oauth_login")
        self.process: subprocess.Popen | None = None
        self.start_workers = workers
        self.workers: dict[str, subprocess.Popen] = {}
        self._before: set[int] = set()
        self._tokens: dict[str, str] = {}
        self.server_args = ["--allow-root"] if os.geteuid() == 0 else []
        self.venv_bin = Path(sys.executable).parent

    # --- start and stop ----------------------------------------------------------------------------------
    def start(self, timeout: float = 240) -> ClassHub:
        try:
            self._start(timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def _start(self, timeout: float) -> None:
        if subprocess.run([str(NGSHARE_PYTHON), "-c", "import psycopg2"], capture_output=True).returncode != 0:
            raise RuntimeError(f"{NGSHARE_PYTHON} cannot run ngshare on PostgreSQL (no psycopg2): make hub-setup")
        _become_subreaper()
        self._before = descendants(os.getpid())
        self.work.mkdir(parents=True, exist_ok=True)
        for course in self.courses.values():  # the formgrader services start in these folders
            course.dir.mkdir(parents=True, exist_ok=True)
        settings = self.work / "hub_settings.json"
        settings.write_text(json.dumps(self._settings(), indent=1))
        self.lms.start()
        log = open(self.work / "jupyterhub.log", "ab")
        self.process = subprocess.Popen(
            [str(Path(sys.executable).parent / "jupyterhub"), "-f", str(DEPLOY / "jupyterhub_config.py")],
            cwd=self.work, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            env={**os.environ, "ATTNKIT_HUB_SETTINGS": str(settings)})
        log.close()
        # while the hub starts (its services one after the other): each course's gradebook and quizzes
        with ThreadPoolExecutor(len(self.courses)) as pool:
            prepared = [pool.submit(self._prepare_course, c) for c in self.courses.values()]
            self._wait(lambda: requests.get(f"{self.public}/hub/api/", timeout=5).ok, timeout, "the hub")
            self._wait(lambda: requests.get(f"{self.ngshare_url}/healthz", timeout=5).ok, timeout, "ngshare")
            for done in prepared:
                done.result()
        for course in self.courses.values():
            self._setup_exchange(course)

    def _wait(self, ready, timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"the hub exited ({self.process.returncode}): see {self.work / 'jupyterhub.log'}")
            try:
                if ready():
                    return
            except requests.RequestException:
                pass
            time.sleep(0.5)
        raise TimeoutError(f"{what} not ready after {timeout} s: see {self.work / 'jupyterhub.log'}")

    def stop(self, grace: float = 5.0) -> None:
        """The grading workers (SIGTERM: they finish their job), then kill the hub and everything it
        started (SIGTERM, then SIGKILL after ``grace`` s); the LMS."""
        self._stop_workers()
        if self.process is not None:
            tree = descendants(self.process.pid)
            try:
                os.kill(self.process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.process.wait()
            self.process = None
            self._end(tree | self.leftovers(), grace)
        self.lms.stop()

    def _end(self, pids: set[int], grace: float) -> None:
        for sig in (signal.SIGTERM, signal.SIGKILL):
            for pid in pids:
                try:
                    os.kill(pid, sig)
                except ProcessLookupError:
                    pass
            deadline = time.monotonic() + grace
            while any(alive(p) for p in pids) and time.monotonic() < deadline:
                self._reap()
                time.sleep(0.1)
        self._reap()
        orphans = self.leftovers()
        if orphans:  # started while we were stopping: once more
            self._end(orphans, grace)

    def leftovers(self) -> set[int]:
        """Living processes under this one (a subreaper) that the class started: not those that ran before
        it, nor the PostgreSQL server's (a restart of the server re-parents its new processes to us)."""
        return {p for p in descendants(os.getpid()) - self._before - self.postgres.pids() if alive(p)}

    def _stop_workers(self) -> None:
        workers, self.workers = self.workers, {}
        for proc in workers.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)  # the supervisor stops its workers after their current job
        deadline = time.monotonic() + WORKER_STOP_S
        for proc in workers.values():
            try:
                proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                self._end(descendants(proc.pid) | {proc.pid}, 2.0)
                proc.wait()

    @staticmethod
    def _reap() -> None:
        """Collect re-parented children that have exited (this process is their subreaper)."""
        while True:
            try:
                pid, _ = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return

    # --- the courses -----------------------------------------------------------------------------------
    def _prepare_course(self, course: CourseSpec) -> None:
        """The course's nbgrader folder (its quizzes' instructor notebooks in source/), its PostgreSQL
        gradebook with the LMS roster and the grading queue (``attnkit queue init``), its quizzes
        generated, its grading worker started."""
        for quiz in course.quizzes:
            shutil.copytree(REPO / "solutions" / quiz, course.dir / "source" / quiz, dirs_exist_ok=True)
        course.db_url = self.postgres.createdb(f"gradebook_{course.name}")
        init_gradebook(course.db_url, course_id=course.name)  # never `nbgrader db upgrade` on an empty database
        init_queue(course.db_url)  # what `attnkit queue init` does: procrastinate's tables, the status table
        self._write_course_config(course)
        names = [[u, *USERS[u].name.split(" ", 1)] if " " in USERS[u].name else [u, USERS[u].name, ""]
                 for u in self.learners(course.name)]
        self.course_tasks(course.name, f"roster={json.dumps(names)}",
                          *(f"generate={q}" for q in course.quizzes))
        if self.start_workers:
            self._start_worker(course)

    def _start_worker(self, course: CourseSpec, concurrency: int = 1) -> None:
        """``attnkit queue worker`` for the course: the course's gradebook database is its queue; it reads
        submissions from the course's submitted/ and writes autograded/ and feedback/ there. It runs
        with the grading-only configuration (no exchange, no hub token) in a session of its own, so
        that a terminal's Ctrl-C reaches the demo, which stops it after the job it grades."""
        log = open(self.work / f"worker-{course.name}.log", "ab")
        self.workers[course.name] = subprocess.Popen(
            [str(self.venv_bin / "attnkit"), "queue", "worker", "--course", str(course.dir),
             "--concurrency", str(concurrency)],
            cwd=course.dir, stdout=log, stderr=subprocess.STDOUT, start_new_session=True, env=self.grading_env())
        log.close()

    def _write_course_config(self, course: CourseSpec) -> None:
        """The course's nbgrader_config.py: the repository's grading settings, this course's folders and
        gradebook; the exchange only where a process names ngshare (grading workers need no exchange)."""
        db = f'c.CourseDirectory.db_url = {course.db_url!r}\n' if course.db_url else ""
        (course.dir / "nbgrader_config.py").write_text(
            f'"""Course {course.name}: written by attnkit.classroom.hub."""\nimport os\n\n'
            f'c = get_config()  # noqa: F821\nload_subconfig({str(REPO / "nbgrader_config.py")!r})  # noqa: F821\n'
            f'c.CourseDirectory.root = {str(course.dir)!r}\nc.CourseDirectory.course_id = {course.name!r}\n'
            'c.CourseDirectory.source_directory = "source"\nc.CourseDirectory.release_directory = "release"\n'
            f'{db}'
            'if os.environ.get("ATTNKIT_NGSHARE_URL"):\n'
            '    from ngshare_exchange import configureExchange\n\n'
            '    configureExchange(c, os.environ["ATTNKIT_NGSHARE_URL"])\n')

    def _settings(self) -> dict[str, Any]:
        return {
            "workdir": str(self.work), "venv_bin": str(Path(sys.executable).parent), "ports": PORTS,
            "db_url": self.postgres.createdb("jupyterhub"), "proxy_token": secrets.token_hex(24),
            "admin_token": self.admin_token, "log_level": self.log_level, "server_args": self.server_args,
            "lti": {"issuer": self.lms.issuer, "client_id": self.lms.client_id, "uri_scheme": "http",
                    "authorize_url": self.lms.authorize_url, "jwks_url": self.lms.jwks_url},
            "courses": {c.name: {"lms_context": c.lms_context, "dir": str(c.dir), "port": c.port, "token": c.token}
                        for c in self.courses.values()},
            # ngshare runs on SQLAlchemy 1.4 with psycopg2 (.venv-ngshare), in its own database of the server
            "ngshare": {"python": str(NGSHARE_PYTHON),
                        "db_url": _driver(self.postgres.createdb("ngshare"), "postgresql+psycopg2"),
                        "storage": str(self.work / "ngshare-files") + "/"},
        }

    def learners(self, course: str) -> list[str]:
        """The course's learners in the LMS roster."""
        context = self.courses[course].lms_context
        return [u.sub for u in USERS.values() if u.memberships.get(context) == "Learner"]

    def _setup_exchange(self, course: CourseSpec) -> None:
        """The course in ngshare (its formgrader service as instructor), its LMS roster enrolled, quizzes released."""
        self.ngshare("post", f"/course/{course.name}", self.admin_token,
                     {"instructors": json.dumps([course.name])})
        self.enroll(course.name, self.learners(course.name))
        self.course_tasks(course.name, *(f"release={q}" for q in course.quizzes))

    def enroll(self, course: str, students: list[str], timeout: float = 120) -> None:
        """A roster import into the exchange: the students in ngshare's course roster."""
        rows = [{"username": s, "first_name": s, "last_name": "", "email": f"{s}@lms.example.org"} for s in students]
        r = self.ngshare("post", f"/students/{course}", self.courses[course].token, {"students": json.dumps(rows)},
                         timeout=timeout)
        if not r.get("success"):
            raise RuntimeError(f"ngshare refused the roster of {course}: {r}")

    def queue(self, course: str, *args: str, timeout: float = 900) -> subprocess.CompletedProcess:
        """``attnkit queue ARGS --course <course folder>`` as the instructor runs it (grading-only
        settings); raises with its output if it fails."""
        out = subprocess.run([str(self.venv_bin / "attnkit"), "queue", *args, "--course",
                              str(self.courses[course].dir)], cwd=self.courses[course].dir, env=self.grading_env(),
                             capture_output=True, text=True, timeout=timeout)
        if out.returncode != 0:
            raise RuntimeError(f"attnkit queue {' '.join(args)} failed ({out.returncode}):\n{out.stdout}\n"
                               f"{out.stderr[-4000:]}")
        return out

    def course_tasks(self, course: str, *steps: str, check: bool = True) -> dict[str, Any]:
        """attnkit.classroom.course_tasks in the course folder, as its formgrader service: step -> result."""
        # run as a file: ``-m`` would import the attnkit package (torch, matplotlib: seconds) for nothing
        out = subprocess.run([sys.executable, str(Path(__file__).with_name("course_tasks.py")), *steps],
                             cwd=self.courses[course].dir, env=self.instructor_env(course),
                             capture_output=True, text=True, timeout=900)
        lines = out.stdout.strip().splitlines()
        results = json.loads(lines[-1]) if lines and lines[-1].startswith("{") else {}
        if check and out.returncode != 0:
            raise RuntimeError(f"course_tasks {course} {steps} failed ({out.returncode}):\n"
                               f"{json.dumps(results, indent=1)[-4000:]}\n{out.stderr[-4000:]}")
        return results

    # --- clients -----------------------------------------------------------------------------------------
    def api(self, method: str, path: str, token: str | None = None, timeout: float = 120,
            **kwargs: Any) -> requests.Response:
        """The hub's REST API (as attnkit-admin unless ``token``)."""
        return requests.request(method, f"{self.hub_api}{path}", timeout=timeout,
                                headers={"Authorization": f"token {token or self.admin_token}"}, **kwargs)

    def ngshare(self, method: str, path: str, token: str, data: dict[str, str] | None = None,
                timeout: float = 120) -> dict[str, Any]:
        """ngshare's API with ``token``: its JSON answer plus ``status`` (the HTTP status)."""
        r = requests.request(method, f"{self.ngshare_url}{path}", data=data, timeout=timeout,
                             headers={"Authorization": f"token {token}"})
        try:
            body = r.json()  # ngshare answers JSON as text/html
        except ValueError:
            body = {"text": r.text[:500]}
        return {"status": r.status_code, **(body if isinstance(body, dict) else {"body": body})}

    def user_token(self, name: str) -> str:
        """A hub API token of user ``name`` (who must exist: an LTI launch creates them)."""
        if name not in self._tokens:
            r = self.api("post", f"/users/{name}/tokens", json={"note": "attnkit class tests"})
            r.raise_for_status()
            self._tokens[name] = r.json()["token"]
        return self._tokens[name]

    def launch_form(self, user: str, context: str) -> tuple[requests.Session, str, dict[str, str]]:
        """The first half of an LTI 1.3 launch: LMS -> hub login initiation -> the LMS's signed answer,
        a form (action, fields: ``id_token``, ``state``) the browser would POST to the hub."""
        session = requests.Session()
        r = session.get(self.lms.launch_url(user, context), timeout=60)
        r.raise_for_status()
        action, fields = _form(r.text)
        return session, action, fields

    def launch(self, user: str, context: str) -> requests.Session:
        """An LTI 1.3 launch from the fake LMS, as a browser would do it: a session logged in to the hub."""
        session, action, fields = self.launch_form(user, context)
        r = session.post(action, data=fields, timeout=120, allow_redirects=False)
        if r.status_code != 302:
            raise RuntimeError(f"LTI launch of {user} refused: {r.status_code} {r.text[:300]}")
        return session

    def student_env(self, user: str) -> dict[str, str]:
        """A learner's server's environment: their hub token, the student side of nbgrader."""
        home = self.work / "home" / user
        home.mkdir(parents=True, exist_ok=True)
        return {**os.environ, "JUPYTERHUB_API_TOKEN": self.user_token(user), "JUPYTERHUB_API_URL": self.hub_api,
                "JUPYTERHUB_USER": user, "USER": user, "HOME": str(home), "ATTNKIT_NGSHARE_URL": self.ngshare_url,
                "JUPYTER_CONFIG_PATH": os.pathsep.join([str(DEPLOY / "student"),
                                                        str(REPO / "jupyter_config" / "learner")])}

    def instructor_env(self, course: str) -> dict[str, str]:
        """The formgrader service's environment (its service token, its grader account)."""
        spec = self.courses[course]
        return {**os.environ, "JUPYTERHUB_API_TOKEN": spec.token, "JUPYTERHUB_API_URL": self.hub_api,
                "JUPYTERHUB_USER": f"grader-{course}", "USER": f"grader-{course}",
                "ATTNKIT_NGSHARE_URL": self.ngshare_url,
                "JUPYTER_CONFIG_PATH": str(REPO / "jupyter_config" / "instructor")}

    def grading_env(self) -> dict[str, str]:
        """The grading workers' and ``attnkit queue``'s environment: no exchange, no hub token or user."""
        return {k: v for k, v in os.environ.items()
                if not k.startswith(("JUPYTERHUB_", "ATTNKIT_NGSHARE")) and k != "ATTNKIT_DATABASE_URL"}

    def nbgrader_as_student(self, user: str, *args: str, env: dict[str, str] | None = None,
                            check: bool = True) -> subprocess.CompletedProcess:
        """nbgrader's CLI in the learner's home, as their server runs it (``env``: what a hostile learner changes)."""
        out = subprocess.run([str(Path(sys.executable).parent / "nbgrader"), *args], cwd=self.work / "home" / user,
                             env={**self.student_env(user), **(env or {})}, capture_output=True, text=True,
                             timeout=600)
        if check and out.returncode != 0:
            raise RuntimeError(f"nbgrader {' '.join(args)} failed ({out.returncode}):\n{out.stdout}\n{out.stderr}")
        return out


def _driver(url: str, driver: str) -> str:
    """The same database URL with another SQLAlchemy driver (``postgresql+psycopg2``)."""
    return driver + url[url.index("://"):]


def _form(page: str) -> tuple[str, dict[str, str]]:
    """The action and hidden fields of the LMS's self-submitting form."""
    import html
    import re

    action = html.unescape(re.search(r"action='([^']*)'", page).group(1))
    fields = {html.unescape(k): html.unescape(v)
              for k, v in re.findall(r"name='([^']*)' value='([^']*)'", page)}
    return action, fields
