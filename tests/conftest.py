"""Shared fixtures: a small valid digest on disk that tests break one rule at a time."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

pytest_plugins = ["tests.postgres.plugin"]  # db_url: each store test on SQLite and PostgreSQL

ROOT = Path(__file__).resolve().parents[1]
KURSK = ROOT / "digests" / "kursk-2024-08-09.yaml"

ARTICLE = """Storm closes the harbour
The harbour at Portwell was closed on Monday after a storm damaged 14 boats.
Click here to view this content.
The coastguard said two dozen people were evacuated from the quay.
The fishermen's union claimed that up to 300 jobs were at risk.
"""


def base_digest() -> dict[str, Any]:
    return {
        "schema": 1,
        "id": "storm-2024-01-08",
        "title": "Storm closes Portwell harbour",
        "published": "2024-01-08",
        "article": {
            "publisher": "The Portwell Post",
            "headline": "Storm closes the harbour",
            "url": None,
            "text": "articles/storm.txt",
        },
        "sources": {
            "post": {"name": "The Portwell Post", "kind": "publisher"},
            "coastguard": {"name": "The coastguard", "kind": "official"},
            "union": {"name": "The fishermen's union", "kind": "other", "side": "workers"},
        },
        "summary": [
            {
                "text": "Portwell harbour closed after a storm damaged boats.",
                "source": "post",
                "quote": "The harbour at Portwell was closed on Monday",
            }
        ],
        "figures": [
            {
                "label": "Boats damaged",
                "value": 14,
                "unit": "boats",
                "status": "reported",
                "source": "post",
                "quote": "a storm damaged 14 boats",
            },
            {
                "label": "People evacuated",
                "value": 24,
                "unit": "people",
                "status": "reported",
                "source": "coastguard",
                "quote": "two dozen people were evacuated",
            },
            {
                "label": "Jobs at risk",
                "value": 300,
                "qualifier": "up to",
                "unit": "jobs",
                "status": "claim",
                "source": "union",
                "quote": "up to 300 jobs were at risk",
            },
        ],
        "places": [
            {
                "name": "Portwell",
                "region": "Cornwall, UK",
                "lat": 50.1,
                "lon": -5.5,
                "what": "The closed harbour",
                "source": "post",
                "quote": "The harbour at Portwell",
            }
        ],
    }


def dump(data: dict[str, Any]) -> str:
    text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
    # safe_dump quotes the date string; a digest writes it bare so YAML reads a date.
    return text.replace("published: '2024-01-08'", "published: 2024-01-08")


WriteDigest = Callable[..., Path]


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
