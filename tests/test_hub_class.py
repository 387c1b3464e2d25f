"""The class on JupyterHub, on loopback: LTI 1.3 login, course roles, the exchange, grading, feedback.

One hub for the whole file (session fixture ``hub``: attnkit.classroom.hub.ClassHub with
deploy/hub/jupyterhub_config.py): the fake LMS, JupyterHub and configurable-http-proxy, ngshare, the
formgrader services and grading workers (``attnkit queue worker``) of two courses (attn101: learners ada
and bob, instructor ines; attn202: learner eve, instructor jon), one PostgreSQL server for the hub,
ngshare, the gradebooks and the grading queues. The tests run in file order: the exchange tests leave
the submissions that the grading test collects; the last test stops that hub and checks a real Ctrl-C of
the demo class (``python -m attnkit.classroom.demo``, what ``make class-demo`` runs). Everything is
stopped at the end, even after a failure. Hostile learners are played with their own real hub tokens.
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from attnkit.classroom.hub import NGSHARE_PYTHON, PORTS, REPO, ClassHub, _become_subreaper, _form
from attnkit.grading.grader.sandbox import alive, descendants

requests = pytest.importorskip("requests")
psutil = pytest.importorskip("psutil")
pytest.importorskip("jupyterhub")

QUIZ = "q4_qkv_math"
PROXY = REPO / "deploy" / "hub" / "node_modules" / ".bin" / "configurable-http-proxy"
_RUNNING: list[ClassHub] = []  # the session's hub, which the Ctrl-C test stops to free the ports


@pytest.fixture(scope="session")
def hub(postgres, tmp_path_factory):
    """The class set-up, started once; stopped (every process under it) whatever happens."""
    missing = [str(p) for p in (PROXY, NGSHARE_PYTHON) if not p.exists()]
    if missing:
        pytest.skip(f"class hub not set up (make install: hub-setup): missing {missing}")
    work = tmp_path_factory.mktemp("class")
    hub = ClassHub(work, postgres)
    _RUNNING.append(hub)
    try:
        hub.start()
        yield hub
    finally:
        hub.stop()
        _RUNNING.remove(hub)
        left = sorted(hub.leftovers())
        assert not left, f"processes left behind by the class hub: {left}"


@pytest.fixture(scope="session")
def launched(hub):
    """Every LMS user launched once from each of their courses: user -> logged-in session."""
    return {user: hub.launch(user, context) for user, context in
            [("ada", "lms-101"), ("bob", "lms-101"), ("eve", "lms-202"), ("ines", "lms-101"), ("jon", "lms-202")]}


def submissions(hub: ClassHub, student: str) -> list[str]:
    """The timestamps of ``student``'s submissions of QUIZ in attn101, as ngshare recorded them."""
    r = hub.ngshare("get", f"/submissions/attn101/{QUIZ}/{student}", hub.courses["attn101"].token)
    return [s["timestamp"] for s in r.get("submissions", [])]


# --- LTI 1.3 --------------------------------------------------------------------------------------
def test_an_lti_launch_creates_the_user_in_their_course_group(hub, launched):
    groups = {u: sorted(hub.api("get", f"/users/{u}").json()["groups"]) for u in launched}
    assert groups == {"ada": ["nbgrader-attn101"], "bob": ["nbgrader-attn101"], "eve": ["nbgrader-attn202"],
                      "ines": ["formgrade-attn101"], "jon": ["formgrade-attn202"]}
    # the session is logged in: the hub's own API answers "who am I" from its cookie
    me = launched["ada"].get(f"{hub.public}/hub/api/user", timeout=60,
                             headers={"Referer": f"{hub.public}/hub/"})
    assert me.status_code == 200 and me.json()["name"] == "ada"


def _claims(token: str) -> dict:
    import jwt

    return jwt.decode(token, options={"verify_signature": False})


