"""The warm parent of grading kernels: imports once, forks a fresh sandbox per student.

``attnkit grade-class`` starts one of these for the class, inside the same bubblewrap layout as a
one-off grading kernel (:func:`attnkit.grading.grader.sandbox.warm_parent_command`). It imports what
every kernel needs (numpy, IPython, torch, attnkit with its grading package filtered), never runs
a line of a student's code, and listens on a Unix socket in the spool; each grading worker
connects and is served by a handler forked for it. For each submission the worker sends the pipe
ends of that student's kernel, its log file and a job; then, in three forked generations:

1. a *supervisor* makes new mount, pid, ipc, network and uts namespaces: the student's own scratch
   folder is bound on ``/scratch``, the spool holding the other folders is covered by an empty
   tmpfs, ``/tmp`` (keeping the read-only binds of a course that lives under /tmp) and
   ``/dev/shm`` are fresh; it waits and reports the kernel's exit status;
2. an *init*, pid 1 of the new pid namespace, mounts its ``/proc`` and waits: when it exits,
   every process the student started dies with the namespace;
3. the *kernel* sets the resource limits, drops to the grading uid with no capabilities and
   ``no_new_privs``, clears the environment, reseeds the random generators, and runs
   :class:`attnkit.grading.kernel.runner.Kernel` exactly as a one-off kernel does.

Nothing a student's kernel did survives it: its processes die with its pid namespace, its files
with its scratch folder, its ``/tmp`` and ``/dev/shm`` with its mount namespace. The parent is
never reachable from a kernel (another pid namespace, another uid, the spool and its socket out of
sight). A worker that says ``kill`` (a kernel past its time) or goes away has the supervisor
kill the init; the supervisor returns only once the namespace is empty, so the worker's next
kernel starts with nothing of the last one alive (a supervisor that does not end is killed
outright, and parent-death signals take the init and the namespace). Only the grader decides
anything; this module answers with exit statuses.
"""
from __future__ import annotations

import ctypes
import json
import os
import resource
import select
import signal
import socket
import sys
import time

CLONE_NEWNS, CLONE_NEWUTS, CLONE_NEWIPC = 0x00020000, 0x04000000, 0x08000000
CLONE_NEWPID, CLONE_NEWNET = 0x20000000, 0x40000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_REMOUNT = 1, 2, 4, 8, 32
MS_BIND, MS_REC, MS_PRIVATE = 4096, 16384, 1 << 18
PR_SET_PDEATHSIG, PR_CAPBSET_DROP, PR_SET_NO_NEW_PRIVS = 1, 24, 38
_LIBC = ctypes.CDLL(None, use_errno=True)


def _c(name: str, *args: object) -> None:
    if getattr(_LIBC, name)(*args) != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"{name}{args[:2]}: {os.strerror(errno)}")


def _bytes(text: str | None) -> bytes | None:
    return text.encode() if text is not None else None


def _mount(source: str | None, target: str, fstype: str | None, flags: int, data: str | None = None) -> None:
    _c("mount", _bytes(source), _bytes(target), _bytes(fstype), ctypes.c_ulong(flags), _bytes(data))


def _close_fds(keep: set[int]) -> None:
    for name in os.listdir("/proc/self/fd"):
        fd = int(name)
        if fd > 2 and fd not in keep:
            try:
                os.close(fd)
            except OSError:
                pass


def _exit_code(status: int) -> int:
    code = os.waitstatus_to_exitcode(status)
    return code if code >= 0 else 128 - code  # killed by signal N: 128 + N, as a shell says it


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32), ("inheritable", ctypes.c_uint32)]


def _drop_capabilities() -> None:
    """capset(2) with every set empty (version 3 of the interface: two 32-bit words per set)."""
    _c("capset", ctypes.byref(_CapHeader(0x20080522, 0)), (_CapData * 2)())


