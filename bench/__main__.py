"""``python -m bench NAME [args]`` runs bench/NAME.py's ``main``; with no name, lists them.

Benchmarks print figures; they are not tests and assert nothing about speed.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
from pathlib import Path


def available() -> list[str]:
    here = Path(__file__).parent
    return sorted(m.name for m in pkgutil.iter_modules([str(here)]) if not m.name.startswith("_"))


def main(argv: list[str]) -> int:
    names = available()
    if not argv or argv[0] in ("-h", "--help"):
        print("usage: python -m bench NAME [args]\nbenchmarks: " + ", ".join(names))
        return 0
    if argv[0] not in names:
        print(f"error: no benchmark '{argv[0]}' (benchmarks: {', '.join(names)})", file=sys.stderr)
        return 2
    module = importlib.import_module(f"bench.{argv[0]}")
    module.main(argv[1:])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
