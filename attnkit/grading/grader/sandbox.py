"""Run a grading kernel where a submission cannot reach anything but itself: bubblewrap + limits.

Every submission is executed by :mod:`attnkit.grading.kernel.runner` inside a sandbox built from Debian's
``bwrap`` (bubblewrap), util-linux ``setpriv`` and ``prlimit``:

* an unprivileged user with no capabilities and ``no_new_privs``: as root, the sandbox is entered
  as root and ``setpriv`` drops to a uid/gid of its own (60000-64999, one per live grading process,
  :mod:`attnkit.grading.grader.uids`: one worker's process limit is not another's); otherwise a
  user namespace maps 65534;
* a new mount namespace holding only ``/usr`` (system libraries), the Python installation, the
  virtual environment, read-only, and a *filtered* attnkit package: ``attnkit/grading`` is
  replaced by an empty folder holding the runner alone, so the checks, the exercise registry
  and their reference implementations cannot be imported by the student's code;
* one writable folder, the scratch directory (``/scratch``), holding only that submission;
  ``/tmp`` is a private tmpfs of 256 MiB; ``solutions/``, the gradebook and other submissions are not there;
* no network (``--unshare-net``: only a loopback), new pid, ipc and uts namespaces, a new session
  (no terminal injection), the sandbox dies with its parent;
* ``prlimit`` limits: address space (memory), CPU seconds, processes, file size, open files;
* afterwards the whole process group is killed (and the pid namespace dies with its init).

Where bubblewrap cannot run, :func:`check_available` raises :class:`SandboxUnavailable` with a
loud message; grading refuses unless ``ATTNKIT_ALLOW_UNSANDBOXED=1`` (or ``allow_unsandboxed``)
says otherwise, and even then every result carries the note ``unsandboxed``.
"""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import sysconfig
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import psutil

from attnkit.grading.grader.uids import SANDBOX_UID, UID_RANGE, grading_uid
from attnkit.grading.limits import DEFAULT as _DEFAULT

__all__ = ["Limits", "SandboxUnavailable", "check_available", "sandbox_command", "warm_parent_command", "start",
           "stop", "grading_uid", "kernel_env", "unavailable_reason", "UNSANDBOXED_ENV", "SANDBOX_UID", "SCRATCH",
           "UID_RANGE", "descendants", "alive"]

UNSANDBOXED_ENV = "ATTNKIT_ALLOW_UNSANDBOXED"
SCRATCH = "/scratch"  # where the scratch directory appears inside the sandbox
PACKAGE = Path(__file__).resolve().parents[2]  # .../attnkit
KERNEL_SIDE = "kernel"  # the only folder of attnkit/grading visible in the sandbox


class SandboxUnavailable(RuntimeError):
    """bubblewrap is missing or cannot create namespaces here: grading refuses to go on."""


@dataclass(frozen=True)
class Limits:
    """Resource limits of one grading kernel (prlimit). The numbers live once, in
    :class:`attnkit.grading.limits.GradingLimits` (``GradingLimits.sandbox()`` builds this from a
    grading's limits); these defaults are its :data:`~attnkit.grading.limits.DEFAULT`'s."""

    memory_mb: int = _DEFAULT.memory_mb  # address space
    cpu_s: int = _DEFAULT.cpu_s  # CPU seconds for the whole notebook
    nproc: int = _DEFAULT.nproc  # processes/threads of the sandbox user
    fsize_mb: int = _DEFAULT.fsize_mb  # largest file it may write
    nofile: int = _DEFAULT.nofile  # open file descriptors
    tmp_mb: int = _DEFAULT.tmp_mb  # size of the private /tmp (memory-backed)


_CHECKED: dict[str, str | None] = {}


def _bwrap() -> str | None:
    return shutil.which("bwrap") or (os.path.exists("/usr/bin/bwrap") and "/usr/bin/bwrap") or None


def allowed_unsandboxed(flag: bool = False) -> bool:
    return flag or os.environ.get(UNSANDBOXED_ENV, "") not in ("", "0")


def check_available(allow_unsandboxed: bool = False) -> bool:
    """True if the sandbox works here. Otherwise raise :class:`SandboxUnavailable`, unless
    unsandboxed grading was asked for explicitly: then warn loudly on stderr and return False."""
    problem = unavailable_reason()
    if problem is None:
        return True
    message = (f"attnkit grading: NO SANDBOX: {problem}\n"
               f"  Student code would run with your rights: it could read solutions/, the gradebook and "
               f"other submissions, and use the network.\n"
               f"  Install bubblewrap (Debian/Ubuntu: apt-get install -y bubblewrap; `make sandbox` as root) "
               f"or, at your own risk, set {UNSANDBOXED_ENV}=1 (or pass --allow-unsandboxed).")
    if not allowed_unsandboxed(allow_unsandboxed):
        raise SandboxUnavailable(message)
    print(message.replace("NO SANDBOX", "GRADING UNSANDBOXED (explicitly allowed)"), file=sys.stderr)
    return False


