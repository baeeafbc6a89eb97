"""Render a poster: as an image, or as PNG bytes through the banded encoder.

What is drawn where is ``compose``; how rows become a PNG, reusing bands, is ``banding``;
what is kept between posters is ``caches``.
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

from PIL import Image

from . import banding, compose

if TYPE_CHECKING:
    from ..model import Poster
    from ..versions import CatalogVersion


def render(version: CatalogVersion, poster: Poster) -> Image.Image:
    """Draw ``poster`` with the catalog and layouts of ``version``; return an RGB image."""
    canvas = compose.static_layer(version, poster.layout).copy()
    for part in compose.parts(version, poster):
        part.draw(canvas, (0, 0))
    return canvas.convert("RGB")


def render_png(version: CatalogVersion, poster: Poster) -> bytes:
    """Render ``poster`` as PNG bytes, fast: only the rows unique to it are drawn and deflated.

    The pixels are exactly those of ``render``; the same inputs always give the same bytes.
    """
    layout = version.layouts[poster.layout]
    scope = ("poster", version.version, layout.id) if version.version else None
    return banding.encode(
        (layout.canvas.width, layout.canvas.height),
        scope,
        lambda: compose.static_layer(version, layout.id),
        compose.parts(version, poster),
    )


def render_png_reference(version: CatalogVersion, poster: Poster) -> bytes:
    """Render and encode with Pillow's own PNG writer: the plain way, kept to compare with."""
    out = io.BytesIO()
    render(version, poster).save(out, format="PNG", compress_level=6)
    return out.getvalue()
