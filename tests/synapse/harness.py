"""A real Synapse on 127.0.0.1 for the Matrix tests and the benchmark.

``ensure_synapse()`` installs matrix-synapse with pip into its own virtualenv (``.venv-synapse``
beside the project's ``.venv``, or ``$SYNAPSE_VENV``) once; later runs reuse it (about 20 to 30 s
to install, nothing to reuse). ``start_synapse()`` writes a config (SQLite in a temporary folder,
no federation, no key servers, bcrypt_rounds 4, a shared registration secret), starts
``python -m synapse.app.homeserver`` and waits for ``/health`` (about 1.5 to 4 s).

Rate limits: ``rate_limited=False`` relaxes every ``rc_*`` limit; ``rate_limited=True`` keeps
Synapse's default ``rc_message`` (0.2/s, burst 10) and relaxes only the others (joins, invites,
logins, registration, room creation), so a test measures message sends alone.

Everything here is blocking (subprocess + urllib) except ``MatrixUser``, a small aiohttp client
for the human side of a test: create rooms, invite, send commands, read what arrived.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import fcntl
import hashlib
import hmac
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

ROOT = Path(__file__).resolve().parents[2]
SYNAPSE_VERSION = "1.163.2"
"""Pinned so every machine tests against the same server; bump deliberately."""
SERVER_NAME = "localhost"
START_TIMEOUT = 90.0
INSTALL_TIMEOUT = 900.0


class SynapseUnavailable(RuntimeError):
    """Synapse could not be installed or started; the message says why (with the log tail)."""


def venv_path() -> Path:
    return Path(os.environ.get("SYNAPSE_VENV") or ROOT / ".venv-synapse")


def _python(venv: Path) -> Path:
    return venv / "bin" / "python"


def ensure_synapse(log: Callable[[str], None] = lambda _: None) -> Path:
    """The Synapse virtualenv's python, installing matrix-synapse first when needed.

    A marker file names the installed version; a lock keeps two processes from installing at
    once. Raises ``SynapseUnavailable`` with pip's output when the install fails.
    """
    venv = venv_path()
    marker = venv / f".synapse-{SYNAPSE_VERSION}"
    if marker.exists() and _python(venv).exists():
        return _python(venv)
    try:
        return _install(venv, marker, log)
    except OSError as exc:
        raise SynapseUnavailable(f"installing Synapse into {venv} failed: {exc}") from exc


def _install(venv: Path, marker: Path, log: Callable[[str], None]) -> Path:
    venv.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha1(str(venv.resolve()).encode()).hexdigest()[:12]
    lock_path = Path(tempfile.gettempdir()) / f"digest-bot-synapse-{digest}.lock"
    with open(lock_path, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if marker.exists() and _python(venv).exists():
            return _python(venv)
        log(f"installing matrix-synapse {SYNAPSE_VERSION} into {venv} (once; about 30 s)")
        started = time.monotonic()
        if venv.exists():
            shutil.rmtree(venv)
        base = getattr(sys, "_base_executable", sys.executable)
        steps = [
            [base, "-m", "venv", str(venv)],
            [str(_python(venv)), "-m", "pip", "install", "--quiet", "--upgrade", "pip"],
            [
                str(_python(venv)),
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                f"matrix-synapse=={SYNAPSE_VERSION}",
            ],
        ]
        for step in steps:
            try:
                done = subprocess.run(
                    step, capture_output=True, text=True, timeout=INSTALL_TIMEOUT, check=False
                )
            except (OSError, subprocess.TimeoutExpired) as exc:
                raise SynapseUnavailable(f"{' '.join(step)}: {exc}") from exc
            if done.returncode != 0:
                tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-15:])
                raise SynapseUnavailable(
                    f"installing Synapse failed ({' '.join(step[-3:])}, exit "
                    f"{done.returncode}):\n{tail}"
                )
        marker.write_text(f"installed in {time.monotonic() - started:.1f} s\n")
        log(f"installed matrix-synapse in {time.monotonic() - started:.1f} s")
    return _python(venv)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


RELAXED = {"per_second": 1000, "burst_count": 1000}


def synapse_config(data: Path, port: int, secret: str, *, rate_limited: bool) -> dict[str, Any]:
    """homeserver.yaml (as a dict; JSON is YAML) for a loopback-only test server."""
    config: dict[str, Any] = {
        "server_name": SERVER_NAME,
        "pid_file": str(data / "homeserver.pid"),
        "listeners": [
            {
                "port": port,
                "bind_addresses": ["127.0.0.1"],
                "type": "http",
                "tls": False,
                "x_forwarded": False,
                "resources": [{"names": ["client"], "compress": False}],
            }
        ],
        "database": {"name": "sqlite3", "args": {"database": str(data / "homeserver.db")}},
        "log_config": str(data / "log.config.yaml"),
        "media_store_path": str(data / "media"),
        "signing_key_path": str(data / "signing.key"),
        "registration_shared_secret": secret,
        "macaroon_secret_key": secrets.token_hex(16),
        "form_secret": secrets.token_hex(16),
        "enable_registration": False,
        "report_stats": False,
        "enable_metrics": False,
        "trusted_key_servers": [],
        "suppress_key_server_warning": True,
        "federation_domain_whitelist": [],
        "bcrypt_rounds": 4,
        "presence": {"enabled": False},
        "url_preview_enabled": False,
        "user_directory": {"enabled": False},
        "rc_registration": RELAXED,
        "rc_login": {"address": RELAXED, "account": RELAXED, "failed_attempts": RELAXED},
        "rc_joins": {"local": RELAXED, "remote": RELAXED},
        "rc_joins_per_room": RELAXED,
        "rc_invites": {"per_room": RELAXED, "per_user": RELAXED, "per_issuer": RELAXED},
        "rc_room_creation": RELAXED,
        "rc_media_create": RELAXED,
        "rc_key_requests": RELAXED,
        "rc_3pid_validation": RELAXED,
        "rc_admin_redaction": RELAXED,
        "rc_delayed_event_mgmt": RELAXED,
        "rc_profile": RELAXED,
    }
    if not rate_limited:
        config["rc_message"] = RELAXED
    return config


LOG_CONFIG = """\
version: 1
formatters:
  plain:
    format: '%(asctime)s %(levelname)s %(name)s: %(message)s'
