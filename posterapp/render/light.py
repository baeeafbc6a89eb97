"""The light rendition of a poster: what the share page paints first, while the PNG arrives.

480 px wide is sharp enough for a first look at a phone's 360 CSS px. WebP at quality 55 is
the lightest of the formats measured that keeps the QR code readable and the text clean
(`bench/images.py`, table in docs/capacity.md): about 19-34 KB against the PNG's 140-240 KB,
a third smaller than a progressive JPEG of the same quality and ~2.5 dB closer to the
picture. The pixel-exact PNG stays what people save and share.
"""

from __future__ import annotations

import io

from PIL import Image

LIGHT_WIDTH = 480
LIGHT_QUALITY = 55
# libwebp's effort, 0-6: 4 encodes in half the time of 6 for ~3 % more bytes (measured on
# every layout in both themes); the rendition is made once per poster, on its first view.
LIGHT_METHOD = 4


def light_size(width: int, height: int) -> tuple[int, int]:
    return LIGHT_WIDTH, round(height * LIGHT_WIDTH / width)


def downscale(png: bytes) -> Image.Image:
    """Return the poster at the light width, as RGB (Lanczos: the text stays clean)."""
    with Image.open(io.BytesIO(png)) as full:
        size = light_size(full.width, full.height)
        return full.convert("RGB").resize(size, Image.Resampling.LANCZOS)


def light_webp(png: bytes) -> bytes:
    """Return the light WebP rendition of a poster's PNG."""
    out = io.BytesIO()
    downscale(png).save(out, format="WEBP", quality=LIGHT_QUALITY, method=LIGHT_METHOD)
    return out.getvalue()
