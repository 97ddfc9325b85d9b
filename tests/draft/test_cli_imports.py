"""``digest-bot draft`` loads the drafter, not the bot: no store, no chat SDK, no app, no schema.

Its start-up time is mostly imports, so a module that pulls SQLAlchemy, discord.py or pydantic
(half of a cold draft) into the draft command shows here, in a fresh interpreter, as a name in
``sys.modules``: a guard that fails on the import itself, not on a timing (the time is
``python -m bench draft_cli``).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.draft.conftest import FIXTURES

PROBE = """
import json, sys
from bot.__main__ import main
status = main(sys.argv[1:])
print(json.dumps({"status": status, "modules": sorted(sys.modules)}))
"""
NOT_FOR_DRAFT = ("sqlalchemy", "discord", "nio", "aiohttp", "apscheduler", "pydantic", "bot.app")


def loaded(argv: list[str], cwd: Path) -> tuple[int, list[str]]:
    """Exit status of ``digest-bot ARGV`` and every module it imported, in a new process."""
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *argv],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=True,
    )
    report = json.loads(done.stdout.splitlines()[-1])
    return report["status"], report["modules"]


def offending(modules: list[str]) -> list[str]:
    return [m for m in modules if any(m == n or m.startswith(n + ".") for n in NOT_FOR_DRAFT)]


def test_draft_imports_no_store_sdk_app_or_schema(tmp_path: Path) -> None:
    (tmp_path / "articles").mkdir()
    article = tmp_path / "articles" / "quake.txt"
    article.write_bytes((FIXTURES / "articles" / "quake.txt").read_bytes())
    argv = ["draft", "articles/quake.txt", "--publisher", "Wire", "--published", "2024-03-01"]
    status, modules = loaded([*argv, "-o", "quake.yaml"], tmp_path)
    assert status == 0
    assert (tmp_path / "quake.yaml").read_text("utf-8").startswith("# Draft digest")
    assert "bot.draft.core" in modules  # it did draft
    assert offending(modules) == []


def test_the_probe_sees_what_a_command_imports(tmp_path: Path) -> None:
    """The same probe on ``check``, which the app answers, lists the app, store and schema."""
    (tmp_path / "digests").mkdir()
    status, modules = loaded(["check", "digests"], tmp_path)
    assert status == 0
    assert {"bot.app", "sqlalchemy", "pydantic"} <= set(offending(modules))
