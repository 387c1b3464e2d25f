"""Issue 12: warm kernels for grade-class. Every kernel is forked from one warm parent, so these
tests check that a forked kernel is as isolated as a one-off sandbox (tests/test_sandbox.py), that
nothing one student's kernel did reaches the next, and that a kernel past its time is killed with
everything it started. The adversarial corpus (tests/test_adversarial.py) grades all its attacks
through grade-class, hence through warm kernels, next to plain nbgrader's one-off sandboxes."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from attnkit.grading.grader import judge, sandbox, warm
from attnkit.grading.limits import GradingLimits

sys.path.insert(0, str(Path(__file__).parent))
from adversarial.probe import PROBE as SANDBOX_PROBE  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the sandbox is Linux-only")

PROBE = SANDBOX_PROBE + r'''
import subprocess
out.update(hostname=socket.gethostname(), pids=sorted(int(p) for p in os.listdir("/proc") if p.isdigit()),
           spool=os.listdir("/spool") if os.path.isdir("/spool") else None, torch_loaded="torch" in sys.modules,
           env=sorted(os.environ))
attempt("write_root", lambda: open("/PWNED", "w").write("x"))
attempt("write_dev", lambda: open("/dev/PWNED", "w").write("x"))
attempt("write_spool", lambda: open("/spool/PWNED", "w").write("x"))
attempt("loopback", lambda: socket.create_connection(("127.0.0.1", 22), timeout=2))
attempt("kill_init", lambda: os.kill(1, 9))
print("PROBE" + json.dumps(out))
'''


def _notebook(*sources: str) -> nbformat.NotebookNode:
    return nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(s) for s in sources])


def _printed(result: judge.JudgeResult, marker: str) -> dict:
    for cell in result.nb.cells:
        for output in cell.get("outputs", []):
            text = output.get("text", "")
            if marker in text:
                return json.loads(text.split(marker, 1)[1].splitlines()[0])
    raise AssertionError(f"no {marker} output: {[c.get('outputs') for c in result.nb.cells]}")


def _processes(pattern: str, settle: float = 0.0) -> list[str]:
    """Live processes whose command line holds ``pattern``; with ``settle``, wait up to that many
    seconds for them to go (the kernel tears a killed pid namespace down asynchronously)."""
    import time

    deadline = time.monotonic() + settle
    while True:
        done = subprocess.run(["ps", "-eo", "pid,stat,args"], capture_output=True, text=True)
        alive = [line for line in done.stdout.splitlines()[1:]
                 if pattern in line and "ps -eo" not in line and line.split()[1][0] != "Z"]
        if not alive or time.monotonic() > deadline:
            return alive
        time.sleep(0.05)


@pytest.fixture(scope="module")
def client():
    sandbox.check_available()
    label = f"test-warm-{os.getpid()}"
    parent = warm.WarmParent(label=label).spawn()
    connection = warm.WarmClient(parent.spool, parent)
    connection.ensure()
    judge.use_warm_parent(connection)
    yield connection
    judge.use_warm_parent(None)
    connection.close()
    parent.close()
    assert _processes(label, settle=5) == []


def test_a_warm_kernel_holds_only_its_scratch_folder(client: warm.WarmClient) -> None:
    result = judge.judge_notebook(_notebook(f"REPO = {str(REPO)!r}\n" + PROBE), cell_timeout=20)
    out = _printed(result, "PROBE")
    assert out["uid"] == sandbox.grading_uid() or (out["uid"] == 0 and os.geteuid() != 0)
    assert out["cwd"] == sandbox.SCRATCH and out["hostname"] == "grading"
    assert out["spool"] == [], "the other students' scratch folders must be out of sight"
    assert out["pids"][:2] == [1, 2] and len(out["pids"]) <= 3, out["pids"]  # its own pid namespace
    assert out["torch_loaded"], "the warm parent imported torch once for every kernel"
    assert not any(k.startswith(("ATTNKIT_FDS", "ATTNKIT_ZYGOTE", "VIRTUAL_ENV", "PYTEST")) for k in out["env"])
    assert out["read_solutions"] == "FileNotFoundError" and out["read_nbgrader_config"] == "FileNotFoundError"
    for name in ("write_repo", "write_venv", "write_root"):
        assert out[name] in ("OSError", "PermissionError"), (name, out[name])
    for name in ("write_dev", "write_spool"):  # the warm parent's own folders: nothing left for the next kernel
        assert out[name] in ("OSError", "PermissionError"), (name, out[name])
    assert out["write_scratch"] == "ok"
    assert out["network"] in ("OSError", "ConnectionRefusedError", "TimeoutError", "gaierror")
    assert out["loopback"] != "ok"
    for name in ("import_checks", "import_engine"):
        assert out[name] in ("ModuleNotFoundError", "ImportError"), (name, out[name])
    assert out["kill_init"] in ("PermissionError", "ok")  # ok: pid 1 ignores it; the kernel lives on
    assert out["capabilities"] == "0000000000000000" and out["bounding"] == "0000000000000000"
    assert out["no_new_privs"] == "1"
    assert f"{sandbox.Limits().fsize_mb << 20}" in out["limits"]  # file size
    assert "Max address space" in out["limits"] and "unlimited" not in \
        [line for line in out["limits"].splitlines() if "address space" in line][0]
    assert not (REPO / "attnkit" / "PWNED").exists()


def test_nothing_one_kernel_leaves_reaches_the_next(client: warm.WarmClient) -> None:
    first = judge.judge_notebook(_notebook(
        "import os, subprocess, numpy as np, json\n"
        "open('/tmp/left.txt', 'w').write('secret'); open('/dev/shm/left.txt', 'w').write('secret')\n"
        "open('/scratch/left.txt', 'w').write('secret')\n"
        "subprocess.Popen(['sleep', '301'], start_new_session=True)\n"
        "print('DRAW' + json.dumps(np.random.rand(3).tolist()))"), cell_timeout=20)
    second = judge.judge_notebook(_notebook(
        "import os, numpy as np, json\n"
        "print('SEEN' + json.dumps({'tmp': os.listdir('/tmp'), 'shm': os.listdir('/dev/shm'),"
        " 'scratch': os.listdir('/scratch'), 'draw': np.random.rand(3).tolist(),"
        " 'pids': sorted(int(p) for p in os.listdir('/proc') if p.isdigit())}))"), cell_timeout=20)
    seen = _printed(second, "SEEN")
    assert "left.txt" not in seen["tmp"] and "left.txt" not in seen["shm"] and seen["scratch"] == []
    assert len(seen["pids"]) <= 3, "the first kernel's sleep must have died with its namespace"
    assert seen["draw"] != _printed(first, "DRAW"), "each kernel draws its own random numbers"
    assert _processes("sleep 301") == []


def test_a_kernel_past_its_time_dies_with_all_it_started(client: warm.WarmClient) -> None:
    stuck = judge.judge_notebook(_notebook(
        "import signal, subprocess, time\n"
        "subprocess.Popen(['sleep', '302'])\n"
        "signal.signal(signal.SIGALRM, signal.SIG_IGN)  # the kernel's own clock cannot stop it\n"
        "time.sleep(600)"), cell_timeout=2)
    assert stuck.status == "timed out", (stuck.status, stuck.notes)
    assert _processes("sleep 302") == []
    spinning = judge.judge_notebook(_notebook("while True:\n    pass"), cell_timeout=2)
    assert spinning.status == "timed out", (spinning.status, spinning.notes)
    after = judge.judge_notebook(_notebook("print('ALIVE' + '{}')"), cell_timeout=20)
    assert after.status == "graded" and _printed(after, "ALIVE") == {}


def test_a_kernel_over_its_memory_limit_stops_there(client: warm.WarmClient) -> None:
    limits = GradingLimits.for_cell(20, memory_mb=512)
    result = judge.judge_notebook(_notebook("import numpy as np\nx = np.ones((1024, 1024, 1024))"), limits=limits)
    assert result.status == "memory limit", (result.status, result.notes)


def test_without_a_warm_parent_a_one_off_sandbox_grades_it(tmp_path: Path, capfd) -> None:
    nowhere = warm.WarmClient(tmp_path / "no-parent", start_timeout=0.2)
    (tmp_path / "no-parent").mkdir()
    judge.use_warm_parent(nowhere)
    try:
        result = judge.judge_notebook(_notebook("print('COLD' + '{}')"), cell_timeout=20)
    finally:
        judge.use_warm_parent(None)
    assert result.status == "graded" and _printed(result, "COLD") == {}
    assert "one-off sandboxes instead" in capfd.readouterr().err


@pytest.mark.slow
@pytest.mark.skipif(os.geteuid() != 0,
                    reason="run as root: it re-runs these tests as an ordinary user")
def test_the_same_holds_for_an_instructor_without_root() -> None:
    """CI runs as root; an instructor on a laptop does not. util-linux `unshare --user` runs the
    sandbox tests again with uid 1000: the sandboxes take the unprivileged path (a user namespace
    made by bwrap, capabilities dropped by capset, no setpriv, no process limit)."""
    import shutil

    if shutil.which("unshare") is None:
        pytest.skip("util-linux unshare is missing")
    tests = [str(Path(__file__)), f"{REPO}/tests/test_sandbox.py::test_the_sandbox_holds_only_the_scratch_folder"]
    done = subprocess.run(["unshare", "--user", "--map-user=1000", "--map-group=1000", sys.executable, "-m", "pytest",
                           "-q", "-p", "no:cacheprovider", "-m", "not slow", *tests],
                          cwd=REPO, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "6 passed" in done.stdout, done.stdout[-2000:]


UNDER_TMP = r'''
import json, sys
import nbformat
from attnkit.grading.grader import judge, warm
parent = warm.WarmParent(label=sys.argv[1]).spawn()
client = warm.WarmClient(parent.spool, parent)
try:
    client.ensure()
    judge.use_warm_parent(client)
    cell = "import json, attnkit.diagrams\nprint('WHERE' + json.dumps(attnkit.diagrams.__file__))"
    result = judge.judge_notebook(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(cell)]), cell_timeout=60)
    print("RESULT" + json.dumps({"status": result.status, "notes": result.notes, "warm": client.channel is not None,
                                 "out": "".join(o.get("text", "") for c in result.nb.cells for o in c.outputs)}))
finally:
    client.close()
    parent.close()
'''


@pytest.mark.slow
@pytest.mark.parametrize("user", ["this user", "an instructor without root"])
def test_warm_kernels_work_for_a_course_under_tmp(user: str) -> None:
    """A course kept under /tmp (attnkit here; its venv likewise): each kernel's fresh /tmp used to
    hide it, a probe kernel exited 70 and grade-class fell back to one-off sandboxes. A kernel
    forked from the warm parent imports a module of that copy that the parent never imported."""
    import shutil
    import tempfile

    prefix = []
    if user != "this user":
        if os.geteuid() != 0 or shutil.which("unshare") is None:
            pytest.skip("needs root and util-linux unshare to act as an instructor without root")
        prefix = ["unshare", "--user", "--map-user=1000", "--map-group=1000"]
    course = Path(tempfile.mkdtemp(prefix="attnkit-course-", dir="/tmp"))
    try:
        os.chmod(course, 0o755)
        shutil.copytree(REPO / "attnkit", course / "attnkit", ignore=shutil.ignore_patterns("__pycache__"))
        label = f"test-warm-tmp-{os.getpid()}"
        done = subprocess.run([*prefix, sys.executable, "-c", UNDER_TMP, label], cwd=course, capture_output=True,
                              text=True, timeout=600, env={**os.environ, "PYTHONPATH": str(course)})
        assert "RESULT" in done.stdout, done.stdout[-2000:] + done.stderr[-3000:]
        result = json.loads(done.stdout.split("RESULT", 1)[1].splitlines()[0])
        assert result["warm"] and result["status"] == "graded", result
        assert "WHERE" + json.dumps(str(course / "attnkit" / "diagrams.py")) in result["out"], result
        assert _processes(label, settle=5) == []
    finally:
        shutil.rmtree(course, ignore_errors=True)


@pytest.mark.slow
def test_grade_class_really_uses_warm_kernels(tmp_path: Path, capfd) -> None:
    """Every submission of a class is graded by a kernel forked from the warm parent (each row says
    which), and grade-class says nothing about falling back."""
    from adversarial.corpus import QUIZ, honest_notebook

    from attnkit.grading.course import classgrade
    from attnkit.grading.course.nbgrader_cli import make_course

    course = make_course(tmp_path / "course", [QUIZ])
    release = nbformat.read(course / "quizzes" / QUIZ / f"{QUIZ}.ipynb", as_version=4)
    honest = honest_notebook(release, nbformat.read(REPO / "solutions" / QUIZ / f"{QUIZ}.ipynb", as_version=4))
    for student in ("ann", "bob", "cat"):
        (course / "submitted" / student / QUIZ).mkdir(parents=True)
        nbformat.write(honest, course / "submitted" / student / QUIZ / f"{QUIZ}.ipynb")
    rows = classgrade.grade_class(QUIZ, course, workers=2, timeout=20, feedback=False)
    assert [(r["student_id"], r["status"], r["kernels"]) for r in sorted(rows, key=lambda r: r["student_id"])] == [
        (s, "graded", "warm") for s in ("ann", "bob", "cat")], rows
    assert "NO WARM KERNELS" not in capfd.readouterr().err
    assert classgrade.warm_warning({"ann": {"kernels": "warm"}}) is None
    warning = classgrade.warm_warning({"ann": {"kernels": "one-off", "warm_failed": "probe exited 70"},
                                       "bob": {"kernels": "warm"}})
    assert "NO WARM KERNELS for 1 of 2 submissions (ann)" in warning and "probe exited 70" in warning
