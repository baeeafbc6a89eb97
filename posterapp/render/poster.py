"""Render a poster: as an image, or as PNG bytes through the banded encoder.

What is drawn where is ``compose``; how rows become a PNG, reusing bands, is ``banding``;
what is kept between posters is ``caches``.
"""

from __future__ import annotations

import functools
import io
from typing import TYPE_CHECKING

from PIL import Image

from . import banding, caches, compose

if TYPE_CHECKING:
    from ..model import Poster
    from ..versions import CatalogVersion


def render(version: CatalogVersion, poster: Poster) -> Image.Image:
    """Draw ``poster`` with the catalog and layouts of ``version``; return an RGB image."""
    canvas = compose.frame(version, poster.layout, len(poster.picks))
    for part in compose.parts(version, poster):
        part.draw(canvas, (0, 0))
    return canvas.convert("RGB")


def render_small(version: CatalogVersion, poster: Poster, factor: int) -> Image.Image:
    """Return ``render(version, poster).reduce(factor)``, drawing only the rows parts cover.

    A box filter works block by block, so the static layer is reduced once per version and
    layout (kept), and each band of parts is drawn on a crop of the layer whose edges fall on
    block boundaries, reduced and pasted in: the same pixels for a fraction of the work.
    """
    layout = version.layouts[poster.layout]
    width, height = layout.canvas.width, layout.canvas.height
    count = len(poster.picks)

    @functools.cache  # drawn or unpacked once per poster at most
    def static() -> Image.Image:
        return compose.frame(version, layout.id, count)

    key = (version.version, layout.id, count, factor) if version.version else None
    small = caches.kept_image(
        caches.SMALL_LAYERS, key, lambda: static().convert("RGB").reduce(factor)
    )
    # The static rows render_png keeps (the same scope), which start a band's crop.
    rows = banding.static_rows(scope(version, layout.id, count), static)
    boxes: list[list] = []  # [left, top, right, bottom, parts] on block boundaries
    for top, bottom, _key, members in banding.bands(compose.parts(version, poster), height):
        left = max(0, min(part.left for part in members)) // factor * factor
        right = min(width, -(-max(part.right for part in members) // factor) * factor)
        top, bottom = top // factor * factor, min(height, -(-bottom // factor) * factor)
        if boxes and top < boxes[-1][3]:  # rounding made it touch the band above: one box
            above = boxes[-1]
            above[0], above[2] = min(above[0], left), max(above[2], right)
            above[3] = max(above[3], bottom)
            above[4].extend(members)
        else:
            boxes.append([left, top, right, bottom, list(members)])
    for left, top, right, bottom, members in boxes:
        box = (left, top, right, bottom)
        canvas = static().crop(box) if rows is None else rows.region(box)
        for part in members:
            part.draw(canvas, (left, top))
        small.paste(canvas.convert("RGB").reduce(factor), (left // factor, top // factor))
    return small


# The light rendition the share page paints first (inside the page) while the PNG arrives:
# half size is sharp at a phone's 360 CSS px; WebP q45 keeps text and QR code clean at ~29 KB
# (the PNG: ~200–230 KB). Method 2 makes it as small as method 6 does, in a third of the time.
LIGHT_REDUCE = 2
LIGHT_QUALITY = 45
LIGHT_METHOD = 2


def render_light(version: CatalogVersion, poster: Poster) -> bytes:
    """Return the poster at half size as WebP: what a phone shows before the PNG is in."""
    out = io.BytesIO()
    render_small(version, poster, LIGHT_REDUCE).save(
        out, format="WEBP", quality=LIGHT_QUALITY, method=LIGHT_METHOD
    )
    return out.getvalue()


def render_png(version: CatalogVersion, poster: Poster) -> bytes:
    """Render ``poster`` as PNG bytes, fast: only the rows unique to it are drawn and deflated.

    The pixels are exactly those of ``render``; the same inputs always give the same bytes.
    """
    layout = version.layouts[poster.layout]
    count = len(poster.picks)
    return banding.encode(
        (layout.canvas.width, layout.canvas.height),
        scope(version, layout.id, count),
        lambda: compose.frame(version, layout.id, count),
        compose.parts(version, poster),
    )


def scope(version: CatalogVersion, layout_id: str, count: int) -> tuple | None:
    """Name a layout's frame for ``count`` picks by content for the band caches (None: keep
    nothing)."""
    return ("poster", version.version, layout_id, count) if version.version else None


def render_png_reference(version: CatalogVersion, poster: Poster) -> bytes:
    """Render and encode with Pillow's own PNG writer: the plain way, kept to compare with."""
    out = io.BytesIO()
    render(version, poster).save(out, format="PNG", compress_level=6)
    return out.getvalue()
