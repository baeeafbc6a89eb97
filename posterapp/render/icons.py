"""Icon tiles: colour emoji from the shipped font, or an image icon, as square RGBA tiles."""

from __future__ import annotations

import functools
import io

from PIL import Image, ImageDraw

from . import fonts


@functools.lru_cache(maxsize=512)
def emoji_tile(emoji: str, size: int) -> Image.Image:
    """Draw an emoji at the font's only size (109) and scale it into a ``size`` square."""
    face = fonts.emoji_face()
    left, top, right, bottom = face.getbbox(emoji, anchor="ls")
    big = Image.new("RGBA", (right - left, bottom - top), (0, 0, 0, 0))
    ImageDraw.Draw(big).text((-left, -top), emoji, font=face, embedded_color=True, anchor="ls")
    return _square(big, size)


@functools.lru_cache(maxsize=128)
def image_tile(data: bytes, size: int) -> Image.Image:
    """Scale an icon image (PNG, JPEG or WebP bytes) into a ``size`` square, keeping its shape."""
    with Image.open(io.BytesIO(data)) as image:
        return _square(image.convert("RGBA"), size)


def _square(image: Image.Image, size: int) -> Image.Image:
    if image.width == 0 or image.height == 0:
        return Image.new("RGBA", (size, size), (0, 0, 0, 0))
    box = image.getbbox() or (0, 0, image.width, image.height)
    image = image.crop(box)
    scale = size / max(image.width, image.height)
    scaled = image.resize(
        (max(1, round(image.width * scale)), max(1, round(image.height * scale))),
        Image.Resampling.LANCZOS,
    )
    tile = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    tile.alpha_composite(scaled, ((size - scaled.width) // 2, (size - scaled.height) // 2))
    return tile