handlers:
  file:
    class: logging.FileHandler
    formatter: plain
    filename: {path}
root:
  level: INFO
  handlers: [file]
loggers:
  synapse.storage.SQL:
    level: WARNING
  synapse.access.http:
    level: WARNING
disable_existing_loggers: false
"""


def signing_key() -> str:
    """A signing key file's line (what ``--generate-keys`` writes), without a second process."""
    seed = base64.b64encode(os.urandom(32)).decode().rstrip("=")
    return f"ed25519 a_test {seed}\n"


@dataclass
class Account:
    user_id: str
    access_token: str
    device_id: str
    password: str


@dataclass
class Synapse:
    """A running Synapse: its URL, data folder and admin helpers (all blocking)."""

    base_url: str
    data: Path
    secret: str
    process: subprocess.Popen[bytes]
    rate_limited: bool
    started_in: float = 0.0
    _admin: Account | None = field(default=None, repr=False)

    @property
    def server_name(self) -> str:
        return SERVER_NAME

    @property
    def log_path(self) -> Path:
        return self.data / "homeserver.log"

    def log_tail(self, lines: int = 30) -> str:
        texts = []
        for path in (self.data / "stderr.log", self.log_path):
            with contextlib.suppress(OSError):
                texts.append("\n".join(path.read_text(errors="replace").splitlines()[-lines:]))
        return "\n".join(texts)

    def request(
        self,
        method: str,
        path: str,
        body: Mapping[str, Any] | None = None,
        token: str | None = None,
    ) -> Any:
        data = None if body is None else json.dumps(body).encode()
        headers = {"Content-Type": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        request = urllib.request.Request(
            self.base_url + path, data=data, method=method, headers=headers
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as exc:
            detail = exc.read().decode(errors="replace")
            raise RuntimeError(f"{method} {path}: HTTP {exc.code} {detail}") from None

    def register(self, localpart: str | None = None, *, admin: bool = False) -> Account:
        """A new user through the shared-secret admin API (HMAC-SHA1 over nonce and user)."""
        localpart = localpart or f"u{secrets.token_hex(5)}"
        password = secrets.token_urlsafe(12)
        nonce = self.request("GET", "/_synapse/admin/v1/register")["nonce"]
        message = "\x00".join((nonce, localpart, password, "admin" if admin else "notadmin"))
        mac = hmac.new(self.secret.encode(), message.encode(), hashlib.sha1)
        body = {
            "nonce": nonce,
            "username": localpart,
            "password": password,
            "admin": admin,
            "mac": mac.hexdigest(),
        }
        done = self.request("POST", "/_synapse/admin/v1/register", body)
        return Account(done["user_id"], done["access_token"], done["device_id"], password)

    @property
    def admin(self) -> Account:
        """A server admin exempt from rc_message (it sets up rooms; it is never the bot)."""
        if self._admin is None:
            self._admin = self.register(f"admin{secrets.token_hex(3)}", admin=True)
            self.unlimit(self._admin.user_id)
        return self._admin

    def unlimit(self, user_id: str) -> None:
        path = f"/_synapse/admin/v1/users/{urllib.parse.quote(user_id)}/override_ratelimit"
        self.request(
            "POST", path, {"messages_per_second": 0, "burst_count": 0}, self.admin.access_token
        )

    def force_join(self, room_id: str, user_id: str) -> None:
        """Join a user to a room through the admin API (no rate limit is charged to the user)."""
        path = f"/_synapse/admin/v1/join/{urllib.parse.quote(room_id)}"
        self.request("POST", path, {"user_id": user_id}, self.admin.access_token)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)


def start_synapse(data: Path, *, rate_limited: bool = False) -> Synapse:
    python = ensure_synapse()
    data.mkdir(parents=True, exist_ok=True)
    (data / "media").mkdir(exist_ok=True)
    port = free_port()
    secret = secrets.token_hex(16)
    config = synapse_config(data, port, secret, rate_limited=rate_limited)
    (data / "homeserver.yaml").write_text(json.dumps(config, indent=1))
    (data / "log.config.yaml").write_text(LOG_CONFIG.format(path=data / "homeserver.log"))
    (data / "signing.key").write_text(signing_key())
    started = time.monotonic()
    stderr = open(data / "stderr.log", "wb")  # noqa: SIM115 (kept open for the process)
    process = subprocess.Popen(
        [str(python), "-m", "synapse.app.homeserver", "-c", str(data / "homeserver.yaml")],
        stdout=stderr,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        cwd=data,
    )
    stderr.close()
    server = Synapse(f"http://127.0.0.1:{port}", data, secret, process, rate_limited)
    deadline = started + START_TIMEOUT
    while True:
        if process.poll() is not None:
            raise SynapseUnavailable(
                f"Synapse exited with {process.returncode} while starting:\n{server.log_tail()}"
            )
        try:
            with urllib.request.urlopen(server.base_url + "/health", timeout=2) as response:
                if response.status == 200:
                    break
        except (urllib.error.URLError, OSError):
            pass
        if time.monotonic() > deadline:
            server.stop()
            raise SynapseUnavailable(
                f"Synapse did not answer /health within {START_TIMEOUT:.0f} s:\n{server.log_tail()}"
            )
        time.sleep(0.1)
    server.started_in = time.monotonic() - started
    return server


@contextlib.contextmanager
def running_synapse(data: Path, *, rate_limited: bool = False) -> Iterator[Synapse]:
    server = start_synapse(data, rate_limited=rate_limited)
    try:
        yield server
    finally:
        server.stop()


# -- the human side of a test ---------------------------------------------------------------


class MatrixUser:
    """A person in the test: plain client-server API calls over aiohttp."""

    def __init__(self, server: Synapse, account: Account) -> None:
        self.server = server
        self.account = account
        self.user_id = account.user_id
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> MatrixUser:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def call(
        self,
        method: str,
        path: str,
        body: Mapping[str, Any] | None = None,
        params: Mapping[str, str] | None = None,
    ) -> Any:
        if self._session is None:
            self._session = aiohttp.ClientSession()
        headers = {"Authorization": f"Bearer {self.account.access_token}"}
        url = self.server.base_url + "/_matrix/client/v3" + path
        async with self._session.request(
            method, url, json=body, params=params, headers=headers
        ) as response:
            data = await response.json(content_type=None)
            if response.status >= 400:
                raise RuntimeError(f"{method} {path}: HTTP {response.status} {data}")
            return data

    async def create_room(
        self,
        invite: list[str] | tuple[str, ...] = (),
        *,
        encrypted: bool = False,
        room_version: str | None = None,
        name: str = "test room",
    ) -> str:
        body: dict[str, Any] = {"preset": "private_chat", "invite": list(invite), "name": name}
        if encrypted:
            body["initial_state"] = [
                {
                    "type": "m.room.encryption",
                    "state_key": "",
                    "content": {"algorithm": "m.megolm.v1.aes-sha2"},
                }
            ]
        if room_version:
            body["room_version"] = room_version
        return str((await self.call("POST", "/createRoom", body))["room_id"])

    async def invite(self, room_id: str, user_id: str) -> None:
        await self.call("POST", f"/rooms/{_q(room_id)}/invite", {"user_id": user_id})

    async def join(self, room_id: str) -> None:
        await self.call("POST", f"/join/{_q(room_id)}", {})

    async def send(
        self, room_id: str, content: Mapping[str, Any], kind: str = "m.room.message"
    ) -> str:
        txn = secrets.token_hex(8)
        path = f"/rooms/{_q(room_id)}/send/{kind}/{txn}"
        return str((await self.call("PUT", path, content))["event_id"])

    async def say(self, room_id: str, text: str, **extra: Any) -> str:
        return await self.send(room_id, {"msgtype": "m.text", "body": text, **extra})

    async def set_power(self, room_id: str, user_id: str, level: int) -> None:
        path = f"/rooms/{_q(room_id)}/state/m.room.power_levels/"
        levels = await self.call("GET", path)
        levels.setdefault("users", {})[user_id] = level
        await self.call("PUT", path, levels)

    async def members(self, room_id: str) -> dict[str, str]:
        data = await self.call("GET", f"/rooms/{_q(room_id)}/members")
        return {e["state_key"]: e["content"]["membership"] for e in data["chunk"]}

    async def messages(self, room_id: str, limit: int = 200) -> list[dict[str, Any]]:
        """Timeline events of the room, oldest first."""
        params = {"dir": "b", "limit": str(limit)}
        data = await self.call("GET", f"/rooms/{_q(room_id)}/messages", params=params)
        return list(reversed(data["chunk"]))

    async def from_user(
        self, room_id: str, sender: str, kind: str = "m.room.message"
    ) -> list[dict[str, Any]]:
        return [
            e for e in await self.messages(room_id) if e["sender"] == sender and e["type"] == kind
        ]

    async def wait_for(
        self,
        check: Callable[[], Any],
        timeout: float = 15.0,
        what: str = "the condition",
    ) -> Any:
        """Poll ``await check()`` until it returns something truthy."""
        deadline = time.monotonic() + timeout
        while True:
            result = await check()
            if result:
                return result
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out after {timeout} s waiting for {what}")
            await asyncio.sleep(0.1)

    async def wait_joined(self, room_id: str, user_id: str, timeout: float = 15.0) -> None:
        async def joined() -> bool:
            return (await self.members(room_id)).get(user_id) == "join"

        await self.wait_for(joined, timeout, f"{user_id} to join {room_id}")

    async def wait_replies(
        self, room_id: str, sender: str, count: int = 1, timeout: float = 15.0
    ) -> list[dict[str, Any]]:
        async def arrived() -> list[dict[str, Any]] | None:
            events = await self.from_user(room_id, sender)
            return events if len(events) >= count else None

        result: list[dict[str, Any]] = await self.wait_for(
            arrived, timeout, f"{count} message(s) from {sender} in {room_id}"
        )
        return result


def _q(value: str) -> str:
    return urllib.parse.quote(value, safe="")
