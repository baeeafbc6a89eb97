"""Making posters and their images: the work behind the web pages, free of Flask.

``Studio`` ties the store (records, events, catalog versions), the renderer and the image
cache together: it validates a request, records the poster, and renders its image and card
from the stored record whenever the cache does not have them.
"""

from __future__ import annotations

import contextlib
import signal
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import NoReturn

from . import metrics, urls, versions
from .assets import Assets
from .cache import ImageCache
from .errors import Conflict, SelectionError, Unavailable
from .experiments import assign
from .i18n import _
from .model import Poster, is_poster_id, new_poster_id
from .render.card import render_card_png
from .render.poster import render_light, render_png
from .selection import make_poster
from .store import PosterRecord, Publication, Store, now
from .versions import CatalogVersion


@contextlib.contextmanager
def time_budget(seconds: float) -> Iterator[None]:
    """Raise Unavailable if the block runs longer than ``seconds`` (main thread, Unix only).

    A render that hangs would hold a worker until gunicorn kills it; this gives the person
    a 503 to retry instead, and the worker goes on serving.
    """
    if not (seconds > 0 and hasattr(signal, "setitimer")):
        yield
        return

    def expire(signum: int, frame: FrameType | None) -> NoReturn:
        raise Unavailable(_("海报做得有点慢，请稍等几秒再试"))

    # Only the main thread can take signals. Ask signal.signal rather than threading: under
    # gevent's patches every greenlet looks like a thread of its own, though all run here.
    try:
        previous = signal.signal(signal.SIGALRM, expire)
    except ValueError:
        main_thread = False
    else:
        main_thread = True
    if not main_thread:
        yield
        return
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


LIVE_CHECK_SECONDS = 1.0  # how stale a server's idea of the live catalog may get


