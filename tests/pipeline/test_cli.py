"""``python -m bot ingest`` and ``python -m bot review`` as a reviewer at a terminal uses them."""

from __future__ import annotations

from pathlib import Path

from tests.pipeline.articles import BRIDGE, FERRY
from tests.test_cli import bot


def setup(tmp_path: Path) -> Path:
    (tmp_path / "digests").mkdir()
    config = tmp_path / "config.yaml"
    config.write_text("digests: digests\ndatabase: state.sqlite3\n", encoding="utf-8")
    for name, (headline, paragraphs) in {"ferry.txt": FERRY, "bridge.txt": BRIDGE}.items():
        text = headline + "\n\n" + "\n".join(paragraphs) + "\n"
        (tmp_path / name).write_text(text, encoding="utf-8")
    return config


def test_ingest_then_review_from_the_terminal(tmp_path: Path) -> None:
    config = str(setup(tmp_path))
    done = bot(
        "ingest",
        str(tmp_path / "ferry.txt"),
        "--publisher",
        "The Portwell Post",
        "--published",
        "2024-08-09",
        "--config",
        config,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"draft 1: {FERRY[0]} (ferry-service-")
    again = bot(
        "ingest",
        str(tmp_path / "ferry.txt"),
        "--publisher",
        "The Portwell Post",
        "--config",
        config,
    )
    assert again.returncode == 0
    assert again.stdout.startswith("nothing new (1 already")
    bot("ingest", str(tmp_path / "bridge.txt"), "--publisher", "Hallam Courier", "--config", config)

    listed = bot("review", "list", "--config", config)
    assert listed.returncode == 0
    lines = listed.stdout.splitlines()
    assert len(lines) == 2
    assert lines[0].lstrip().startswith("1  draft")
    assert "(The Portwell Post)" in lines[0]
    assert "waiting for review" in lines[0]

    shown = bot("review", "show", "1", "--config", config)
    assert shown.returncode == 0
    assert "figures:" in shown.stdout
    assert "state: waiting" in shown.stdout

    yes = bot("review", "approve", "1", "--as", "Alice", "--config", config)
    assert yes.returncode == 0, yes.stderr
    assert "is live (approved by Alice" in yes.stdout
    assert "via cli" in yes.stdout
    live = list((tmp_path / "digests").glob("*.yaml"))
    assert len(live) == 1
    assert 'reviewed:\n  by: "Alice"' in live[0].read_text(encoding="utf-8")
    assert bot("check", str(live[0]), "--config", config).returncode == 0

    twice = bot("review", "approve", "1", "--as", "Bob", "--config", config)
    assert twice.returncode == 2
    assert twice.stderr.startswith("error: draft 1 was already approved by Alice")

    no = bot("review", "reject", "2", "--as", "Carol", "--why", "not news", "--config", config)
    assert no.returncode == 0
    assert "rejected by Carol" in no.stdout
    assert bot("review", "list", "--config", config).stdout.startswith("no drafts waiting")
    everything = bot("review", "list", "--all", "--config", config).stdout
    assert "approved by Alice" in everything
    assert "rejected by Carol" in everything


def test_ingest_errors_are_one_line(tmp_path: Path) -> None:
    config = str(setup(tmp_path))
    (tmp_path / "short.txt").write_text("Headline\n\nToo short.\n", encoding="utf-8")
    short = bot("ingest", str(tmp_path / "short.txt"), "--publisher", "P", "--config", config)
    assert short.returncode == 2
    assert short.stderr.strip().splitlines() == [
        f"error: {tmp_path / 'short.txt'}: no article text (headline first, then the text)"
    ]
    (tmp_path / "latin.txt").write_bytes("Caf\u00e9 headline\n\n".encode("latin-1") * 40)
    latin = bot("ingest", str(tmp_path / "latin.txt"), "--publisher", "P", "--config", config)
    assert latin.returncode == 2
    assert "not UTF-8 (byte 3) and no charset declared" in latin.stderr
    nofile = bot("ingest", str(tmp_path / "ferry.txt"), "--config", config)
    assert nofile.returncode == 2
    assert "needs --publisher" in nofile.stderr
    assert bot("review", "approve", "7", "--as", "A", "--config", config).stderr.startswith(
        "error: no draft 7"
    )


def test_review_in_the_console(tmp_path: Path) -> None:
    config = str(setup(tmp_path))
    bot("ingest", str(tmp_path / "ferry.txt"), "--publisher", "P", "--config", config)
    done = bot(
        "console",
        "--config",
        config,
        stdin="/review list\n/review show 1\n/review approve 1\n/review approve 1\n",
    )
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "Review queue" in out
    assert "waiting for review" in out
    assert "Draft 1: " + FERRY[0] in out
    assert "For the reviewer" in out
    assert "Approved by " in out
    assert "is live" in out
    assert "error: draft 1 was already approved by" in out
    assert "via console" in out
    assert list((tmp_path / "digests").glob("*.yaml"))
