"""Shared fixtures: a small valid digest on disk that tests break one rule at a time."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.helpers import ARTICLE, WriteDigest, base_digest, dump

pytest_plugins = ["tests.fakes.plugin", "tests.synapse.plugin", "tests.postgres.plugin"]


@pytest.fixture
def write_digest(tmp_path: Path) -> WriteDigest:
    """write_digest(data=None, text=None, name=...) → path; the article is written beside it."""
    (tmp_path / "articles").mkdir(exist_ok=True)
    (tmp_path / "articles" / "storm.txt").write_text(ARTICLE, encoding="utf-8")

    def write(
        data: dict[str, Any] | None = None, text: str | None = None, name: str = "storm.yaml"
    ) -> Path:
        path = tmp_path / name
        path.write_text(text if text is not None else dump(data or base_digest()), "utf-8")
        return path

    return write
