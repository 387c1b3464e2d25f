"""A throw-away PostgreSQL server for tests and the demo class: Debian's server, on a Unix socket in a
temp folder.

Started once per test session (per xdist worker) by the ``postgres`` fixture in conftest.py (and by
``make class-demo``), as the
``postgres`` user when the tests run as root (the server refuses root), with no TCP listener at
all (``listen_addresses=''``), ``fsync=off``, and stopped at the end of the session even when a
test failed. Skips with a reason where no server is installed (``make install`` installs Debian's
``postgresql`` as root).

    server = PostgresServer.start()
    url = server.createdb("gradebook_q4")   # postgresql+psycopg://postgres@/gradebook_q4?host=/tmp/...
    server.stop()
"""
from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

__all__ = ["PostgresServer", "PostgresMissing", "server_bin"]


class PostgresMissing(RuntimeError):
    """No PostgreSQL server binaries on this machine."""


def server_bin() -> Path:
    """The folder of Debian's server binaries (not on PATH by default): the newest installed."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/postgres"), key=lambda p: int(p.split("/")[4]))
    if not found:
        raise PostgresMissing("no PostgreSQL server (apt-get install -y postgresql)")
    return Path(found[-1]).parent


def _as_owner(argv: list[str]) -> list[str]:
    """Run as the ``postgres`` user when we are root (the server refuses root), else as ourselves."""
    if os.geteuid() != 0:
        return argv
    return ["runuser", "-u", "postgres", "--", *argv]


@dataclass
class PostgresServer:
    folder: Path  # holds data/ and the socket
    bin: Path

    @property
    def socket_dir(self) -> str:
        return str(self.folder)

    @property
    def user(self) -> str:
        return "postgres" if os.geteuid() == 0 else pwd.getpwuid(os.geteuid()).pw_name

    @classmethod
    def start(cls) -> PostgresServer:
        bin_dir = server_bin()
        folder = Path(tempfile.mkdtemp(prefix="attnkit-pg-"))
        os.chmod(folder, 0o755)
        if os.geteuid() == 0:
            pw = pwd.getpwnam("postgres")
            os.chown(folder, pw.pw_uid, pw.pw_gid)
        server = cls(folder, bin_dir)
        env = {**os.environ, "LC_ALL": "C.UTF-8"}
        subprocess.run(_as_owner([str(bin_dir / "initdb"), "-D", str(folder / "data"), "-A", "trust", "-U",
                                  server.user, "-E", "UTF8", "--no-sync"]),
                       check=True, capture_output=True, env=env)
        opts = f"-c listen_addresses='' -c unix_socket_directories={folder} -c fsync=off -c full_page_writes=off"
        subprocess.run(_as_owner([str(bin_dir / "pg_ctl"), "-D", str(folder / "data"), "-o", opts, "-l",
                                  str(folder / "log"), "-w", "-t", "60", "start"]),
                       check=True, capture_output=True, env=env)
        return server

    def psql(self, sql: str, dbname: str = "postgres") -> str:
        out = subprocess.run([str(self.bin / "psql"), "-h", self.socket_dir, "-U", self.user, "-d", dbname,
                              "-v", "ON_ERROR_STOP=1", "-At", "-c", sql], check=True, capture_output=True, text=True)
        return out.stdout.strip()

    def createdb(self, name: str) -> str:
        """A new, empty database; returns its SQLAlchemy URL (psycopg 3 driver)."""
        subprocess.run([str(self.bin / "createdb"), "-h", self.socket_dir, "-U", self.user, name],
                       check=True, capture_output=True)
        return self.url(name)

    def url(self, name: str, driver: str = "postgresql+psycopg") -> str:
        return f"{driver}://{self.user}@/{name}?host={self.socket_dir}"

    def restart(self, down_s: float = 0.0) -> None:
        """Stop the server (fast: open connections are cut) and start it again after ``down_s``."""
        self._ctl("stop", "-m", "fast")
        time.sleep(down_s)
        opts = (f"-c listen_addresses='' -c unix_socket_directories={self.folder} -c fsync=off "
                "-c full_page_writes=off")
        self._ctl("start", "-o", opts, "-l", str(self.folder / "log"))

    def pids(self) -> set[int]:
        """The server's processes (its postmaster, from data/postmaster.pid, and the postmaster's children)."""
        try:
            postmaster = int((self.folder / "data" / "postmaster.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return set()
        from attnkit.grading.grader.sandbox import descendants

        return {postmaster} | descendants(postmaster)

    def _ctl(self, *args: str) -> None:
        subprocess.run(_as_owner([str(self.bin / "pg_ctl"), "-D", str(self.folder / "data"), "-w", "-t", "60",
                                  *args]), check=True, capture_output=True)

    def stop(self) -> None:
        try:
            self._ctl("stop", "-m", "immediate")
        except subprocess.CalledProcessError:
            pass
        shutil.rmtree(self.folder, ignore_errors=True)
