"""Matrix settings from the environment, and the adapter's exceptions (no ``nio`` needed).

Errors: ``MatrixError`` and its subclasses ``MatrixConfigError`` (settings), ``MatrixLoginError``
(the homeserver refused the credentials) and ``MatrixSendError`` (not delivered).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from bot.platforms.base import PlatformError

Msgtype = Literal["m.notice", "m.text"]
_USER_ID = re.compile(r"^@[^:\s]+:[^\s]+$")


class MatrixError(PlatformError):
    """Base class for everything this adapter raises; the message is one line for the user."""


class MatrixConfigError(MatrixError):
    """Missing or inconsistent settings (environment variables, store, E2EE)."""


class MatrixLoginError(MatrixError):
    """The homeserver refused the access token or password."""


class MatrixSendError(MatrixError):
    """A request failed (after the bounded retries): the message was not sent."""

    def __init__(self, message: str, errcode: str | None = None) -> None:
        super().__init__(message)
        self.errcode = errcode


@dataclass(frozen=True)
class MatrixSettings:
    homeserver: str
    user_id: str
    access_token: str | None
    password: str | None
    store_dir: Path
    """Sync token, device/credentials and (with E2EE) the key store; keep it across restarts."""
    device_name: str = "digest-bot"
    allowed: tuple[str, ...] = ()
    """Room ids ('!abc:example.org') or server suffixes (':example.org'); empty = own server."""
    msgtype: Msgtype = "m.notice"
    encryption: bool = False

    def __post_init__(self) -> None:
        if not re.match(r"^https?://", self.homeserver):
            raise MatrixConfigError(
                f"MATRIX_HOMESERVER must be an http(s) URL, not '{self.homeserver}'"
            )
        if not _USER_ID.match(self.user_id):
            raise MatrixConfigError(
                f"MATRIX_USER_ID must look like @bot:example.org, not '{self.user_id}'"
            )
        if not (self.access_token or self.password):
            raise MatrixConfigError("set MATRIX_ACCESS_TOKEN or MATRIX_PASSWORD")
        for entry in self.allowed:
            if not entry.startswith(("!", ":")):
                raise MatrixConfigError(
                    f"allowed rooms: '{entry}' is neither a room id (!…) "
                    "nor a server (:example.org)"
                )
        if self.msgtype not in ("m.notice", "m.text"):
            raise MatrixConfigError(f"msgtype must be m.notice or m.text, not '{self.msgtype}'")

    def __repr__(self) -> str:
        return (
            f"MatrixSettings(homeserver={self.homeserver!r}, user_id={self.user_id!r}, "
            f"access_token={'set' if self.access_token else 'unset'}, "
            f"password={'set' if self.password else 'unset'}, store_dir={self.store_dir!r}, "
            f"allowed={self.allowed!r}, msgtype={self.msgtype!r}, encryption={self.encryption})"
        )

    @property
    def server_name(self) -> str:
        return self.user_id.split(":", 1)[1]

    @classmethod
    def from_env(
        cls,
        env: Mapping[str, str],
        store_dir: Path,
        allowed: Iterable[str] = (),
        msgtype: Msgtype = "m.notice",
        encryption: bool = False,
    ) -> MatrixSettings | None:
        """From MATRIX_HOMESERVER, MATRIX_USER_ID and MATRIX_ACCESS_TOKEN or MATRIX_PASSWORD.

        None when none of them is set; ``MatrixConfigError`` naming what is missing when only some
        are (a half-configured bot must not quietly fall back to the console).
        """
        names = ("MATRIX_HOMESERVER", "MATRIX_USER_ID", "MATRIX_ACCESS_TOKEN", "MATRIX_PASSWORD")
        values = {name: (env.get(name) or "").strip() or None for name in names}
        if not any(values.values()):
            return None
        missing = [n for n in names[:2] if values[n] is None]
        if values["MATRIX_ACCESS_TOKEN"] is None and values["MATRIX_PASSWORD"] is None:
            missing.append("MATRIX_ACCESS_TOKEN (or MATRIX_PASSWORD)")
        if missing:
            raise MatrixConfigError(f"Matrix is half configured: set {', '.join(missing)}")
        return cls(
            homeserver=str(values["MATRIX_HOMESERVER"]).rstrip("/"),
            user_id=str(values["MATRIX_USER_ID"]),
            access_token=values["MATRIX_ACCESS_TOKEN"],
            password=values["MATRIX_PASSWORD"],
            store_dir=store_dir,
            device_name=(env.get("MATRIX_DEVICE_NAME") or "").strip() or "digest-bot",
            allowed=tuple(allowed),
            msgtype=msgtype,
            encryption=encryption,
        )
