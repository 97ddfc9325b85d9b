"""Write ``requirements.txt`` from ``pyproject.toml``'s runtime dependencies.

A host's Python buildpack installs ``requirements.txt``; ``pyproject.toml`` stays the one place
dependencies are declared. ``make requirements`` runs this; ``--check`` (run by the tests) exits 1
when the file is out of date.

    python scripts/requirements.py [--check] [--root DIR]
"""

from __future__ import annotations

import argparse
import sys
import tomllib
from pathlib import Path

HEADER = (
    "# Generated from pyproject.toml by `make requirements` (scripts/requirements.py): do not\n"
    "# edit. A host's Python buildpack installs this; the Procfile then runs `python -m bot`.\n"
)


def render(pyproject: str) -> str:
    dependencies = tomllib.loads(pyproject)["project"]["dependencies"]
    return HEADER + "".join(f"{d}\n" for d in dependencies)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if out of date")
    parser.add_argument("--root", type=Path, default=Path(__file__).resolve().parents[1])
    args = parser.parse_args(argv)
    wanted = render((args.root / "pyproject.toml").read_text("utf-8"))
    target = args.root / "requirements.txt"
    if args.check:
        current = target.read_text("utf-8") if target.exists() else ""
        if current != wanted:
            print(f"{target}: out of date with pyproject.toml: run `make requirements`")
            return 1
        return 0
    target.write_text(wanted, "utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
