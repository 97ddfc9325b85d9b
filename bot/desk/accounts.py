"""Desk accounts: names, roles and argon2 password hashes, in the bot's database.

A table of its own on the same SQLAlchemy URL as the schedules and the ledger (SQLite file by
default, ``DATABASE_URL`` when set). Calls are blocking and short: async callers use
``asyncio.to_thread``. Passwords are never stored or logged; only their argon2 hashes are kept.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal, get_args

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import (
    Column,
    DateTime,
    MetaData,
    String,
    Table,
    delete,
    insert,
    select,
    update,
)
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from bot.schedules import migrations
from bot.schedules.engine import Database

Role = Literal["editor", "admin"]
ROLES: tuple[str, ...] = get_args(Role)
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
MIN_PASSWORD = 10

metadata = MetaData()

desk_users = Table(
    "desk_users",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("role", String(16), nullable=False),
    Column("password_hash", String(255), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)


class AccountError(ValueError):
    """A refused account change: one line saying what is wrong."""


@dataclass(frozen=True)
class User:
    name: str
    role: Role
    created_at: datetime | None = None

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


def check_name(name: str) -> str:
    if not NAME.match(name):
        raise AccountError(
            f"user name {name!r}: 1-64 letters, digits, '.', '_' or '-', starting with a letter "
            "or digit"
        )
    return name


class Accounts:
    def __init__(self, url: str, hasher: PasswordHasher | None = None) -> None:
        self._database = Database(url)
        self.engine: Engine = self._database.engine
        migrations.create_all(self.engine, metadata)
        self.hasher = hasher or PasswordHasher()
        # Verifying against this when the name is unknown costs the same as a real check, so
        # the answer's timing does not tell which names exist.
        self._dummy = self.hasher.hash("not a password of anyone's")
        self._lock = threading.Lock()

    def close(self) -> None:
        self._database.close()

    def add(self, name: str, role: str, password: str) -> User:
        check_name(name)
        if role not in ROLES:
            raise AccountError(f"role {role!r} — use {' or '.join(ROLES)}")
        if len(password) < MIN_PASSWORD:
            raise AccountError(f"the password must have at least {MIN_PASSWORD} characters")
        digest = self.hasher.hash(password)
        try:
            with self._lock, self.engine.begin() as conn:
                conn.execute(
                    insert(desk_users).values(
                        name=name, role=role, password_hash=digest, created_at=datetime.now(UTC)
                    )
                )
        except IntegrityError:
            raise AccountError(f"user {name!r} exists already (remove it first)") from None
        return User(name, "admin" if role == "admin" else "editor")

    def remove(self, name: str) -> bool:
        with self._lock, self.engine.begin() as conn:
            return bool(conn.execute(delete(desk_users).where(desk_users.c.name == name)).rowcount)

    def list(self) -> list[User]:
        with self._lock, self.engine.begin() as conn:
            rows = conn.execute(select(desk_users).order_by(desk_users.c.name))
            return [_user(row._mapping) for row in rows]

    def get(self, name: str) -> User | None:
        with self._lock, self.engine.begin() as conn:
            row = conn.execute(select(desk_users).where(desk_users.c.name == name)).first()
            return _user(row._mapping) if row else None

    def verify(self, name: str, password: str) -> User | None:
        """The user when the password is right, else None (same cost whether the name exists)."""
        with self._lock, self.engine.begin() as conn:
            row = conn.execute(select(desk_users).where(desk_users.c.name == name)).first()
        stored = row._mapping["password_hash"] if row else self._dummy
        try:
            self.hasher.verify(stored, password)
        except (VerificationError, InvalidHashError):
            return None
        if row is None:
            return None
        if self.hasher.check_needs_rehash(stored):
            with self._lock, self.engine.begin() as conn:
                conn.execute(
                    update(desk_users)
                    .where(desk_users.c.name == name)
                    .values(password_hash=self.hasher.hash(password))
                )
        return _user(row._mapping)


def _user(row: object) -> User:
    mapping = dict(row)  # type: ignore[call-overload]
    role: Role = "admin" if mapping["role"] == "admin" else "editor"
    return User(mapping["name"], role, mapping["created_at"])


class Throttle:
    """Failed logins slow down: after ``free`` failures for a name or an address, each further
    attempt waits twice as long as the last (up to ``cap`` seconds). A success clears the name."""

    def __init__(
        self,
        free: int = 3,
        base: float = 1.0,
        cap: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.free = free
        self.base = base
        self.cap = cap
        self.clock = clock
        self._failures: dict[str, tuple[int, float]] = {}

    def wait(self, *keys: str) -> float:
        """Seconds until an attempt for any of ``keys`` may be tried again (0: now)."""
        now = self.clock()
        longest = 0.0
        for key in keys:
            count, last = self._failures.get(key, (0, 0.0))
            if count < self.free:
                continue
            delay = min(self.cap, self.base * 2 ** (count - self.free))
            longest = max(longest, last + delay - now)
        return max(0.0, longest)

    def failed(self, *keys: str) -> None:
        now = self.clock()
        for key in keys:
            count, _ = self._failures.get(key, (0, 0.0))
            self._failures[key] = (count + 1, now)
        if len(self._failures) > 10_000:  # bounded: forget the oldest under a flood
            for key, _ in sorted(self._failures.items(), key=lambda kv: kv[1][1])[:5_000]:
                del self._failures[key]

    def succeeded(self, key: str) -> None:
        self._failures.pop(key, None)