def _kernel(job: dict, fd_in: int, fd_out: int, log: int) -> None:
    """The student's kernel: limits, no privileges, a clean environment, then the runner."""
    os.dup2(log, 1)
    os.dup2(log, 2)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    os.setsid()
    mb = 1 << 20
    limits = job["limits"]
    # the address space counts what the student's code maps on top of the warm parent's imports
    address_space = int(limits["memory_mb"]) * mb + int(job.get("baseline_bytes", 0))
    for which, value in ((resource.RLIMIT_AS, address_space), (resource.RLIMIT_CPU, int(limits["cpu_s"])),
                         (resource.RLIMIT_FSIZE, int(limits["fsize_mb"]) * mb),
                         (resource.RLIMIT_NOFILE, int(limits["nofile"])), (resource.RLIMIT_CORE, 0)):
        resource.setrlimit(which, (value, value))
    last_cap = int(open("/proc/sys/kernel/cap_last_cap").read())
    for cap in range(last_cap + 1):
        _c("prctl", PR_CAPBSET_DROP, cap, 0, 0, 0)
    uid = int(job["uid"])
    if job.get("root"):
        resource.setrlimit(resource.RLIMIT_NPROC, (int(limits["nproc"]),) * 2)
        os.setgroups([])
        os.setresgid(uid, uid, uid)
        os.setresuid(uid, uid, uid)  # from root to another uid: every capability is gone
    else:  # uid 0 of the user namespace bwrap made (the instructor outside): keep it, with no capability
        _drop_capabilities()
    _c("prctl", PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
    _c("prctl", PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if open("/proc/self/status").read().split("CapEff:")[1].split()[0].strip("0"):
        os._exit(71)  # a capability survived: never run student code with it
    os.chdir("/scratch")
    os.environ.clear()
    os.environ.update(job["env"])
    for name in [n for n in signal.Signals if n not in (signal.SIGKILL, signal.SIGSTOP)]:
        try:
            signal.signal(name, signal.SIG_DFL)
        except (OSError, ValueError):
            pass
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGPIPE, signal.SIG_IGN)
    import numpy as np

    np.random.seed()  # as a fresh interpreter would: no student sees another's random state
    if "torch" in sys.modules:
        sys.modules["torch"].seed()
    if job.get("probe"):
        os._exit(0 if not os.path.exists("/spool/" + job["scratch"]) else 72)
    from attnkit.grading.kernel.runner import Kernel

    Kernel(fd_in, fd_out).main()
    sys.stdout.flush()
    os._exit(0)


def _init(job: dict, fds: list[int]) -> None:
    """pid 1 of the kernel's pid namespace: its /proc, then wait for the kernel."""
    _c("prctl", PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)  # the supervisor killed: the namespace goes
    _mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    _c("sethostname", b"grading", 7)
    pid = os.fork()
    if pid == 0:
        try:
            _kernel(job, *fds)
        finally:
            os._exit(70)
    for fd in fds:
        os.close(fd)
    while True:  # reap orphans until the kernel itself ends
        try:
            child, status = os.wait()
        except ChildProcessError:
            os._exit(70)
        if child == pid:
            os._exit(_exit_code(status))


def _read_only_elsewhere(writable: tuple[str, ...]) -> None:
    """Remount every other mount of this namespace read-only: the sandbox's root and /dev are
    tmpfs folders of the warm parent, which a kernel must not leave anything in for the next one
    (outside a root install the kernel's uid owns them). Fail closed: a mount that cannot be made
    read-only ends the kernel before any student code."""
    flags_of = {"nosuid": MS_NOSUID, "nodev": MS_NODEV, "noexec": MS_NOEXEC}
    for line in open("/proc/self/mountinfo"):
        fields = line.split()
        point = fields[4].replace("\\040", " ")
        options = fields[5].split(",")
        if "ro" in options or point in writable or point == "/proc" or point.startswith("/proc/"):
            continue
        keep = sum(flag for name, flag in flags_of.items() if name in options)
        _mount(None, point, None, MS_REMOUNT | MS_BIND | MS_RDONLY | keep)


def _fresh_tmp(size_mb: int) -> None:
    """A new, empty ``/tmp`` for this kernel, with the read-only binds of the sandbox that live
    under /tmp (the Python installation, the venv or attnkit of a course kept in /tmp) bound
    again on top: they are held open (``O_PATH``) across the new tmpfs, then bound from there."""
    points = sorted({line.split()[4].replace("\\040", " ") for line in open("/proc/self/mountinfo")
                     if line.split()[4].startswith("/tmp/")}, key=len)
    outer = [p for p in points if not any(p.startswith(q + "/") for q in points if q != p)]
    held = [(point, os.open(point, os.O_PATH | os.O_CLOEXEC)) for point in outer]
    _mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, f"size={size_mb}m,mode=1777")
    for point, fd in held:
        os.makedirs(point, mode=0o755, exist_ok=True)
        _mount(f"/proc/self/fd/{fd}", point, None, MS_BIND | MS_REC)
        os.close(fd)


