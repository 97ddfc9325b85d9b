"""Digest folders for platform tests: the tests' Kursk digest plus the test digests here.

``bridge-notice.yaml`` is a trap: its text tries to ping (@everyone, a role mention) and to
format (bold, code, a masked link), and every quote is verbatim in its article, so it loads.
"""

from __future__ import annotations

import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent / "digests"
KURSK = ROOT / "tests" / "data" / "kursk" / "kursk-2024-08-09.yaml"
KURSK_ID = "kursk-incursion-2024-08-09"
BRIDGE_ID = "bridge-notice-2024-09-02"


def copy_digests(folder: Path) -> Path:
    """Copy the sample digests and their articles into ``folder`` (created); return it."""
    (folder / "articles").mkdir(parents=True, exist_ok=True)
    for source in (*HERE.glob("*.yaml"), KURSK):
        shutil.copy(source, folder / source.name)
    for article in (*(HERE / "articles").glob("*.txt"), *(KURSK.parent / "articles").glob("*")):
        shutil.copy(article, folder / "articles" / article.name)
    return folder
