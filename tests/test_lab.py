"""`make lab`'s server: JupyterLab answers on its URL, opens on lessons/, and its kernel imports attnkit."""
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from browser.lab import make_recipe
from jupyter_client.manager import start_new_kernel

ROOT = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _lab_command() -> tuple[dict[str, str], list[str]]:
    """The `lab` recipe of the Makefile (its environment and command), for the test's port and token."""
    env, args = make_recipe("lab")
    return {**os.environ, **env}, [sys.executable, "-m", "jupyter", "lab", *args]


def test_lab_serves_the_lessons_and_its_kernel_imports_attnkit(tmp_path):
    port, token = _free_port(), "attnkit-test"
    printed: list[str] = []
    env, cmd = _lab_command()
    cmd = cmd + [f"--port={port}", f"--IdentityProvider.token={token}", "--no-browser",
                 "--ServerApp.ip=127.0.0.1", f"--ServerApp.runtime_dir={tmp_path}"]
    server = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline, status = time.time() + 90, None
        while time.time() < deadline and status is None:
            try:
                status = json.load(urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2))
            except OSError:
                assert server.poll() is None, "jupyter lab exited before answering"
                time.sleep(0.5)
        assert status is not None, "jupyter lab did not answer within 90 s"
        landing = urllib.request.urlopen(f"{base}/?token={token}", timeout=10)
        assert landing.status == 200 and landing.url.split("?")[0].endswith("/lab/tree/lessons")
        specs = json.load(urllib.request.urlopen(f"{base}/api/kernelspecs?token={token}", timeout=10))
        name = specs["default"]
        notification = json.load(urllib.request.urlopen(
            f"{base}/lab/api/settings/@jupyterlab/apputils-extension:notification?token={token}", timeout=10))
        fetch_news = notification["schema"]["properties"]["fetchNews"]["default"]  # overrides.json sets defaults
        assert fetch_news == "false", "the offline course does not ask to fetch news"
    finally:
        server.terminate()
        server.wait(timeout=30)
    # start the server's default kernel as the server would, and import attnkit in it
    km, kc = start_new_kernel(kernel_name=name, cwd=str(ROOT / "lessons"))
    try:
        reply = kc.execute_interactive("import attnkit, ipywidgets; print(attnkit.__file__)", timeout=120,
                                       output_hook=lambda msg: printed.append(msg["content"].get("text", "")))
        assert reply["content"]["status"] == "ok", reply["content"]
        assert Path("".join(printed).strip()).parent == ROOT / "attnkit", "the kernel imports this checkout's attnkit"
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
