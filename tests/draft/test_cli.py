"""``python -m bot draft`` as the editor runs it: files, paths, errors."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from bot.digest.load import load_digest
from bot.draft.cli import add_arguments, run, text_path

ARTICLE = "Storm closes the harbour\nThe storm damaged 14 boats on Monday, the coastguard said.\n"


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bot draft")
    add_arguments(parser)
    return parser.parse_args(argv)


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "digests" / "articles").mkdir(parents=True)
    (tmp_path / "digests" / "articles" / "new.txt").write_text(ARTICLE, "utf-8")
    monkeypatch.chdir(tmp_path)
    return tmp_path


BASE = ["digests/articles/new.txt", "--publisher", "The Post", "--published", "2024-08-09"]


def test_writes_a_draft_that_passes_check(site: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(parse([*BASE, "-o", "digests/new.yaml"])) == 0
    loaded = load_digest(site / "digests" / "new.yaml")
    assert loaded.digest.article.text == "articles/new.txt"
    assert loaded.digest.id == "storm-closes-harbour-2024-08-09"  # "new" is too generic
    assert "drafted digests/new.yaml" in capsys.readouterr().err


def test_stdout_without_output(site: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(parse([*BASE, "--id", "harbour", "--url", "https://example.org/a"])) == 0
    out = capsys.readouterr().out
    assert "id: harbour\n" in out and "text: articles/new.txt\n" in out
    assert 'url: "https://example.org/a"\n' in out


def test_never_overwrites_without_force(site: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (site / "digests" / "new.yaml").write_text("reviewed work", "utf-8")
    assert run(parse([*BASE, "-o", "digests/new.yaml"])) == 2
    assert (site / "digests" / "new.yaml").read_text("utf-8") == "reviewed work"
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1
    assert run(parse([*BASE, "-o", "digests/new.yaml", "--force"])) == 0


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--id", "Not A Slug"], "must be a slug"),
        (["--url", "example.org"], "http(s) URL"),
        (["-o", "elsewhere/new.yaml"], "is outside"),
        (["--headline", "  "], "must not be empty"),
    ],
)
def test_user_errors(
    site: Path, capsys: pytest.CaptureFixture[str], extra: list[str], message: str
) -> None:
    assert run(parse([*BASE, *extra])) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_unreadable_articles(site: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (site / "digests" / "articles" / "latin1.txt").write_bytes("Caf\xe9\n".encode("latin-1"))
    for name, message in (("missing.txt", "cannot read"), ("latin1.txt", "not UTF-8")):
        argv = [f"digests/articles/{name}", "--publisher", "P", "--published", "2024-08-09"]
        assert run(parse(argv)) == 2
        assert message in capsys.readouterr().err
    (site / "digests" / "articles" / "debris.txt").write_text("Click here to view this content.\n")
    assert (
        run(parse(["digests/articles/debris.txt", "--publisher", "P", "--published", "2024-08-09"]))
        == 2
    )


def test_bad_date_is_an_argparse_error() -> None:
    with pytest.raises(SystemExit) as exc:
        parse(["a.txt", "--publisher", "P", "--published", "9 August"])
    assert exc.value.code == 2


def test_text_path_relative_to_the_output_folder(tmp_path: Path) -> None:
    article = tmp_path / "digests" / "articles" / "x.txt"
    assert text_path(article, tmp_path / "digests" / "x.yaml") == "articles/x.txt"
    assert text_path(article, None) == "articles/x.txt"
    assert text_path(article, tmp_path / "digests" / "articles" / "x.yaml") == "x.txt"
