"""What a host and a developer's tools find in the clone: requirements.txt in sync with
pyproject.toml, and lint that ignores what `pip install .` leaves behind."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from tests.helpers import ROOT

SCRIPT = ROOT / "scripts" / "requirements.py"


def requirements(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args], capture_output=True, text=True, timeout=60
    )


def test_requirements_txt_is_in_sync_with_pyproject() -> None:
    done = requirements("--check")
    assert done.returncode == 0, done.stdout


def test_a_new_dependency_makes_requirements_out_of_date(tmp_path: Path) -> None:
    text = (ROOT / "pyproject.toml").read_text("utf-8")
    shutil.copy(ROOT / "requirements.txt", tmp_path / "requirements.txt")
    (tmp_path / "pyproject.toml").write_text(
        text.replace("dependencies = [\n", 'dependencies = [\n    "attrs>=23",\n', 1), "utf-8"
    )
    assert requirements("--check", "--root", str(tmp_path)).returncode == 1
    assert requirements("--root", str(tmp_path)).returncode == 0
    assert "attrs>=23\n" in (tmp_path / "requirements.txt").read_text("utf-8")
    assert requirements("--check", "--root", str(tmp_path)).returncode == 0


def test_ruff_ignores_a_leftover_build_folder(tmp_path: Path) -> None:
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    (tmp_path / "ok.py").write_text('"""Fine."""\n', "utf-8")
    for leftover in ("build/lib/bot", "dist"):
        (tmp_path / leftover).mkdir(parents=True)
        (tmp_path / leftover / "bad.py").write_text("import os, sys\n", "utf-8")  # E401, F401
    ruff = Path(sys.executable).parent / "ruff"
    for command in (["check", "."], ["format", "--check", "."]):
        done = subprocess.run(
            [str(ruff), *command], cwd=tmp_path, capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 0, done.stdout + done.stderr


def test_the_maps_cache_is_where_the_readme_and_gitignore_say() -> None:
    from bot.app import map_maker
    from bot.config import load_config
    from bot.maps import MapMaker

    maker = map_maker(load_config(ROOT / "config.yaml", env={}))
    assert isinstance(maker, MapMaker)
    maps = maker.cache_dir
    relative = maps.relative_to(ROOT).as_posix()
    assert relative == ".cache/maps"
    assert f"`{relative}`" in (ROOT / "README.md").read_text("utf-8")
    ignored = (ROOT / ".gitignore").read_text("utf-8").split()
    assert f"{relative.split('/')[0]}/" in ignored
    assert "/maps-cache/" not in ignored
