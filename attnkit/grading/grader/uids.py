"""The uids of grading sandboxes as root: one per live grading process, that no other holds.

As root, a one-off sandbox drops to a uid of its own and a warm kernel likewise, so that the
process limit (``RLIMIT_NPROC``, counted per uid) of one grading worker's kernels is not shared
with another worker's, nor the files one leaves with the next. A uid is taken from
:data:`UID_RANGE` by an exclusive ``flock`` on ``<lock folder>/<uid>.lock`` held for the life of
the process: two live processes never hold the same one, and the kernel drops the lock when its
holder dies, however it dies (no stale locks). Outside root every sandbox is 65534 in a user
namespace of its own, and no uid is allocated.
"""
from __future__ import annotations

import fcntl
import os
import tempfile
from pathlib import Path

__all__ = ["UID_RANGE", "SANDBOX_UID", "grading_uid", "UidUnavailable"]

SANDBOX_UID = 65534  # nobody / nogroup


class UidUnavailable(RuntimeError):
    """No folder to lock a uid in, or every uid of the range is held."""


UID_RANGE = range(60000, 65000)  # the grading uids as root (one per live grading process)
_UID: dict[str, int] = {}  # this process's uid, with the pid that locked it and the lock's descriptor


def _uid_lock_dir() -> Path:
    """Where the uid locks of every grader on this machine live (root's /run/lock on Debian)."""
    for folder in (Path("/run/lock"), Path(tempfile.gettempdir())):
        if folder.is_dir() and os.access(folder, os.W_OK):
            path = folder / "attnkit-grading-uids"
            path.mkdir(mode=0o700, exist_ok=True)
            return path
    raise UidUnavailable("no folder to lock a grading uid in (/run/lock and the temp folder are not writable)")


def grading_uid() -> int:
    """The uid of this process's sandboxes: 65534 unless root; as root, a uid of
    :data:`UID_RANGE` that no other live grading process holds, so that the process limit of one
    grading worker's sandboxes (counted per uid) is not shared with another's.

    The uid is held by an exclusive ``flock`` on ``<lock dir>/<uid>.lock`` for the life of this
    process (the kernel drops the lock when the process dies, however it dies); a forked child
    takes a uid of its own."""
    if os.geteuid() != 0:
        return SANDBOX_UID
    if _UID.get("pid") == os.getpid():
        return _UID["uid"]
    folder = _uid_lock_dir()
    start = os.getpid() % len(UID_RANGE)
    for i in range(len(UID_RANGE)):
        uid = UID_RANGE[(start + i) % len(UID_RANGE)]
        fd = os.open(folder / f"{uid}.lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            continue
        _UID.update(pid=os.getpid(), uid=uid, fd=fd)
        return uid
    raise UidUnavailable(f"all {len(UID_RANGE)} grading uids are held by live grading processes")
