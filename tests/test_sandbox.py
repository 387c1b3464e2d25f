"""Issue 12: the grading sandbox and the class bundle (the judge, statuses and flags: test_judge.py,
test_status.py, test_static.py). Each test that runs a sandbox takes about a second."""
from __future__ import annotations

import json
import sys
import tarfile
from pathlib import Path

import pytest

from attnkit.grading.course import bundle
from attnkit.grading.grader import sandbox

sys.path.insert(0, str(Path(__file__).parent))
from adversarial.probe import PROBE as SANDBOX_PROBE  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the sandbox is Linux-only")

PROBE = SANDBOX_PROBE + '''
json.dump(out, open("/scratch/out.json", "w"))
'''


@linux_only
@pytest.mark.sandbox
def test_the_sandbox_holds_only_the_scratch_folder(tmp_path: Path) -> None:
    sandbox.check_available()
    scratch = tmp_path / "scratch"
    limits = sandbox.Limits(memory_mb=2048, cpu_s=30, nproc=32, fsize_mb=8, nofile=128)
    process = sandbox.start([sys.executable, "-c", f"REPO = {str(REPO)!r}\n" + PROBE], scratch, limits)
    assert process.wait(timeout=60) == 0, (tmp_path / "scratch.log").read_text()
    out = json.loads((scratch / "out.json").read_text())
    assert out["uid"] == sandbox.SANDBOX_UID and out["gid"] == sandbox.SANDBOX_UID
    assert out["cwd"] == sandbox.SCRATCH
    assert out["read_solutions"] == "FileNotFoundError" and out["read_nbgrader_config"] == "FileNotFoundError"
    assert out["write_repo"] in ("OSError", "PermissionError") and out["write_venv"] in ("OSError", "PermissionError")
    assert out["write_scratch"] == "ok" and out["import_numpy"] == "ok"
    assert out["network"] in ("OSError", "ConnectionRefusedError", "TimeoutError", "gaierror")
    for name in ("import_checks", "import_exercises", "import_engine"):
        assert out[name] in ("ModuleNotFoundError", "ImportError"), (name, out[name])
    limits_text = out["limits"]
    assert "2147483648" in limits_text  # address space
    assert "8388608" in limits_text  # file size
    assert out["capabilities"] == "0000000000000000" and out["no_new_privs"] == "1"
    assert not (REPO / "attnkit" / "PWNED").exists()


def test_grading_refuses_without_a_sandbox_unless_told(monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    monkeypatch.setattr(sandbox, "_bwrap", lambda: None)
    monkeypatch.setattr(sandbox, "_CHECKED", {})
    monkeypatch.delenv(sandbox.UNSANDBOXED_ENV, raising=False)
    with pytest.raises(sandbox.SandboxUnavailable, match="NO SANDBOX"):
        sandbox.check_available()
    monkeypatch.setenv(sandbox.UNSANDBOXED_ENV, "1")
    assert sandbox.check_available() is False
    assert "GRADING UNSANDBOXED" in capsys.readouterr().err


def test_the_class_bundle_has_no_solution_hidden_test_or_answer_key(tmp_path: Path) -> None:
    path = bundle.build_bundle(tmp_path / "course.tar.gz")
    with tarfile.open(path) as tar:
        names = [n.split("/", 1)[1] for n in tar.getnames()]
        files = {n.split("/", 1)[1]: tar.extractfile(n).read() for n in tar.getnames() if tar.getmember(n).isfile()}
    assert any(n.startswith("quizzes/q4_qkv_math/") for n in names) and "attnkit/__init__.py" in names
    assert not any(n.startswith(("solutions/", "quizzes_src/", "tests/")) or n.endswith("nbgrader_config.py")
                   for n in names)
    secrets = bundle.secret_lines()
    assert secrets["hidden"] and secrets["solution"]
    assert bundle.check_bundle(files, secrets) == []
    # and the check does catch a leak
    hidden_line = sorted(secrets["hidden"])[0]
    leaked = dict(files, **{"docs/leak.md": f"look:\n{hidden_line}\n".encode()})
    assert any("docs/leak.md" in p for p in bundle.check_bundle(leaked, secrets))


def test_grade_class_and_bundle_dispatch(monkeypatch: pytest.MonkeyPatch) -> None:
    from attnkit import cli
    from attnkit.grading.course import bundle as bundle_module
    from attnkit.grading.course import classgrade

    calls = []
    monkeypatch.setattr(classgrade, "main", lambda *args: calls.append(("class", args)) or 0)
    monkeypatch.setattr(bundle_module, "main", lambda *args: calls.append(("bundle", args)) or 0)
    assert cli.main(["grade-class", "q4_qkv_math", "--workers", "3", "--course", "here", "--timeout", "9"]) == 0
    assert cli.main(["bundle", "--out", "x.tar.gz"]) == 0
    assert calls == [("class", ("q4_qkv_math", "here", 3, 9, False)), ("bundle", ("x.tar.gz",))]


@linux_only
@pytest.mark.sandbox
@pytest.mark.slow
def test_attnkit_grade_in_an_unpacked_bundle_runs_the_visible_tests(tmp_path: Path) -> None:
    import subprocess

    path = bundle.build_bundle(tmp_path / "course.tar.gz")
    with tarfile.open(path) as tar:
        tar.extractall(tmp_path, filter="data")
    root = tmp_path / "attnkit-course"
    assert not (root / "solutions").exists()
    solved = tmp_path / "q4_qkv_math.ipynb"
    solved.write_text((REPO / "solutions" / "q4_qkv_math" / "q4_qkv_math.ipynb").read_text())
    done = subprocess.run([sys.executable, "-c", "import sys; from attnkit.grading.course import selfgrade; "
                           f"sys.exit(selfgrade.main({str(solved)!r}))"], cwd=root, capture_output=True, text=True,
                          env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(root), "HOME": str(tmp_path)}, timeout=600)
    assert "visible tests only" in done.stdout, done.stdout + done.stderr
    assert done.returncode == 0, done.stdout + done.stderr  # the solution passes the visible tests