def unavailable_reason() -> str | None:
    """Why the sandbox cannot run here (None if it can); probed once per process."""
    if "ok" not in _CHECKED:
        _CHECKED["ok"] = _probe()
    return _CHECKED["ok"]


def _probe() -> str | None:
    """None if a trivial command runs in the sandbox, else why not."""
    if not sys.platform.startswith("linux"):
        return f"bubblewrap needs Linux (this is {sys.platform})"
    if _bwrap() is None:
        return "bwrap (bubblewrap) is not installed"
    if shutil.which("setpriv") is None or shutil.which("prlimit") is None:
        return "setpriv/prlimit (util-linux) are missing"
    with tempfile.TemporaryDirectory(prefix="attnkit-probe-") as scratch:
        try:
            done = subprocess.run(sandbox_command(["/bin/true"], Path(scratch), Limits()),
                                  capture_output=True, text=True, timeout=30)
        except (OSError, subprocess.TimeoutExpired) as exc:
            return f"bwrap failed to start: {exc}"
        if done.returncode != 0:
            return f"bwrap cannot create the sandbox here: {done.stderr.strip()[-400:]}"
    return None


def _python_roots() -> list[Path]:
    """Folders the interpreter and the venv live in (read-only in the sandbox)."""
    roots = {Path(sys.prefix).resolve(), Path(sys.base_prefix).resolve(),
             Path(os.path.realpath(sys.executable)).parent.parent}
    for key in ("stdlib", "platstdlib", "purelib", "platlib"):
        path = sysconfig.get_paths().get(key)
        if path:
            roots.add(Path(path).resolve())
    keep: list[Path] = []
    for root in sorted(roots, key=lambda p: len(p.parts)):
        if str(root).startswith("/usr/") or root == Path("/usr"):
            continue  # /usr is bound whole
        if not any(root.is_relative_to(k) for k in keep):
            keep.append(root)
    return keep


def _mkdirs(args: list[str], made: set[str], path: Path) -> None:
    """--dir each missing ancestor, 0755 (bwrap as root makes them 0700 otherwise)."""
    for parent in reversed(path.parents):
        p = str(parent)
        if p == "/" or p in made or p in ("/usr", "/proc", "/dev"):
            continue
        made.add(p)
        args += ["--perms", "0755", "--dir", p]


def _layout(limits: Limits, user_ns_uid: int) -> list[str]:
    """bwrap's namespaces and read-only mounts, shared by a one-off sandbox and a warm parent:
    /usr, the Python installation, the venv and the filtered attnkit package; a private /tmp.
    Outside a root install, a user namespace in which the sandbox runs as ``user_ns_uid``."""
    args = [_bwrap() or "bwrap", "--die-with-parent", "--new-session", "--unshare-pid", "--unshare-net",
            "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try", "--hostname", "grading",
            "--ro-bind", "/usr", "/usr", "--proc", "/proc", "--dev", "/dev",
            # /tmp first: a package or venv that lives under /tmp is bound over it afterwards
            "--perms", "1777", "--size", str(limits.tmp_mb * 1024 * 1024), "--tmpfs", "/tmp"]
    if os.geteuid() != 0:
        args += ["--unshare-user", "--uid", str(user_ns_uid), "--gid", str(user_ns_uid)]
    for name in ("bin", "lib", "lib64", "sbin"):
        target = os.path.join("/", name)
        if os.path.islink(target):
            args += ["--symlink", os.readlink(target), target]
        elif os.path.isdir(target):
            args += ["--ro-bind", target, target]
    for path in ("/etc/ld.so.cache", "/etc/localtime", "/etc/passwd", "/etc/group", "/etc/nsswitch.conf"):
        if os.path.exists(path):
            args += ["--ro-bind", path, path]
    made: set[str] = set()
    package = PACKAGE
    for root_dir in _python_roots():
        if package.is_relative_to(root_dir):
            raise SandboxUnavailable(f"attnkit lives inside {root_dir}; cannot hide its grading modules")
        _mkdirs(args, made, root_dir)
        args += ["--ro-bind", str(root_dir), str(root_dir)]
    # attnkit itself, read-only, with grading/ replaced by the kernel side alone
    _mkdirs(args, made, package)
    args += ["--ro-bind", str(package), str(package),
             "--perms", "0755", "--tmpfs", str(package / "grading")]
    for name in ("__init__.py", KERNEL_SIDE):
        args += ["--ro-bind", str(package / "grading" / name), str(package / "grading" / name)]
    return args + ["--remount-ro", str(package / "grading")]


def kernel_env(env: dict[str, str] | None = None) -> dict[str, str]:
    """The whole environment of a grading kernel (nothing of the grader's own is inherited)."""
    base_env = {"HOME": SCRATCH, "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin", "LANG": "C.UTF-8",
                "MPLBACKEND": "Agg", "MPLCONFIGDIR": "/tmp/mpl", "HF_HUB_OFFLINE": "1",
                "TRANSFORMERS_OFFLINE": "1", "PYTHONDONTWRITEBYTECODE": "1", "OMP_NUM_THREADS": "1",
                "PYTHONPATH": str(PACKAGE.parent), "IPYTHONDIR": "/tmp/ipython"}
    base_env.update(env or {})
    return base_env


