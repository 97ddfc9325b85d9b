"""A real PostgreSQL server on 127.0.0.1 for the store, schedule and delivery tests and benches.

``start_postgres()`` runs Debian's server binaries (``/usr/lib/postgresql/*/bin``, or whatever
``initdb`` is on ``PATH``) on a data folder in a fresh temporary directory, bound to 127.0.0.1
on a free port, trust authentication for the loopback only, ``fsync`` off (a test server need
not survive a power cut). PostgreSQL refuses to run as root, so as root the data folder is
handed to the ``postgres`` account the Debian package creates (or ``nobody``) and the server
runs as that user. About 1.5 s to ``initdb`` and start; each test then gets a database of its
own from ``Postgres.create_database()`` (milliseconds). The server is stopped at the end of
the session, and also when the test process dies without stopping it (a killed pytest): it
runs under ``setpriv --pdeathsig INT`` (util-linux) where that is available.

Raises ``PostgresUnavailable`` (with the reason and the log's tail) when there is no server to
run; the fixtures turn that into a skip — or a failure under ``CI=true``.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

START_TIMEOUT = 30.0
PREFIX = "digest-bot-pg-"
USER = "bot"
"""The database superuser initdb creates (not the OS account the server runs as)."""


class PostgresUnavailable(RuntimeError):
    """No PostgreSQL server binaries, or the server would not start; the message says why."""


def server_bin() -> Path:
    """The folder holding ``initdb`` and ``postgres``: the newest Debian version, else PATH."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=_version)
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    if initdb:
        return Path(initdb).resolve().parent
    raise PostgresUnavailable(
        "no PostgreSQL server binaries (initdb) found: install Debian's package with "
        "`apt-get install -y postgresql`"
    )


def _version(path: str) -> tuple[int, ...]:
    number = Path(path).parent.parent.name
    return tuple(int(p) for p in number.split(".") if p.isdigit())


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _account() -> pwd.struct_passwd | None:
    """As root, the unprivileged account the server runs as; None when we are not root."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        with contextlib.suppress(KeyError):
            return pwd.getpwnam(name)
    raise PostgresUnavailable("running as root, and there is no 'postgres' or 'nobody' account")


@dataclass
class Postgres:
    """A running server: URLs for SQLAlchemy, a database per test, and stop()."""

    port: int
    folder: Path
    process: subprocess.Popen[bytes]
    started_in: float = 0.0
    _databases: int = field(default=0, repr=False)

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://{USER}@127.0.0.1:{self.port}/{database}"

    def create_database(self, prefix: str = "test") -> str:
        """A new empty database; returns its SQLAlchemy URL."""
        import psycopg

        self._databases += 1
        name = f"{prefix}_{os.getpid()}_{self._databases}"
        dsn = f"host=127.0.0.1 port={self.port} user={USER} dbname=postgres"
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def log_tail(self, lines: int = 30) -> str:
        with contextlib.suppress(OSError):
            text = (self.folder / "server.log").read_text(errors="replace")
            return "\n".join(text.splitlines()[-lines:])
        return ""

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)  # "fast" shutdown: ends every session
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self.folder, ignore_errors=True)


def start_postgres(max_connections: int = 200) -> Postgres:
    """initdb a temporary cluster and start it on 127.0.0.1; blocks until it accepts logins."""
    started = time.monotonic()
    binaries = server_bin()
    _remove_abandoned()
    account = _account()
    folder = Path(tempfile.mkdtemp(prefix=PREFIX))
    data, sockets = folder / "data", folder / "sockets"
    data.mkdir()
    sockets.mkdir()
    as_user: dict[str, int] = {}
    if account is not None:
        for path in (folder, data, sockets):
            os.chown(path, account.pw_uid, account.pw_gid)
        as_user = {"user": account.pw_uid, "group": account.pw_gid}
    log = folder / "server.log"
    env = {**os.environ, "LC_ALL": "C", "TZ": "UTC"}
    init = subprocess.run(
        [
            str(binaries / "initdb"),
            "--pgdata",
            str(data),
            "--username",
            USER,
            "--auth",
            "trust",
            "--encoding",
            "UTF8",
            "--no-sync",
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=folder,
        check=False,
        **as_user,  # type: ignore[arg-type]
    )
    if init.returncode != 0:
        shutil.rmtree(folder, ignore_errors=True)
        tail = "\n".join((init.stdout + init.stderr).strip().splitlines()[-15:])
        raise PostgresUnavailable(f"initdb failed (exit {init.returncode}):\n{tail}")
    port = _free_port()
    with open(log, "wb") as out:
        if account is not None:
            os.chown(log, account.pw_uid, account.pw_gid)
        process = subprocess.Popen(
            [
                *_die_with_parent(),
                str(binaries / "postgres"),
                "-D",
                str(data),
                "-h",
                "127.0.0.1",
                "-p",
                str(port),
                "-k",
                str(sockets),
                "-c",
                "fsync=off",
                "-c",
                "synchronous_commit=off",
                "-c",
                "full_page_writes=off",
                "-c",
                f"max_connections={max_connections}",
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=folder,
            start_new_session=True,  # a Ctrl-C in the terminal stops pytest, not the server
            **as_user,  # type: ignore[arg-type]
        )
    server = Postgres(port=port, folder=folder, process=process)
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        if process.poll() is not None:
            tail = server.log_tail()
            shutil.rmtree(folder, ignore_errors=True)
            raise PostgresUnavailable(f"postgres exited with {process.returncode}:\n{tail}")
        if _accepts_logins(port):
            break
        if time.monotonic() > deadline:
            tail = server.log_tail()
            server.stop()
            raise PostgresUnavailable(f"postgres did not start in {START_TIMEOUT:.0f} s:\n{tail}")
        time.sleep(0.05)
    server.started_in = time.monotonic() - started
    return server


def _remove_abandoned(age: float = 3600.0) -> None:
    """Data folders of servers that died with a killed test run (older than ``age``, no live
    postmaster): about 40 MB each, nobody else removes them."""
    for folder in Path(tempfile.gettempdir()).glob(PREFIX + "*"):
        with contextlib.suppress(OSError, ValueError):
            if time.time() - folder.stat().st_mtime < age:
                continue
            pidfile = folder / "data" / "postmaster.pid"
            if pidfile.exists():
                pid = int(pidfile.read_text().split()[0])
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, 0)
                    continue  # still running
            shutil.rmtree(folder, ignore_errors=True)


def _die_with_parent() -> list[str]:
    """A command prefix that stops the server (SIGINT: fast shutdown) when this process dies."""
    setpriv = shutil.which("setpriv")
    return [setpriv, "--pdeathsig", "INT"] if setpriv else []


def _accepts_logins(port: int) -> bool:
    import psycopg

    try:
        with psycopg.connect(
            f"host=127.0.0.1 port={port} user={USER} dbname=postgres", connect_timeout=1
        ):
            return True
    except psycopg.OperationalError:
        return False
