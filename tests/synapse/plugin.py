"""pytest fixtures for tests against a real Synapse (import them into a test module).

``synapse``          one relaxed Synapse for the whole session (every rc_* limit raised);
``synapse_limited``  a second one keeping Synapse's default rc_message (0.2/s, burst 10),
                     started only when a test asks for it.
Both stop at the end of the session. When Synapse cannot be installed or started the tests are
skipped with the reason — except in CI (``CI=true``), where they fail instead.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.synapse.harness import Synapse, SynapseUnavailable, ensure_synapse, start_synapse


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("true", "1", "yes")


def unavailable(reason: str) -> None:
    message = f"Synapse is unavailable, so the Matrix end-to-end tests cannot run: {reason}"
    if in_ci():
        pytest.fail(message + "\n(CI=true: these tests must run, never skip)", pytrace=False)
    pytest.skip(message)


def _start(tmp: pytest.TempPathFactory, name: str, *, rate_limited: bool) -> Synapse:
    try:
        ensure_synapse(log=print)
        return start_synapse(tmp.mktemp(name), rate_limited=rate_limited)
    except SynapseUnavailable as exc:
        unavailable(str(exc))
        raise AssertionError("unreachable") from exc


@pytest.fixture(scope="session")
def synapse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Synapse]:
    server = _start(tmp_path_factory, "synapse", rate_limited=False)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def synapse_limited(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Synapse]:
    server = _start(tmp_path_factory, "synapse-limited", rate_limited=True)
    yield server
    server.stop()
