"""attnkit.grading.grader.uids: live grading processes never share a sandbox uid (as root)."""
from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

import pytest

from attnkit.grading.grader import uids

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="flock and fork: Linux")


def _child_uid() -> tuple[int, int]:
    """Fork a process that takes a uid, reports it (-1: none left) and lives until killed."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        try:
            uid = uids.grading_uid()
        except uids.UidUnavailable:
            uid = -1
        os.write(w, str(uid).encode().ljust(8))
        signal.pause()
        os._exit(0)
    os.close(w)
    uid = int(os.read(r, 8))
    os.close(r)
    return pid, uid


def _end(pid: int) -> None:
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)


def test_live_processes_never_share_a_uid_and_a_dead_one_frees_its_own(monkeypatch: pytest.MonkeyPatch,
                                                                       tmp_path: Path) -> None:
    monkeypatch.setattr(uids, "_uid_lock_dir", lambda: tmp_path)
    monkeypatch.setattr(uids, "UID_RANGE", range(70000, 70003))
    monkeypatch.setattr(uids, "_UID", {})
    monkeypatch.setattr(os, "geteuid", lambda: 0)  # as root (the locks are plain files: no privilege used)
    mine = uids.grading_uid()
    assert uids.grading_uid() == mine  # held for the life of this process
    children = [_child_uid(), _child_uid()]
    try:
        taken = {mine} | {uid for _, uid in children}
        assert taken == {70000, 70001, 70002}, "three live processes, three uids"
        extra, none_left = _child_uid()
        _end(extra)
        assert none_left == -1, "a fourth live process gets no uid of a full range"
        dead_pid, dead_uid = children[0]
        _end(dead_pid)
        children[0] = _child_uid()  # the lock went with its holder: the new process takes that uid
        assert children[0][1] == dead_uid
    finally:
        for pid, _ in children:
            _end(pid)


def test_without_root_every_sandbox_is_nobody(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    assert uids.grading_uid() == uids.SANDBOX_UID == 65534
