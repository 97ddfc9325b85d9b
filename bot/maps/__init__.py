"""``/where`` maps: a digest's places on Natural Earth borders, drawn with Pillow, cached as PNG.

Usage::

    maps = MapMaker(Path("maps-cache"))
    path = maps.picture(digest)            # every place
    path = maps.picture(digest, place)     # zoomed on one place
    alt = maps.describe(digest, place)     # text alternative for the picture

Nothing is downloaded: borders come from ``data/borders.json.gz`` (built by
``scripts/build_map_data.py``), fonts from ``fonts/``.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
import threading
from pathlib import Path

from bot.digest.model import Digest, Place
from bot.maps.geodata import MapDataError, geodata
from bot.maps.layout import HEIGHT, WIDTH, View
from bot.maps.projection import Projection
from bot.maps.render import Rendered, km_text, render, view_for

__all__ = [
    "HEIGHT",
    "RENDER_VERSION",
    "WIDTH",
    "MapDataError",
    "MapMaker",
    "Projection",
    "Rendered",
    "render",
]

RENDER_VERSION = "1"
"""Bump when the drawing changes, so that cached pictures are redrawn."""


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.casefold()).strip("-")[:40] or "place"


class MapMaker:
    """Renders each (digest, place) map once and keeps the PNG in ``cache_dir``.

    Safe to call from several threads: a picture is written to a temporary file and moved into
    place with ``os.replace``, so a reader never sees half a file; one lock per picture stops two
    threads from drawing the same map at once.
    """

    def __init__(self, cache_dir: Path) -> None:
        self.cache_dir = Path(cache_dir)
        self._locks: dict[str, threading.Lock] = {}
        self._locks_lock = threading.Lock()

    def key(self, digest: Digest, focus: Place | None = None) -> str:
        """Hash of everything the picture depends on: places, title, focus, data, renderer."""
        payload = {
            "renderer": RENDER_VERSION,
            "data": geodata().digest,
            "id": digest.id,
            "title": digest.title,
            "published": digest.published.isoformat(),
            "publisher": digest.article.publisher,
            "places": [p.model_dump(mode="json") for p in digest.places],
            "focus": focus.model_dump(mode="json") if focus else None,
        }
        blob = json.dumps(payload, sort_keys=True, ensure_ascii=False).encode()
        return hashlib.sha256(blob).hexdigest()

    def path(self, digest: Digest, focus: Place | None = None) -> Path:
        """Where the picture is (or will be) cached."""
        which = _slug(focus.name) if focus else "all"
        return self.cache_dir / f"{digest.id}--{which}--{self.key(digest, focus)[:16]}.png"

    def view(self, digest: Digest, focus: Place | None = None) -> View:
        """What the map shows, without drawing it: its projection, places shown and beyond."""
        return view_for(digest, focus)

    def projection(self, digest: Digest, focus: Place | None = None) -> Projection:
        """Turns lon/lat into the picture's pixel (x, y): ``projection(...).to_pixel(lon, lat)``."""
        return self.view(digest, focus).projection

    def picture(self, digest: Digest, focus: Place | None = None) -> Path:
        """PNG path for this digest (all places) or zoomed on one place.

        Rendered once, then cached; the key includes a hash of the places' data, so an edited
        digest re-renders. Raises ``ValueError`` for a digest without places (and no focus).
        """
        if not digest.places and focus is None:
            raise ValueError(f"digest {digest.id} has no places to map")
        target = self.path(digest, focus)
        if target.exists():
            return target
        with self._lock(target.name):
            if target.exists():
                return target
            rendered = render(digest, focus)
            self.cache_dir.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.cache_dir, prefix=".", suffix=".png.part")
            try:
                with os.fdopen(fd, "wb") as out:
                    rendered.image.save(out, format="PNG", compress_level=3)
                os.chmod(tmp, 0o644)  # mkstemp makes it private; uploaders may run as others
                os.replace(tmp, target)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        return target

    def describe(self, digest: Digest, focus: Place | None = None) -> str:
        """A one-sentence text alternative for the picture (Discord/Matrix alt text)."""
        view = self.view(digest, focus)
        names = ", ".join(p.name for p in view.shown)
        what = f"Map centred on {focus.name}" if focus else f"Map of the places in {digest.title}"
        text = f"{what}: {names}."
        if view.beyond:
            far = "; ".join(
                f"{b.place.name} {km_text(b.distance_km)} from {b.reference.name}"
                for b in view.beyond
            )
            text += f" Beyond the map, marked at its edge: {far}."
        return text + " Borders: Natural Earth (public domain)."

    def _lock(self, name: str) -> threading.Lock:
        with self._locks_lock:
            return self._locks.setdefault(name, threading.Lock())
