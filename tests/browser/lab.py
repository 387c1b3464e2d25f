"""Start JupyterLab exactly as `make lab` does: the Makefile's `lab` recipe is the one source of truth.

The recipe sets JUPYTER_CONFIG_PATH to jupyter_config/learner/ (lab settings, hidden instructor tools)
and runs `$(BIN)/jupyter lab` with the repository as root. The tests add only what a test needs:
a free port, a token, no browser window, and private runtime, workspace and checkpoint folders and
user settings (the browser tests turn autosave off: running a lesson must never write into the checkout).
"""
from __future__ import annotations

import json
import os
import re
import shlex
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_recipe(target: str = "lab") -> tuple[dict[str, str], list[str]]:
    """The environment and the `jupyter lab` arguments of a Makefile target, with make's variables filled in."""
    text = (ROOT / "Makefile").read_text()
    line = re.search(rf"^{re.escape(target)}:.*\n\t(.+)$", text, re.M).group(1)
    line = (line.replace("$(CURDIR)", str(ROOT)).replace("$(ALLOW_ROOT)", "--allow-root")
            .replace("$(BIN)/jupyter", "jupyter"))
    words = shlex.split(line)
    env = {}
    while "=" in words[0] and not words[0].startswith("-"):  # VAR=value before the command
        name, value = words.pop(0).split("=", 1)
        env[name] = value
    assert words[:2] == ["jupyter", "lab"], f"`make {target}` should run jupyter lab, runs {words}"
    return env, words[2:]


@dataclass
class Lab:
    url: str
    token: str
    process: subprocess.Popen
    log: Path

    def api(self, path: str, method: str = "GET") -> object:
        request = urllib.request.Request(f"{self.url}{path}", method=method,
                                         headers={"Authorization": f"token {self.token}"})
        with urllib.request.urlopen(request, timeout=10) as reply:
            body = reply.read()
        return json.loads(body) if body else None

    def shut_down_kernels(self) -> None:
        for kernel in self.api("/api/kernels"):
            self.api(f"/api/kernels/{kernel['id']}", method="DELETE")


@contextmanager
def running_lab(tmp: Path, target: str = "lab", settings: dict | None = None,
                timeout: float = 120, root: Path | None = None) -> Iterator[Lab]:
    """`make <target>`'s server on a free port; `settings` become the lab's user settings (in tmp);
    `root`: serve (and run in) that folder instead of the repository, e.g. a course directory."""
    env, args = make_recipe(target)
    if root is not None:
        args = [f"--ServerApp.root_dir={root}" if a.startswith("--ServerApp.root_dir=") else a for a in args]
    port, token = free_port(), "attnkit-test"
    settings_dir = tmp / "user-settings"
    # "@scope/package:plugin" -> settings_dir/@scope/package/plugin.jupyterlab-settings
    for plugin, values in (settings or {}).items():
        package, name = plugin.split(":")
        path = settings_dir / package / f"{name}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))
    cmd = [sys.executable, "-m", "jupyter", "lab", *args, f"--port={port}", f"--IdentityProvider.token={token}",
           "--no-browser", "--ServerApp.ip=127.0.0.1", f"--ServerApp.runtime_dir={tmp / 'runtime'}",
           f"--LabApp.user_settings_dir={settings_dir}", f"--LabApp.workspaces_dir={tmp / 'workspaces'}",
           f"--FileCheckpoints.checkpoint_dir={tmp / 'checkpoints'}"]  # not .ipynb_checkpoints/ in the checkout
    log = tmp / f"jupyter-{target}.log"
    with open(log, "wb") as out:
        server = subprocess.Popen(cmd, cwd=root or ROOT, stdout=out, stderr=subprocess.STDOUT,
                                  env={**os.environ, **env})
    lab = Lab(f"http://127.0.0.1:{port}", token, server, log)
    try:
        deadline, status = time.time() + timeout, None
        while status is None:
            try:
                status = lab.api("/api/status")
            except OSError:
                assert server.poll() is None, f"jupyter lab exited before answering; its log: {log}"
                assert time.time() < deadline, f"jupyter lab did not answer within {timeout} s; its log: {log}"
                time.sleep(0.5)
        yield lab
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