def test_a_token_signed_by_another_key_is_refused(hub, launched):
    from attnkit.classroom.lms import new_key

    session, action, fields = hub.launch_form("bob", "lms-101")
    forged = _claims(fields["id_token"]) | {"sub": "ines", "https://purl.imsglobal.org/spec/lti/claim/roles": [
        "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"]}
    r = session.post(action, data={**fields, "id_token": hub.lms.id_token(forged, key=new_key())},
                     allow_redirects=False, timeout=60)
    assert r.status_code == 400 and "Signature verification failed" in r.text
    assert hub.api("get", "/users/ines").json()["groups"] == ["formgrade-attn101"]  # unchanged


def test_an_expired_token_is_refused(hub):
    session, action, fields = hub.launch_form("ada", "lms-101")
    claims = _claims(fields["id_token"])
    old = hub.lms.claims("ada", "lms-101", claims["nonce"], now=time.time() - 3600)
    r = session.post(action, data={**fields, "id_token": hub.lms.id_token(old)}, allow_redirects=False, timeout=60)
    assert r.status_code == 400 and "expired" in r.text.lower()


def test_a_replayed_launch_is_refused(hub):
    session, action, fields = hub.launch_form("ada", "lms-101")
    cookies = session.cookies.copy()  # what an attacker who saw the launch would replay: form and cookies
    assert session.post(action, data=fields, allow_redirects=False, timeout=60).status_code == 302
    replay = requests.Session()
    replay.cookies.update(cookies)
    r = replay.post(action, data=fields, allow_redirects=False, timeout=60)
    assert r.status_code == 400 and "replayed nonce" in r.text
    bare = requests.post(action, data=fields, allow_redirects=False, timeout=60)  # without the cookies
    assert bare.status_code == 400


# --- roles ------------------------------------------------------------------------------------------
def test_a_student_lists_only_their_courses_quizzes(hub, launched):
    ada = hub.nbgrader_as_student("ada", "list")
    eve = hub.nbgrader_as_student("eve", "list")
    assert f"attn101 {QUIZ}" in ada.stdout + ada.stderr and "attn202" not in ada.stdout + ada.stderr
    assert "attn202 q1_bottleneck" in eve.stdout + eve.stderr and "attn101" not in eve.stdout + eve.stderr


@pytest.mark.parametrize("user,course,status", [
    ("ada", "attn101", 403),   # a student's token
    ("ines", "attn101", 200),  # the course's instructor
    ("ines", "attn202", 403),  # an instructor of another course
    ("jon", "attn202", 200),
])
def test_the_formgrader_follows_course_roles(hub, launched, user, course, status):
    r = requests.get(f"{hub.public}/services/{course}/formgrader/api/assignments", timeout=120,
                     headers={"Authorization": f"token {hub.user_token(user)}"})
    assert r.status_code == status, r.text[:300]
    if status == 200:
        assert QUIZ in r.text or "q1_bottleneck" in r.text


# --- the exchange ----------------------------------------------------------------------------------------
def _fetched(hub: ClassHub, student: str) -> Path:
    found = sorted((hub.work / "home" / student).rglob(f"{QUIZ}.ipynb"))
    assert found, f"{student} has no fetched {QUIZ}"
    return found[0].parent


def test_two_students_fetch_and_submit(hub, launched):
    for student in ("ada", "bob"):
        hub.nbgrader_as_student(student, "fetch_assignment", QUIZ, "--course", "attn101")
    # ada answers (the instructor's notebook stands for her work); bob hands the quiz in unanswered
    shutil.copy(REPO / "solutions" / QUIZ / f"{QUIZ}.ipynb", _fetched(hub, "ada") / f"{QUIZ}.ipynb")
    for student in ("ada", "bob"):
        hub.nbgrader_as_student(student, "submit", QUIZ, "--course", "attn101")
    assert len(submissions(hub, "ada")) == 1 and len(submissions(hub, "bob")) == 1
    # ngshare keeps them in its database on the class's PostgreSQL server (no SQLite file)
    assert hub.postgres.psql("select count(*) from submissions", "ngshare") == "2"
    assert not list(hub.work.glob("*.db"))


