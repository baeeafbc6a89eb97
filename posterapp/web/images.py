"""The hottest path, before Flask: send a poster image that is already rendered.

A cached image is only ever written for a stored poster and never changes, so serving it
needs no routing, no database and no per-request extensions: this WSGI layer answers
``GET /p/<id>.png`` (and the share page's ``/p/<id>.webp``, and the card ``/c/<id>.png``)
straight from the image cache, and hands every other request, and every cache miss, to the
Flask app, which renders what is missing.

The body goes out as one bytes object, not through ``wsgi.file_wrapper``: under gevent,
gunicorn's "sendfile" is a loop of 8 KB reads and sends (gevent cannot use os.sendfile on
its non-blocking sockets), about 25 system calls for a poster against two or three for one
buffer, and reading a file the page cache holds costs microseconds.
"""

from __future__ import annotations

import os

from ..cache import ImageCache
from ..urls import POSTER_IMAGES
from .headers import IMAGE_HEADERS

# (path letter, extension) -> (cache key suffix, ETag suffix, media type); web/share.py
# serves the same files (and renders the missing ones) with the same ETags.
KINDS = {
    ("p", "png"): ("", "", "image/png"),
    ("p", "webp"): ("-light", ".light", "image/webp"),
    ("c", "png"): ("-card", ".card", "image/png"),
}
YEAR = 365 * 24 * 3600
# For what never changes once made: poster images, cards, a catalog version's icons.
IMMUTABLE = f"public, max-age={YEAR}, immutable"


class CachedImages:
    def __init__(self, app, cache: ImageCache):
        self.app = app
        self.cache = cache

    def __call__(self, environ, start_response):
        method = environ.get("REQUEST_METHOD")
        path = environ.get("PATH_INFO", "")
        found = POSTER_IMAGES.fullmatch(path) if method in {"GET", "HEAD"} else None
        kind = KINDS.get((found.group(1), found.group(3))) if found else None
        if found is None or kind is None:
            return self.app(environ, start_response)
        poster_id = found.group(2)
        key_suffix, etag_suffix, mimetype = kind
        key = poster_id + key_suffix
        etag = f'"{poster_id}{etag_suffix}"'
        headers = [("Cache-Control", IMMUTABLE), ("ETag", etag), *IMAGE_HEADERS]
        conditional = environ.get("HTTP_IF_NONE_MATCH")
        if conditional and matches(etag, conditional):
            if not os.path.isfile(self.cache.where(key)):
                return self.app(environ, start_response)
            start_response("304 Not Modified", headers)
            return []
        body: bytes | None
        if method == "HEAD":
            try:
                size = os.path.getsize(self.cache.where(key))
            except OSError:
                return self.app(environ, start_response)
            body = None
        else:
            body = self.cache.read(key)
            if body is None:  # not rendered yet (or the cache was cleared): Flask makes it
                return self.app(environ, start_response)
            size = len(body)
        headers += [("Content-Type", mimetype), ("Content-Length", str(size))]
        start_response("200 OK", headers)
        return [] if body is None else [body]


def matches(etag: str, if_none_match: str) -> bool:
    """Whether an If-None-Match header names this ETag (or is ``*``: any version will do)."""
    tags = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
    return etag in tags or "*" in tags