def _setenv(env: dict[str, str]) -> list[str]:
    return ["--clearenv", *[a for key, value in env.items() for a in ("--setenv", key, value)]]


def sandbox_command(argv: Sequence[str], scratch: Path, limits: Limits, env: dict[str, str] | None = None,
                    uid: int = SANDBOX_UID) -> list[str]:
    """The bwrap/setpriv/prlimit command line that runs ``argv`` in a sandbox whose only writable
    folder is ``scratch`` (seen as /scratch), as ``uid``/``uid``."""
    root = os.geteuid() == 0
    args = _layout(limits, uid)
    args += ["--bind", str(scratch), SCRATCH, "--chdir", SCRATCH, *_setenv(kernel_env(env))]
    if root:
        args += [shutil.which("setpriv") or "/usr/bin/setpriv", f"--reuid={uid}", f"--regid={uid}",
                 "--clear-groups", "--inh-caps=-all", "--bounding-set=-all", "--no-new-privs"]
    mb = 1024 * 1024
    args += [shutil.which("prlimit") or "/usr/bin/prlimit", f"--as={limits.memory_mb * mb}",
             f"--cpu={limits.cpu_s}", f"--fsize={limits.fsize_mb * mb}",
             # RLIMIT_NPROC counts every process of the uid; outside a root install that is the
             # instructor's own account, so only root (a uid of its own per worker) sets it
             *([f"--nproc={limits.nproc}"] if root else []),
             f"--nofile={limits.nofile}", "--core=0", "--"]
    return args + list(argv)


# the capabilities a warm parent needs to build each kernel's own namespaces and drop to its uid
WARM_CAPS = ("CAP_SYS_ADMIN", "CAP_SETUID", "CAP_SETGID", "CAP_SETPCAP")


def warm_parent_command(argv: Sequence[str], spool: Path, limits: Limits, env: dict[str, str] | None = None,
                        ) -> list[str]:
    """bwrap for a warm parent (:mod:`attnkit.grading.kernel.zygote`): the same read-only layout as
    :func:`sandbox_command`, the spool of scratch folders at /spool, an empty /scratch for each
    kernel to bind its own folder on, and the capabilities to do that (as root in the sandbox; the
    parent runs no student code, each kernel drops them all)."""
    args = _layout(limits, 0)
    args += ["--bind", str(spool), "/spool", "--perms", "0755", "--dir", SCRATCH, "--chdir", "/",
             *[a for cap in WARM_CAPS for a in ("--cap-add", cap)], *_setenv(kernel_env(env))]
    return args + list(argv)


def prepare_scratch(scratch: Path, uid: int = SANDBOX_UID) -> None:
    """Make the scratch directory writable by the sandbox user (as root: chown to 65534)."""
    scratch.mkdir(parents=True, exist_ok=True)
    os.chmod(scratch, 0o700)
    if os.geteuid() == 0:
        for path in [scratch, *scratch.rglob("*")]:
            os.chown(path, uid, uid, follow_symlinks=False)


def start(argv: Sequence[str], scratch: Path, limits: Limits, sandboxed: bool = True,
          pass_fds: Sequence[int] = (), env: dict[str, str] | None = None, uid: int = SANDBOX_UID) -> subprocess.Popen:
    """Start ``argv`` in the sandbox (or, only if explicitly allowed, unsandboxed) in its own
    process group; stdout/stderr go to files in the scratch directory's parent."""
    scratch = Path(scratch)
    prepare_scratch(scratch, uid)
    if sandboxed:
        command = sandbox_command(argv, scratch, limits, env, uid)
        cwd = None
    else:  # explicitly allowed: same limits, same layout as far as possible, no isolation
        command = [shutil.which("prlimit") or "prlimit", f"--as={limits.memory_mb << 20}",
                   f"--cpu={limits.cpu_s}", f"--fsize={limits.fsize_mb << 20}", "--", *argv]
        cwd = scratch
    log = open(scratch.parent / f"{scratch.name}.log", "wb")
    try:
        return subprocess.Popen(command, cwd=cwd, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                pass_fds=tuple(pass_fds), start_new_session=True,
                                env=None if sandboxed else {**os.environ, **(env or {}),
                                                            "ATTNKIT_SCRATCH": str(scratch)})
    finally:
        log.close()


def descendants(pid: int) -> set[int]:
    """The processes under ``pid``, at this moment."""
    try:
        return {child.pid for child in psutil.Process(pid).children(recursive=True)}
    except psutil.Error:
        return set()


def alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie does not)."""
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def stop(process: subprocess.Popen, settle: float = 5.0) -> None:
    """Kill the sandbox's whole process group and reap it; its pid namespace dies with it, which the
    kernel does asynchronously: wait (up to ``settle`` seconds) until none of the processes that
    were under it is alive, so that nothing of one submission outlives its grading."""
    under = descendants(process.pid)
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        pass
    deadline = time.monotonic() + settle
    while any(alive(pid) for pid in under) and time.monotonic() < deadline:
        time.sleep(0.01)