def test_the_exchange_takes_identity_from_the_token_not_the_client(hub, launched):
    before = len(submissions(hub, "bob"))
    spoof = hub.nbgrader_as_student("ada", "submit", QUIZ, "--course", "attn101", "--student", "bob", check=False)
    assert spoof.returncode != 0 and "explicit student ID is not possible" in spoof.stdout + spoof.stderr
    # ada's token with bob's name in the environment: recorded as ada
    hub.nbgrader_as_student("ada", "submit", QUIZ, "--course", "attn101", env={"JUPYTERHUB_USER": "bob", "USER": "bob"})
    assert len(submissions(hub, "bob")) == before and len(submissions(hub, "ada")) == 2
    # straight to ngshare's API with her own token: bob's submission and a path out of the course
    ada = {"Authorization": f"token {hub.user_token('ada')}"}
    r = requests.get(f"{hub.ngshare_url}/submission/attn101/{QUIZ}/bob", headers=ada, timeout=60)
    assert r.status_code == 403
    evil = json.dumps([{"path": "../../evil.ipynb", "content": "e30="}])
    r = requests.post(f"{hub.ngshare_url}/submission/attn101/{QUIZ}", data={"files": evil}, headers=ada, timeout=60)
    assert r.status_code >= 400 and len(submissions(hub, "ada")) == 2


def test_a_student_not_enrolled_is_refused(hub, launched):
    fetch = hub.nbgrader_as_student("eve", "fetch_assignment", QUIZ, "--course", "attn101", check=False)
    assert fetch.returncode != 0
    home = hub.work / "home" / "eve"
    shutil.copytree(_fetched(hub, "bob"), home / QUIZ, dirs_exist_ok=True)
    submit = hub.nbgrader_as_student("eve", "submit", QUIZ, "--course", "attn101", check=False)
    # ngshare-exchange exits 0 even then ("Failed to submit." in its log): the server's refusal is the proof
    assert "Permission denied" in submit.stderr and "Failed to submit" in submit.stderr
    everyone = hub.ngshare("get", f"/submissions/attn101/{QUIZ}", hub.courses["attn101"].token)["submissions"]
    assert {s["student_id"] for s in everyone} == {"ada", "bob"}
    r = requests.get(f"{hub.ngshare_url}/assignment/attn101/{QUIZ}", timeout=60,
                     headers={"Authorization": f"token {hub.user_token('eve')}"})
    assert r.status_code == 403


def test_nbgrader_default_exchange_records_whatever_student_it_is_told(hub, launched, tmp_path):
    """Characterisation: why the class does not use the shared-folder exchange (it trusts --student)."""
    course = hub.courses["attn101"]
    exchange = tmp_path / "exchange"
    exchange.mkdir()
    env = {k: v for k, v in hub.instructor_env("attn101").items() if k != "ATTNKIT_NGSHARE_URL"}
    subprocess.run([str(Path(sys.executable).parent / "nbgrader"), "release_assignment", QUIZ, "--force",
                    f"--Exchange.root={exchange}"], cwd=course.dir, env=env, check=True, capture_output=True,
                   timeout=600)
    student = tmp_path / "ada"
    shutil.copytree(_fetched(hub, "ada"), student / QUIZ)
    out = subprocess.run([str(Path(sys.executable).parent / "nbgrader"), "submit", QUIZ, "--course", "attn101",
                          "--student", "bob", f"--Exchange.root={exchange}"],
                         cwd=student, env={**env, "USER": "ada", "JUPYTERHUB_USER": "ada"},
                         capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-2000:]
    inbound = [p.name for p in (exchange / "attn101" / "inbound").iterdir()]
    assert len(inbound) == 1 and inbound[0].startswith(f"bob+{QUIZ}+")