def _supervise(job: dict, fds: list[int]) -> None:
    """New namespaces and the student's own mounts, then init; exit with the kernel's status."""
    _close_fds(set(fds))
    scratch = job["scratch"]
    if scratch.startswith("/") or ".." in scratch.split("/"):
        os._exit(73)
    _c("unshare", CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWNET | CLONE_NEWUTS)
    _mount(None, "/", None, MS_REC | MS_PRIVATE)
    _mount("/spool/" + scratch, "/scratch", None, MS_BIND | MS_REC)
    _mount("tmpfs", "/spool", "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=4k,mode=0755")
    _fresh_tmp(int(job["limits"]["tmp_mb"]))
    if os.path.isdir("/dev/shm"):
        _mount("tmpfs", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=64m,mode=1777")
    _read_only_elsewhere(("/scratch", "/tmp", "/dev/shm"))
    init: list[int] = []

    def kill_init(signum: int, frame: object) -> None:  # the worker said kill: end the namespace
        if init:
            os.kill(init[0], signal.SIGKILL)

    signal.signal(signal.SIGTERM, kill_init)
    pid = os.fork()
    if pid == 0:
        try:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            _init(job, fds)
        finally:
            os._exit(70)
    init.append(pid)
    for fd in fds:
        os.close(fd)
    # init's exit completes only once every process of its namespace is gone: when this returns,
    # nothing the student started is left
    _, status = os.waitpid(pid, 0)
    os._exit(_exit_code(status))


def _address_space() -> int:
    for line in open("/proc/self/status"):
        if line.startswith("VmSize:"):
            return int(line.split()[1]) * 1024
    return 0


def _end(supervisor: int) -> int:
    """Have the supervisor kill its init (hence the kernel's whole pid namespace) and wait for it;
    a supervisor that does not end within 10 s is killed outright (its init follows it then).
    Returns the supervisor's wait status."""
    os.kill(supervisor, signal.SIGTERM)
    for _ in range(1000):
        pid, status = os.waitpid(supervisor, os.WNOHANG)
        if pid:
            return status
        time.sleep(0.01)
    os.kill(supervisor, signal.SIGKILL)
    return os.waitpid(supervisor, 0)[1]


def _serve(channel: socket.socket, baseline: int) -> None:
    """One grading worker's connection: a kernel per job, one at a time; its exit status back."""
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    channel.sendall(json.dumps({"ready": True, "baseline_bytes": baseline}).encode())
    while True:
        try:
            data, fds, _, _ = socket.recv_fds(channel, 1 << 16, 3)
        except OSError:
            os._exit(0)
        if not data:
            os._exit(0)
        if data == b"kill":  # came as the last kernel ended by itself: nothing left to kill
            continue
        job = json.loads(data)
        pid = os.fork()
        if pid == 0:
            try:
                _c("prctl", PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
                channel.close()
                _supervise(job, fds)
            finally:
                os._exit(70)
        for fd in fds:
            os.close(fd)
        done, status = os.pidfd_open(pid), None
        while True:  # the kernel ends, or the worker says kill (or goes away)
            ready = select.select([channel, done], [], [])[0]
            if done in ready:
                break
            message = channel.recv(1 << 16)
            status = _end(pid)
            if not message:
                os._exit(0)
            break
        os.close(done)
        if status is None:
            _, status = os.waitpid(pid, 0)
        channel.sendall(json.dumps({"status": _exit_code(status)}).encode())


def main(control: str) -> None:
    """Import, then accept one connection per grading worker at ``control`` (a Unix socket in the
    spool, which no kernel can see) and serve each in a forked handler."""
    before = _address_space()
    import IPython.core.interactiveshell  # noqa: F401
    import numpy  # noqa: F401
    import torch  # noqa: F401

    import attnkit  # noqa: F401  (its grading package holds only the kernel side here)
    import attnkit.grading.kernel.runner  # noqa: F401  (imported once, for every kernel)
    from attnkit.grading.kernel.evidence import prime

    prime()
    baseline = _address_space() - before
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    listener.bind(control + ".new")
    listener.listen(64)
    os.rename(control + ".new", control)  # it appears only once it accepts
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # handlers are reaped by the kernel
    while True:
        channel, _ = listener.accept()
        if os.fork() == 0:
            listener.close()
            try:
                _serve(channel, baseline)
            finally:
                os._exit(70)
        channel.close()


if __name__ == "__main__":
    main(sys.argv[1])  # sys.argv[2], if any, only labels the process for `ps`
