"""config.yaml → a typed, frozen ``Config``. Secrets never live here: only in the environment.

Paths in the file are relative to the file itself, so the bot behaves the same whatever the
working directory. A bad file is one ``ConfigError`` line naming the key, never a traceback.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from bot.digest.load import DigestInvalid, dotted, read_text
from bot.digest.yamlsafe import YamlProblem, parse

DEFAULT_PATH = Path("config.yaml")
SECRET_WORDS = ("token", "password", "secret")


class ConfigError(Exception):
    """One line: which file, which key, what is wrong."""


class _File(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)

    digests: str = "digests"
    reload_seconds: float = Field(default=2.0, ge=0)
    cache: str = ".cache"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"


@dataclass(frozen=True)
class Config:
    path: Path | None
    """The file this came from (None: built-in defaults, no file)."""
    digests: Path
    reload_seconds: float
    cache: Path
    log_level: str


@dataclass(frozen=True)
class Secrets:
    """Tokens, read from the environment only; ``repr`` never shows them."""

    discord_token: str | None = None
    matrix_access_token: str | None = None

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Secrets:
        env = dict(os.environ) if env is None else env
        return cls(
            discord_token=env.get("DISCORD_TOKEN") or None,
            matrix_access_token=env.get("MATRIX_ACCESS_TOKEN") or None,
        )

    def __repr__(self) -> str:
        shown = {k: "set" if v else "unset" for k, v in vars(self).items()}
        return f"Secrets({shown})"


def config_path(given: str | None, env: dict[str, str] | None = None) -> tuple[Path, bool]:
    """The config file to read and whether the user named it (then it must exist)."""
    env = dict(os.environ) if env is None else env
    if given:
        return Path(given), True
    if env.get("BOT_CONFIG"):
        return Path(env["BOT_CONFIG"]), True
    return DEFAULT_PATH, False


def load_config(path: Path, *, required: bool = True) -> Config:
    if not path.exists():
        if required:
            raise ConfigError(f"{path}: no such config file")
        return _resolve(None, Path.cwd(), _File())
    try:
        text = read_text(path, 256 * 1024, "config file")
        parsed = parse(text)
    except DigestInvalid as exc:
        raise ConfigError(str(exc.problems[0])) from None
    except YamlProblem as exc:
        raise ConfigError(f"{path}:{exc.line}: {exc.message}") from None
    data = {} if parsed.data is None else parsed.data
    if not isinstance(data, dict):
        raise ConfigError(f"{path}:1: the config is a mapping of key: value")
    for key in data:
        if any(word in key.lower() for word in SECRET_WORDS):
            line = parsed.line_of((key,))
            raise ConfigError(
                f"{path}:{line}: {key}: secrets are read from the environment "
                "(DISCORD_TOKEN, MATRIX_ACCESS_TOKEN), never from config.yaml"
            )
    try:
        model = _File.model_validate(data)
    except ValidationError as exc:
        error = exc.errors()[0]
        where = tuple(error["loc"])
        message = str(error["msg"])
        if error["type"] == "extra_forbidden":
            known = ", ".join(_File.model_fields)
            message = f"unknown key (known keys: {known})"
        raise ConfigError(f"{path}:{parsed.line_of(where)}: {dotted(where)}: {message}") from None
    return _resolve(path, path.parent, model)


def _resolve(path: Path | None, base: Path, model: _File) -> Config:
    return Config(
        path=path,
        digests=(base / model.digests).resolve(),
        reload_seconds=model.reload_seconds,
        cache=(base / model.cache).resolve(),
        log_level=model.log_level,
    )