# --- end to end: collect, grade through the queue, feedback ------------------------------------------------
@pytest.mark.sandbox
def test_collected_submissions_are_graded_and_feedback_reaches_only_their_authors(hub, launched):
    """The instructor's path: collect, ``attnkit queue submit``, ``attnkit queue status --wait`` (the
    course's worker process grades), release feedback; each learner fetches their own feedback only."""
    from nbgrader.api import Gradebook

    course = hub.courses["attn101"]
    hub.course_tasks("attn101", f"collect={QUIZ}")
    assert sorted(p.name for p in (course.dir / "submitted").iterdir()) == ["ada", "bob"]
    submitted = hub.queue("attn101", "submit", QUIZ)
    assert f"{QUIZ}: 2 enqueued" in submitted.stdout, submitted.stdout
    waited = hub.queue("attn101", "status", QUIZ, "--wait", timeout=1200)
    assert f"{QUIZ}: 2 submissions" in waited.stdout and "failed" not in waited.stdout, waited.stdout
    jobs = hub.postgres.psql("select args->>'student', status from procrastinate_jobs order by 1", "gradebook_attn101")
    assert jobs.splitlines() == ["ada|succeeded", "bob|succeeded"]
    # graded by the course's worker processes (host:pid in the queue's status table), not by this one
    graders = hub.postgres.psql("select distinct split_part(worker, ':', 2) from attnkit_grading",
                                "gradebook_attn101").split()
    worker = hub.workers["attn101"].pid
    assert graders and all(int(pid) in descendants(worker) for pid in graders), (graders, descendants(worker))
    hub.course_tasks("attn101", f"release_feedback={QUIZ}")
    with Gradebook(course.db_url) as gb:  # PostgreSQL
        scores = {s: gb.find_submission(QUIZ, s).score for s in ("ada", "bob")}
        top = gb.find_assignment(QUIZ).max_score
    assert scores["ada"] == top > scores["bob"]
    status = (course.dir / "grading_status.csv").read_text()
    assert "ada" in status and "bob" in status  # judged by attnkit's grader (autograde.RecordStatus)

    for student in ("ada", "bob"):
        hub.nbgrader_as_student(student, "fetch_feedback", QUIZ, "--course", "attn101")
        pages = sorted((hub.work / "home" / student).rglob(f"feedback/*/{QUIZ}.html"))
        assert len(pages) == 1, pages
        assert f"(Score: {round(float(scores[student]), 2)} / {round(float(top), 2)})" in pages[0].read_text()
    # nobody else's feedback: bob asks ngshare for ada's, eve fetches from a course she is not in
    stamp = submissions(hub, "ada")[-1]
    r = requests.get(f"{hub.ngshare_url}/feedback/attn101/{QUIZ}/ada", params={"timestamp": stamp}, timeout=60,
                     headers={"Authorization": f"token {hub.user_token('bob')}"})
    assert r.status_code == 403
    eve = hub.nbgrader_as_student("eve", "fetch_feedback", QUIZ, "--course", "attn101", check=False)
    assert not list((hub.work / "home" / "eve").rglob(f"feedback/*/{QUIZ}.html")), eve.stdout


