"""Every public address of posterapp: one function per path, and the absolute URLs on PUBLIC_URL.

The web pages, the JSON API, the renderer (QR codes, sample posters), the CLI and the tools
build their links here and nowhere else; it imports no Flask, so all of them can. The routes
that answer these paths declare them again (web/share.py, web/go.py, web/picker.py);
tests/test_urls.py checks that every path built here reaches the route meant for it.

A path of an existing poster never changes: its QR code holds the scan URL, and chat apps,
platforms and people keep the others.
"""

from __future__ import annotations

import re
from urllib.parse import urlencode, urlsplit

from .model import ID_PATTERN

# What a share page is opened with: by its maker right after making it, or from a scan (which
# was counted already). Each is one query parameter, read back by the share page.
JUST_MADE = ("new", "1")
FROM_SCAN = ("from", "scan")


def absolute(public_url: str, path: str) -> str:
    """Return the absolute URL of ``path`` on the public address ``public_url``."""
    return public_url.rstrip("/") + path


def poster_image(poster_id: str) -> str:
    """The poster as a PNG: what WeChat saves on a long press and what the QR scanner sees."""
    return f"/p/{poster_id}.png"


# The poster image's path, read back by the WSGI layer that sends cached images (web/images.py).
POSTER_IMAGE = re.compile(rf"/p/({ID_PATTERN})\.png")
# The paths of a poster's three images (poster_image, light_image, card_image), read back by
# the same layer: (p or c, the id, png or webp).
POSTER_IMAGES = re.compile(rf"/([pc])/({ID_PATTERN})\.(png|webp)")


def light_image(poster_id: str) -> str:
    """The poster as a small WebP, painted first on the share page."""
    return f"/p/{poster_id}.webp"


def card_image(poster_id: str) -> str:
    """The 1200×630 Open Graph card of a poster."""
    return f"/c/{poster_id}.png"


def share_page(poster_id: str, *, just_made: bool = False, from_scan: bool = False) -> str:
    """The poster's share page; for its maker right after making it, or after a scan."""
    query = [pair for pair, wanted in ((JUST_MADE, just_made), (FROM_SCAN, from_scan)) if wanted]
    return f"/s/{poster_id}" + (f"?{urlencode(query)}" if query else "")


def scan(poster_id: str) -> str:
    """What a poster's QR code opens: counts the scan, then shows the share page.

    ``/Q/`` is upper case for the QR code's alphanumeric mode (see ``scan_url``). Posters
    made before ids went upper case hold ``/q/`` in their stored URL; it still answers.
    """
    return f"/Q/{poster_id}"


def scan_url(public_url: str, poster_id: str) -> str:
    """Return what a new poster's QR code opens: ``https://HOST/Q/ID``, upper case after ``://``.

    Host, ``/Q/`` and the (upper-case) id are all in the QR alphanumeric set, so a
    40-character production host still fits a version 4 code at error correction Q.
    """
    return upper_case_host(absolute(public_url, scan(poster_id)))


def upper_case_host(url: str) -> str:
    """Return ``url`` with its host in upper case (hosts ignore case; paths do not).

    A QR code holds 11 bits per 2 characters of ``0-9 A-Z $%*+-./:`` and space (alphanumeric
    mode) against 16 in byte mode, so ``https://HOST/Q/ID`` is a byte segment of 5 characters
    and an alphanumeric one for the rest. The scheme stays lower case: some scanners only
    see a link in a lower-case ``http(s)://``. Browsers lower-case the host again.
    """
    parts = urlsplit(url)
    if not parts.scheme or not parts.netloc.isascii():
        return url  # an internationalised host is left as it is
    head = f"{parts.scheme}://"
    return head + parts.netloc.upper() + url[len(head) + len(parts.netloc) :]


def go_choice(poster_id: str, choice_id: str) -> str:
    """A tracked link from a poster to the service behind one of its picks."""
    return f"/go/{poster_id}/{choice_id}"


def go_offer(poster_id: str, offer_id: str) -> str:
    """A tracked link from a poster to an offer shown with it."""
    return f"/go/{poster_id}/offer/{offer_id}"


def picker(ref: str | None = None) -> str:
    """The picker; with ``ref``, for a friend of that poster's maker (counted as a referral)."""
    return "/" + (f"?{urlencode({'ref': ref})}" if ref else "")


def preview(version: str, picks: list[str], name: str, layout: str) -> str:
    """A small picture of the poster these picks would make (the version keeps caches honest)."""
    query = {"v": version, "choices": ",".join(picks), "name": name, "layout": layout}
    return f"/preview.jpg?{urlencode(query)}"


def layout_thumbnail(version: str, layout_id: str) -> str:
    """A layout's thumbnail with sample picks, in the picker's step two."""
    return f"/layouts/{version}/{layout_id}.jpg"


def catalog_asset(version: str, path: str) -> str:
    """An image of a catalog version (an icon), immutable: the version names its content."""
    return f"/assets/{version}/{path}"
