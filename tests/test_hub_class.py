"""The class on JupyterHub, on loopback: LTI 1.3 login, course roles, the exchange, grading, feedback.

One hub for the whole file (session fixture ``hub``: attnkit.classroom.hub.ClassHub with
deploy/hub/jupyterhub_config.py): the fake LMS, JupyterHub and configurable-http-proxy, ngshare, the
formgrader services of two courses (attn101: learners ada and bob, instructor ines; attn202: learner eve,
instructor jon), PostgreSQL for the hub and the gradebooks. The tests run in file order: the exchange
tests leave the submissions that the grading test collects. Everything is stopped at the end, even after
a failure. Hostile learners are played with their own real hub tokens.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from attnkit.classroom.hub import NGSHARE_PYTHON, REPO, ClassHub

requests = pytest.importorskip("requests")
pytest.importorskip("jupyterhub")

QUIZ = "q4_qkv_math"
PROXY = REPO / "deploy" / "hub" / "node_modules" / ".bin" / "configurable-http-proxy"


@pytest.fixture(scope="session")
def hub(postgres, tmp_path_factory):
    """The class set-up, started once; stopped (every process under it) whatever happens."""
    missing = [str(p) for p in (PROXY, NGSHARE_PYTHON) if not p.exists()]
    if missing:
        pytest.skip(f"class hub not set up (make install: hub-setup): missing {missing}")
    work = tmp_path_factory.mktemp("class")
    hub = ClassHub(work, postgres)
    try:
        hub.start()
        yield hub
    finally:
        hub.stop()
        left = [p for p in _pids_under(os.getpid()) if p not in hub._before]
        assert not left, f"processes left behind by the class hub: {left}"


def _pids_under(pid: int) -> set[int]:
    from attnkit.grading.grader.sandbox import alive, descendants

    return {p for p in descendants(pid) if alive(p)}


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


# --- end to end: collect, grade, feedback ------------------------------------------------------------------
def test_collected_submissions_are_graded_and_feedback_reaches_only_their_authors(hub, launched):
    from nbgrader.api import Gradebook

    course = hub.courses["attn101"]
    results = hub.course_tasks("attn101", f"collect={QUIZ}", f"autograde={QUIZ}", f"feedback={QUIZ}")
    assert results[f"autograde={QUIZ}"]["students"] == ["ada", "bob"]
    assert sorted(p.name for p in (course.dir / "submitted").iterdir()) == ["ada", "bob"]
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
    """The hub's login page, a learner's Assignments tab with the fetched quiz, an instructor's formgrader.

    Screenshots go to $ATTNKIT_SCREENSHOTS (else this run's temp folder): hub_login.png,
    hub_student_assignments.png, hub_instructor_formgrader.png."""
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
        finally:
            browser.close()
    print(f"screenshots in {shots}")