@dataclass
class Studio:
    store: Store
    cache: ImageCache
    public_url: str
    assets: Assets
    render_budget: float = 5.0
    # How I/O that never yields to gevent runs (SQLite, files): a plain call here; under
    # gunicorn's gevent workers, web/__init__.py hands it to a thread of the hub's pool, so
    # the worker renders other posters while one is written (+10-30 % posters/s measured
    # with bench/serve.py on a busy machine, where writes sometimes stall for milliseconds).
    blocking: Callable = field(default=lambda function, *args: function(*args), repr=False)
    _live: tuple[float, CatalogVersion] | None = field(default=None, repr=False)

    @property
    def active(self) -> CatalogVersion:
        """Return the live catalog version, as published by staff (re-read every second).

        Read it once per request and pass it along: every server switches within a second
        of a publish, and a request never mixes two versions.
        """
        now_ = time.monotonic()
        if self._live is None or now_ - self._live[0] > LIVE_CHECK_SECONDS:
            self._live = (now_, self.store.load_version(self.live_publication().version))
        return self._live[1]

    def live_publication(self) -> Publication:
        """Return the live publication: there is one from the app's first start on."""
        live = self.store.live()
        if live is None:
            raise RuntimeError("no catalog has been published; start the app once to do so")
        return live

    def ensure_published(self, catalog_path: Path) -> None:
        """Publish the catalog file if nothing is live yet (the first start of a new database)."""
        if self.store.live() is not None:
            return
        version = versions.load_sources(catalog_path, self.assets)
        text = catalog_path.read_text(encoding="utf-8")
        with contextlib.suppress(Conflict):  # another worker published the same file first
            self.store.publish(version, text, who="posterapp", base=None, kind="initial")

    def load_text(self, text: str) -> CatalogVersion:
        """Check catalog YAML written in the console against the layouts and uploads."""
        return versions.load_text(text, "catalog.yaml", self.assets)

    def publish(self, text: str, who: str, base: int) -> Publication:
        """Publish catalog YAML as the new live version, unless someone else published first."""
        version = self.load_text(text)
        live = self.store.live()
        if live is not None and live.version == version.version and live.source == text:
            # A second entry in the history that changes nothing would only confuse.
            raise Conflict(_("和现在线上的版本完全一样，不用再发布；改动一些内容后再发布吧"))
        publication = self.store.publish(version, text, who=who, base=base)
        self._live = None
        return publication

    def rollback(self, publication_id: int, who: str, base: int) -> Publication:
        """Put an earlier publication's version live again (as a new publication)."""
        earlier = self.store.publication(publication_id)
        if earlier is None:
            raise SelectionError(f"没有第 {publication_id} 号发布记录", field="publication")
        live = self.store.live()
        if live is not None and live.version == earlier.version:
            raise Conflict(
                _("第 %(id)s 号发布的版本和现在线上的完全一样，不用回滚", id=publication_id)
            )
        version = self.store.load_version(earlier.version)
        publication = self.store.publish(version, earlier.source, who, base=base, kind="rollback")
        self._live = None
        return publication

    def url(self, path: str) -> str:
        """Return the absolute URL of ``path`` (one of ``posterapp.urls``) on the public address."""
        return urls.absolute(self.public_url, path)

    def scan_url(self, poster_id: str) -> str:
        """Return what a new poster's QR code opens (see ``urls.scan_url``)."""
        return urls.scan_url(self.public_url, poster_id)

    def create(
        self,
        picks: object,
        name: str | None = None,
        layout: str | None = None,
        ref: str | None = None,
        version: CatalogVersion | None = None,
        city: str | None = None,
    ) -> PosterRecord:
        """Validate a request, store the poster and render its image; return the record.

        ``city`` is where the maker says they are (one of the catalog's regions), counted
        in the campaign's numbers by city.
        """
        version = version or self.active
        if (
            city is not None
            and city != ""
            and (not isinstance(city, str) or city not in {r.id for r in version.catalog.regions})
        ):
            raise SelectionError(_("没有这个城市，请在列表里重新选一个吧"), field="city")
        if ref is not None and (
            not isinstance(ref, str) or not is_poster_id(ref) or not self.store.get_poster(ref)
        ):
            raise SelectionError(
                _("邀请你的那张海报找不到了，回首页直接做一张自己的吧"), field="ref"
            )
        poster_id = new_poster_id()
        experiment = version.catalog.campaign.experiment
        variant = None
        if experiment is not None:  # the same answer on every server: it comes from the id
            weights = [(v.id, v.weight) for v in experiment.variants]
            chosen = assign(poster_id, experiment.id, weights)
            variant = next(v for v in experiment.variants if v.id == chosen)
        rules = variant.layout_rules if variant else None
        poster = make_poster(version, picks, name, self.scan_url(poster_id), layout, rules)
        if variant is not None and variant.theme:
            version = versions.in_theme(version, variant.theme)
        record = PosterRecord(
            id=poster_id,
            catalog_version=version.version.split("+")[0],  # the stored version, not a theme
            layout=poster.layout,
            choices=poster.picks,
            name=poster.name,
            url=poster.url,
            ref=ref,
            created_at=now(),
            city=city or None,
            variant=f"{experiment.id}:{variant.id}" if experiment and variant else None,
        )
        # Render before storing: a poster that is acknowledged can always be drawn.
        started = time.perf_counter()
        with time_budget(self.render_budget):
            png = render_png(version, poster)
        metrics.RENDER_SECONDS.labels(poster.layout).observe(time.perf_counter() - started)
        if self.store.cooperative:  # psycopg waits for PostgreSQL as a greenlet should
            self.store.add_poster(record)
            self.blocking(self.cache.put, record.id, png)
        else:
            self.blocking(self._keep, record, png)
        metrics.POSTERS.labels("yes" if ref else "no").inc()
        return record

    def _keep(self, record: PosterRecord, png: bytes) -> None:
        self.store.add_poster(record)
        self.cache.put(record.id, png)

    def version_of(self, record: PosterRecord) -> CatalogVersion:
        """Return the version a poster is drawn with: its own, in its variant's theme if any."""
        version = self.store.load_version(record.catalog_version)
        experiment = version.catalog.campaign.experiment
        if record.variant and experiment is not None:
            exp_id, variant_id = record.variant.split(":", 1)
            found = next((v for v in experiment.variants if v.id == variant_id), None)
            if exp_id == experiment.id and found is not None and found.theme:
                return versions.in_theme(version, found.theme)
        return version

    def image(self, record: PosterRecord) -> Path:
        """Return the poster's PNG file, rendering it from the record if it is not cached."""
        return self._kept(record.id, record, render_png)

    def light(self, record: PosterRecord) -> Path:
        """Return the poster's light WebP (the share page paints it first), rendering if need be."""
        # The cache names every file .png; this one holds WebP bytes.
        return self._kept(f"{record.id}-light", record, render_light)

    def card(self, record: PosterRecord) -> Path:
        """Return the 1200×630 share card, rendering it from the record if it is not cached."""
        return self._kept(f"{record.id}-card", record, render_card_png)

    def _kept(
        self, key: str, record: PosterRecord, draw: Callable[[CatalogVersion, Poster], bytes]
    ) -> Path:
        """Return the cached file ``key``, drawn from the record within the budget if missing."""
        cached = self.cache.get(key)
        if cached:
            return cached
        version = self.version_of(record)
        with time_budget(self.render_budget):
            data = draw(version, record.poster)
        return self.cache.put(key, data)
