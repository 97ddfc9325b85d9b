"""The nio client: created here and typed through ``NioClient``, the small part of
``nio.AsyncClient`` the bot uses (nio ships no type information)."""

from __future__ import annotations

import io
from collections.abc import Mapping
from typing import Any, Protocol

import nio  # type: ignore[import-untyped]

from bot.platforms.matrix.rooms import retry_after_header

MAX_RETRY_WAIT = 300.0
DEFAULT_RETRY_WAIT = 5.0
"""Seconds to wait on a 429 that says nothing about when to retry."""
MAX_TIMEOUTS = 4
"""Connection errors and timeouts nio retries (same transaction id) before giving up."""
REQUEST_TIMEOUT = 60.0

Response = Any
"""A nio response object (``nio.ErrorResponse`` or a success type); nio does not type them."""


class NioClient(Protocol):
    """What the bot uses of ``nio.AsyncClient``."""

    user_id: str
    access_token: str
    device_id: str | None
    rooms: Mapping[str, Any]
    olm: object | None
    should_upload_keys: bool
    should_query_keys: bool
    should_claim_keys: bool

    async def whoami(self) -> Response: ...
    async def login(self, password: str | None = None, device_name: str = "") -> Response: ...
    def restore_login(self, user_id: str, device_id: str, access_token: str) -> None: ...
    async def sync(
        self,
        timeout: int | None = 0,
        sync_filter: dict[str, Any] | None = None,
        since: str | None = None,
        full_state: bool | None = None,
    ) -> Response: ...
    async def close(self) -> None: ...
    async def keys_upload(self) -> Response: ...
    async def keys_query(self) -> Response: ...
    async def keys_claim(self, users: Any) -> Response: ...
    def get_users_for_key_claiming(self) -> Any: ...
    async def send_to_device_messages(self) -> Any: ...
    async def join(self, room_id: str) -> Response: ...
    async def room_leave(self, room_id: str) -> Response: ...
    async def room_get_state(self, room_id: str) -> Response: ...
    async def room_send(
        self,
        room_id: str,
        message_type: str,
        content: dict[str, Any],
        tx_id: str | None = None,
        ignore_unverified_devices: bool = False,
    ) -> Response: ...
    async def upload(
        self,
        data_provider: io.BytesIO,
        content_type: str = "application/octet-stream",
        filename: str | None = None,
        encrypt: bool = False,
        filesize: int | None = None,
    ) -> tuple[Response, dict[str, Any] | None]: ...


class _Client(nio.AsyncClient):  # type: ignore[misc]
    """nio's client, plus what it leaves out: a 429's ``Retry-After`` header."""

    async def create_matrix_response(
        self,
        response_class: Any,
        transport_response: Any,
        data: Any = None,
        save_to: Any = None,
    ) -> Any:
        resp = await super().create_matrix_response(
            response_class, transport_response, data, save_to
        )
        if transport_response.status == 429 and isinstance(resp, nio.ErrorResponse):
            resp.http_429 = True
            if resp.retry_after_ms is None:
                resp.retry_after_ms = retry_after_header(
                    transport_response.headers.get("Retry-After")
                )
        return resp


def rate_limited(resp: Any) -> bool:
    return isinstance(resp, nio.ErrorResponse) and (
        getattr(resp, "http_429", False) or resp.status_code == "M_LIMIT_EXCEEDED"
    )


def retry_wait(resp: Any) -> float:
    ms = getattr(resp, "retry_after_ms", None)
    seconds = DEFAULT_RETRY_WAIT if ms is None else ms / 1000
    return min(max(seconds, 0.05), MAX_RETRY_WAIT)


def is_error(resp: Response) -> bool:
    return isinstance(resp, nio.ErrorResponse)


def new_client(
    homeserver: str, user_id: str, device_id: str, store_path: str, *, encryption: bool
) -> NioClient:
    """nio's client configured so every 429 comes back to the caller (one retry layer)."""
    config = nio.AsyncClientConfig(
        max_limit_exceeded=0,
        max_timeouts=MAX_TIMEOUTS,
        request_timeout=REQUEST_TIMEOUT,
        encryption_enabled=encryption,
        store_sync_tokens=False,
    )
    client: NioClient = _Client(
        homeserver, user_id, device_id=device_id, store_path=store_path, config=config
    )
    return client
