"""Getting the pages to a phone on a slow network: hashed static files, gzip, the favicon.

Static files are served under content-hashed names (``app.3f9c2a1b7d.css``) with a year's
immutable cache, so a returning visitor revalidates nothing; a changed file gets a new name.
Each file is read once at start-up and kept with its gzip form. Pages, CSS, JS and SVG are
gzipped on the way out when the client takes it (the picker, its CSS and script inside: 64 KB
as 15 KB).
"""

from __future__ import annotations

import gzip
import hashlib
import mimetypes
import re
from dataclasses import dataclass
from pathlib import Path

from flask import Flask, Response, abort, request
from markupsafe import Markup

from .images import IMMUTABLE

# What the pages are made of. The JSON API stays as it is: its answers are small, and its
# clients (and the WSGI test clients that fuzz it) need not decode anything.
COMPRESSIBLE = {
    "text/html",
    "text/css",
    "application/javascript",
    "text/javascript",
    "image/svg+xml",
}
MIN_COMPRESS = 600  # bytes: below about one packet, gzip's header costs more than it saves
# Unhashed static names (old links, bookmarks) stay valid but are checked each time.
REVALIDATE = "no-cache"


@dataclass(frozen=True)
class StaticFile:
    body: bytes
    gzipped: bytes | None
    mimetype: str
    etag: str


def load_static(folder: Path) -> tuple[dict[str, StaticFile], dict[str, str]]:
    """Read every static file; return {served name: file} and {plain name: hashed name}."""
    files: dict[str, StaticFile] = {}
    names: dict[str, str] = {}
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        plain = path.relative_to(folder).as_posix()
        body = path.read_bytes()
        digest = hashlib.sha256(body).hexdigest()[:10]
        stem, dot, ext = plain.rpartition(".")
        hashed = f"{stem}.{digest}.{ext}" if dot else f"{plain}.{digest}"
        mimetype = mimetypes.guess_type(plain)[0] or "application/octet-stream"
        if mimetype.startswith("text/") or mimetype == "application/javascript":
            mimetype += "; charset=utf-8"
        squeezed = gzip.compress(body, 9, mtime=0)
        gzipped = squeezed if mimetype.split(";")[0] in COMPRESSIBLE else None
        found = StaticFile(body, gzipped, mimetype, digest)
        files[plain] = files[hashed] = found
        names[plain] = hashed
    return files, names


def squeeze(name: str, text: str) -> str:
    """Drop comments and indentation from our own CSS or JS before it goes into a page.

    Deliberately simple, for files written here: CSS comments, and JS lines that are only a
    comment; nothing inside a line of code is touched.
    """
    if name.endswith(".css"):
        text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    lines = (line.strip() for line in text.splitlines())
    if name.endswith(".js"):
        lines = (line for line in lines if not line.startswith("//"))
    return "\n".join(line for line in lines if line)


def accepts_gzip() -> bool:
    return "gzip" in request.headers.get("Accept-Encoding", "").lower()


def send_static(found: StaticFile, cache_control: str) -> Response:
    squeezed = found.gzipped is not None and accepts_gzip()
    # Two encodings are two representations: each gets its own ETag.
    etag = f"{found.etag}-gz" if squeezed else found.etag
    if etag in request.if_none_match:
        response = Response(status=304)
    elif squeezed:
        response = Response(found.gzipped, mimetype=found.mimetype)
        response.headers["Content-Encoding"] = "gzip"
    else:
        response = Response(found.body, mimetype=found.mimetype)
    response.headers["ETag"] = f'"{etag}"'
    response.headers["Cache-Control"] = cache_control
    if found.gzipped is not None:
        response.vary.add("Accept-Encoding")
    return response


def init_app(app: Flask) -> None:
    """Serve static files by content hash, gzip text responses, answer /favicon.ico."""
    assert app.static_folder is not None, "create_app keeps Flask's static folder"
    files, names = load_static(Path(app.static_folder))

    @app.url_defaults
    def hashed_static_names(endpoint: str, values: dict) -> None:
        if endpoint == "static" and values.get("filename") in names:
            values["filename"] = names[values["filename"]]

    def static(filename: str):
        found = files.get(filename)
        if found is None:
            abort(404)
        hashed = filename not in names  # names maps each plain name to its hashed one
        return send_static(found, IMMUTABLE if hashed else REVALIDATE)

    app.view_functions["static"] = static

    inlined = {name: squeeze(name, found.body.decode("utf-8")) for name, found in files.items()
               if name.endswith((".css", ".js")) and name in names}  # fmt: skip

    def inline_static(*filenames: str) -> Markup:
        """Static files' text, for a nonce'd block in the page (no round trip before paint)."""
        return Markup("\n".join(inlined[name] for name in filenames))

    app.jinja_env.globals["inline_static"] = inline_static

    @app.get("/favicon.ico")
    def favicon():
        return send_static(files["favicon.ico"], "public, max-age=86400")

    @app.after_request
    def compress(response: Response) -> Response:
        if (
            response.direct_passthrough
            or response.is_streamed
            or response.status_code < 200
            or response.status_code in (204, 304)
            or "Content-Encoding" in response.headers
            or response.mimetype not in COMPRESSIBLE
        ):
            return response
        response.vary.add("Accept-Encoding")
        if request.method == "HEAD" or not accepts_gzip():
            return response
        body = response.get_data()
        if len(body) < MIN_COMPRESS:
            return response
        response.set_data(gzip.compress(body, 6, mtime=0))
        response.headers["Content-Encoding"] = "gzip"
        return response