# --- looked at in Chromium ---------------------------------------------------------------------------------
def test_looked_at_in_chromium(hub, launched, tmp_path_factory):
    """The hub's login page, a learner's Assignments tab with the fetched quiz and the feedback the queue
    made, an instructor's formgrader and the quiz's submission list graded by the queue.

    Screenshots go to $ATTNKIT_SCREENSHOTS (else this run's temp folder): hub_login.png,
    hub_student_assignments.png, hub_instructor_formgrader.png, hub_formgrader_submissions.png."""
    sys.path.insert(0, str(Path(__file__).parent))
    from browser.jlab import CHROMIUM_ARGS, chromium_path

    chromium = chromium_path()
    if chromium is None:
        pytest.skip("no Chromium (apt-get install chromium)")
    sync_playwright = pytest.importorskip("playwright.sync_api").sync_playwright
    shots = Path(os.environ.get("ATTNKIT_SCREENSHOTS") or tmp_path_factory.mktemp("hub-screenshots"))
    shots.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            page.goto(f"{hub.public}/hub/login", timeout=120_000)
            assert "LTI 1.3" in page.content()
            page.screenshot(path=str(shots / "hub_login.png"))

            # ada clicks the course link in the LMS: LTI launch, her server starts, JupyterLab opens
            page.goto(hub.lms.launch_url("ada", "lms-101"), timeout=120_000)
            page.wait_for_url("**/user/ada/lab**", timeout=300_000)
            page.wait_for_selector(".lm-MenuBar-itemLabel:text-is('Nbgrader')", timeout=300_000).click()
            page.locator(".lm-Menu-itemLabel:text-is('Assignment List')").click()
            page.wait_for_selector(f"text={QUIZ}", timeout=120_000)
            page.wait_for_timeout(2000)
            page.screenshot(path=str(shots / "hub_student_assignments.png"))
            assert page.locator("text=Formgrader").count() == 0  # no instructor tools for a learner

            # ines, the instructor: from the LMS straight to her course's formgrader
            other = browser.new_page(viewport={"width": 1280, "height": 800})
            other.goto(hub.lms.launch_url("ines", "lms-101", "/services/attn101/formgrader"), timeout=120_000)
            other.wait_for_url("**/services/attn101/formgrader**", timeout=300_000)
            other.wait_for_selector(f"text={QUIZ}", timeout=120_000)
            other.wait_for_timeout(2000)
            other.screenshot(path=str(shots / "hub_instructor_formgrader.png"))
            # the quiz's submissions, graded by the queue's worker: scores in the formgrader's list
            other.goto(f"{hub.public}/services/attn101/formgrader/manage_submissions/{QUIZ}", timeout=120_000)
            other.wait_for_selector("text=ada", timeout=120_000)
            other.wait_for_timeout(2000)
            assert other.locator("text=bob").count() >= 1
            other.screenshot(path=str(shots / "hub_formgrader_submissions.png"))
        finally:
            browser.close()
    print(f"screenshots in {shots}")


# --- what a learner's server can reach ------------------------------------------------------------------------
def _server_of(hub: ClassHub, user: str) -> psutil.Process:
    """The learner's running single-user server (started through the hub's API if it is not)."""
    if not hub.api("get", f"/users/{user}").json().get("servers"):
        hub.api("post", f"/users/{user}/server").raise_for_status()
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        for pid in descendants(hub.process.pid):
            try:
                proc = psutil.Process(pid)
                if proc.environ().get("JUPYTERHUB_USER") == user and "jupyterhub-singleuser" in " ".join(
                        proc.cmdline()):
                    return proc
            except psutil.Error:
                continue
        time.sleep(1)
    raise TimeoutError(f"no server of {user}")


def test_a_learners_server_holds_no_key_to_grading(hub, launched):
    """A learner's server (and so their kernel) starts with their own hub token only: no database URL,
    no service or admin token, no exchange instructor role; PostgreSQL listens on no TCP port and the
    grading queue has no HTTP API. (Same UNIX user on one machine: docs/deploy.md says what is left.)"""
    env = _server_of(hub, "ada").environ()
    secrets_ = {hub.admin_token, *(c.token for c in hub.courses.values())}
    assert not secrets_ & set(env.values())
    assert env["JUPYTERHUB_API_TOKEN"] not in secrets_ and env["JUPYTERHUB_USER"] == "ada"
    leaked = [k for k, v in env.items() if "postgres" in v.lower() or str(hub.postgres.socket_dir) in v
              or k == "ATTNKIT_DATABASE_URL"]
    assert not leaked, leaked
    assert hub.postgres.psql("show listen_addresses") == ""  # a Unix socket only: nothing on 127.0.0.1
    # her token asks the hub for more than her server: other users, the services' tokens, admin actions
    token = env["JUPYTERHUB_API_TOKEN"]
    assert hub.api("get", "/users", token=token).status_code == 403
    assert hub.api("post", "/users/bob/tokens", token=token, json={}).status_code == 403
    services = hub.api("get", "/services", token=token)
    assert services.status_code == 403 or all("api_token" not in s for s in services.json().values())
    # the exchange: the course roster and everyone's submissions are instructors' only
    for path in ("/students/attn101", f"/submissions/attn101/{QUIZ}"):
        assert hub.ngshare("get", path, token)["status"] == 403


