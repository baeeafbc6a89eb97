"""Making posters and their images: the work behind the web pages, free of Flask.

``Studio`` ties the store (records, events, catalog versions), the renderer and the image
cache together: it validates a request, records the poster, and renders its image and card
from the stored record whenever the cache does not have them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .cache import ImageCache
from .errors import SelectionError
from .render.card import render_card_png
from .render.poster import render_png
from .selection import make_poster
from .store import PosterRecord, Store, is_poster_id, new_poster_id, now
from .versions import CatalogVersion


@dataclass
class Studio:
    store: Store
    cache: ImageCache
    public_url: str
    active: CatalogVersion

    def url(self, path: str) -> str:
        """Return the absolute URL of ``path`` on the public address."""
        return self.public_url.rstrip("/") + path

    def scan_url(self, poster_id: str) -> str:
        return self.url(f"/q/{poster_id}")

    def create(
        self, picks, name: str | None = None, layout: str | None = None, ref: str | None = None
    ) -> PosterRecord:
        """Validate a request, store the poster and render its image; return the record."""
        if ref is not None and (
            not isinstance(ref, str) or not is_poster_id(ref) or not self.store.get_poster(ref)
        ):
            raise SelectionError("ref must be the id of an existing poster", field="ref")
        poster_id = new_poster_id()
        poster = make_poster(self.active, picks, name, self.scan_url(poster_id), layout)
        record = PosterRecord(
            id=poster_id,
            catalog_version=self.active.version,
            layout=poster.layout,
            choices=poster.picks,
            name=poster.name,
            url=poster.url,
            ref=ref,
            created_at=now(),
        )
        # Render before storing: a poster that is acknowledged can always be drawn.
        png = render_png(self.active, poster)
        self.store.add_poster(record)
        self.cache.put(record.id, png)
        return record

    def version_of(self, record: PosterRecord) -> CatalogVersion:
        if record.catalog_version == self.active.version:
            return self.active
        return self.store.load_version(record.catalog_version)

    def image(self, record: PosterRecord) -> Path:
        """Return the poster's PNG file, rendering it from the record if it is not cached."""
        cached = self.cache.get(record.id)
        if cached:
            return cached
        return self.cache.put(record.id, render_png(self.version_of(record), record.poster))

    def card(self, record: PosterRecord) -> Path:
        """Return the 1200×630 share card, rendering it from the record if it is not cached."""
        key = f"{record.id}-card"
        cached = self.cache.get(key)
        if cached:
            return cached
        return self.cache.put(key, render_card_png(self.version_of(record), record.poster))
