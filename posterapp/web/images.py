"""The hottest path, before Flask: send a poster image that is already rendered.

A cached image is only ever written for a stored poster and never changes, so serving it
needs no routing, no database and no per-request extensions: this WSGI layer answers
``GET /p/<id>.png`` straight from the cache file (with sendfile where the server has it) and
hands every other request, and every cache miss, to the Flask app.
"""

from __future__ import annotations

import os

from ..cache import ImageCache
from ..urls import POSTER_IMAGE
from .headers import IMAGE_HEADERS

YEAR = 365 * 24 * 3600
# For what never changes once made: poster images, cards, a catalog version's icons.
IMMUTABLE = f"public, max-age={YEAR}, immutable"


class CachedImages:
    def __init__(self, app, cache: ImageCache):
        self.app = app
        self.cache = cache

    def __call__(self, environ, start_response):
        method = environ.get("REQUEST_METHOD")
        found = (
            POSTER_IMAGE.fullmatch(environ.get("PATH_INFO", ""))
            if method in {"GET", "HEAD"}
            else None
        )
        path = self.cache.get(found.group(1)) if found else None
        if found is None or path is None:
            return self.app(environ, start_response)
        etag = f'"{found.group(1)}"'
        headers = [
            ("Cache-Control", IMMUTABLE),
            ("ETag", etag),
            *IMAGE_HEADERS,
        ]
        if matches(etag, environ.get("HTTP_IF_NONE_MATCH", "")):
            start_response("304 Not Modified", headers)
            return []
        size = os.path.getsize(path)
        headers += [("Content-Type", "image/png"), ("Content-Length", str(size))]
        start_response("200 OK", headers)
        if method == "HEAD":
            return []
        file = open(path, "rb")  # noqa: SIM115 - the server closes it after sending
        wrapper = environ.get("wsgi.file_wrapper")
        return wrapper(file, 65536) if wrapper else _chunks(file)


def matches(etag: str, if_none_match: str) -> bool:
    """Whether an If-None-Match header names this ETag (or is ``*``: any version will do)."""
    tags = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
    return etag in tags or "*" in tags


def _chunks(file):
    with file:
        while chunk := file.read(65536):
            yield chunk