# --- Ctrl-C of `make class-demo` ------------------------------------------------------------------------------
def _listening(ports: range) -> list[int]:
    """The TCP ports of ``ports`` that something listens on (IPv4 and IPv6), from /proc/net."""
    found = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as fh:
            for line in fh.readlines()[1:]:
                local, state = line.split()[1], line.split()[3]
                port = int(local.rsplit(":", 1)[1], 16)
                if state == "0A" and port in ports:
                    found.append(port)
    return sorted(set(found))


def _cmdlines(pids: set[int]) -> dict[int, str]:
    out = {}
    for pid in pids:
        try:
            out[pid] = " ".join(psutil.Process(pid).cmdline())
        except psutil.Error:
            pass
    return out


@pytest.mark.sandbox  # the grading workers' warm sandboxes are among what must end
def test_ctrl_c_of_the_demo_class_leaves_nothing(tmp_path):
    """``make class-demo`` runs in a terminal's foreground process group; Ctrl-C sends SIGINT to the whole
    group. Everything of the class must end within a bounded time: hub, proxy, ngshare, formgraders,
    grading workers and their sandboxes, PostgreSQL, a learner's spawned server; ports 18100-18199 free."""
    for running in list(_RUNNING):  # the session's hub holds the ports
        running.stop()
    ports = range(PORTS["public"], PORTS["public"] + 100)
    assert _listening(ports) == [], "ports of the class in use before the demo started"
    _become_subreaper()  # what the demo leaves behind is re-parented here and found
    before = descendants(os.getpid())
    log = tmp_path / "demo.log"
    with open(log, "wb") as out:  # its own session and process group, as a shell's foreground job
        demo = subprocess.Popen([sys.executable, "-m", "attnkit.classroom.demo", "--workdir", str(tmp_path / "class")],
                                cwd=REPO, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 600
        while "Ready in" not in log.read_text() and demo.poll() is None and time.monotonic() < deadline:
            time.sleep(1)
        assert "Ready in" in log.read_text(), log.read_text()[-3000:]
        # a learner logs in from the LMS: her server is spawned
        session = requests.Session()
        page = session.get(f"http://127.0.0.1:{PORTS['lms']}/launch?user=ada&course=lms-101", timeout=120)
        action, fields = _form(page.text)
        session.post(action, data=fields, timeout=300)
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            seen = _cmdlines(descendants(demo.pid) | (descendants(os.getpid()) - before))
            if any("jupyterhub-singleuser" in c and "/user/ada" in _env_of(p, "JUPYTERHUB_SERVICE_PREFIX")
                   for p, c in seen.items()):
                break
            time.sleep(1)
        text = "\n".join(seen.values())
        for part in ("jupyterhub", "configurable-http-proxy", "ngshare_service.py", "queue worker", "bwrap",
                     "postgres", "jupyterhub-singleuser"):
            assert part in text, f"{part} not running before Ctrl-C:\n{text}"
        assert any("/user/ada" in _env_of(p, "JUPYTERHUB_SERVICE_PREFIX") for p in seen), text

        os.killpg(demo.pid, signal.SIGINT)  # Ctrl-C: the terminal signals the foreground process group
        start = time.monotonic()
        assert demo.wait(timeout=240) == 0, log.read_text()[-3000:]
        stopped = time.monotonic() - start
        left = {p for p in set(seen) | (descendants(os.getpid()) - before) if alive(p)}
        ClassHub._reap()
        assert not {p for p in left if alive(p)}, _cmdlines(left)
        assert _listening(ports) == []
        assert "Stopped: no process of the class is left." in log.read_text()
        print(f"Ctrl-C stop: {stopped:.1f} s")
        (tmp_path / "stop_seconds").write_text(f"{stopped:.1f}\n")
    finally:
        if demo.poll() is None:
            os.killpg(demo.pid, signal.SIGKILL)
            demo.wait()


def _env_of(pid: int, key: str) -> str:
    try:
        return psutil.Process(pid).environ().get(key, "")
    except psutil.Error:
        return ""
