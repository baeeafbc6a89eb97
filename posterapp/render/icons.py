"""Icon tiles: colour emoji from the shipped font, or an image icon, as square RGBA tiles.

Every tile is cropped to its art and scaled so the art fills the square, so an emoji, a
picture and an SVG drawing of the same subject come out the same size side by side.
"""

from __future__ import annotations

import io

import resvg_py
from PIL import Image, ImageDraw

from . import caches, fonts

# An SVG drawn more than this much larger than its tile, to crop its padding away, is a
# drawing of a speck; it is shown as it is rather than rasterised at an enormous size.
SVG_MAX_ZOOM = 4


@caches.budgeted("emoji_tiles")
def emoji_tile(emoji: str, size: int) -> Image.Image:
    """Draw an emoji at the font's only size (109) and scale it into a ``size`` square."""
    face = fonts.emoji_face()
    left, top, right, bottom = face.getbbox(emoji, anchor="ls")
    # Whole pixels at the face's whole-pixel size (Pillow's hints allow fractional ones).
    big = Image.new("RGBA", (int(right - left), int(bottom - top)), (0, 0, 0, 0))
    ImageDraw.Draw(big).text((-left, -top), emoji, font=face, embedded_color=True, anchor="ls")
    return _square(big, size)


@caches.budgeted("image_tiles")
def image_tile(data: bytes, size: int) -> Image.Image:
    """Fit an icon (PNG, JPEG, WebP or SVG bytes) into a ``size`` square, keeping its shape."""
    if is_svg(data):
        return svg_tile(data, size)
    with Image.open(io.BytesIO(data)) as image:
        return _square(image.convert("RGBA"), size)


def is_svg(data: bytes) -> bool:
    """Tell an SVG from a picture by its first byte: PNG, JPEG and WebP never start with '<'."""
    return data.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] == b"<"


@caches.budgeted("svg_tiles")
def svg_tile(data: bytes, size: int) -> Image.Image:
    """Rasterise an SVG so its art fills a ``size`` square: drawn at that size, never upscaled.

    The drawing is rendered once to find where its art is, then again at the zoom that makes
    the art (not the canvas with its padding) ``size`` pixels across, so edges stay sharp.
    """
    markup = data.decode("utf-8-sig")
    fitted = _rasterise(markup, size)
    box = fitted.getbbox()
    if box is None:
        return Image.new("RGBA", (size, size), (0, 0, 0, 0))
    art = max(box[2] - box[0], box[3] - box[1])
    zoom = min(size / art, SVG_MAX_ZOOM)
    if zoom > 1.01:
        fitted = _rasterise(markup, round(size * zoom))
    return _square(fitted, size)


def _rasterise(markup: str, size: int) -> Image.Image:
    """Draw an SVG so its canvas fits a ``size`` square (the longer side is ``size``)."""
    probe = Image.open(io.BytesIO(_png(markup, width=size)))
    if probe.height > probe.width:
        probe = Image.open(io.BytesIO(_png(markup, height=size)))
    return probe.convert("RGBA")


def _png(markup: str, width: int | None = None, height: int | None = None) -> bytes:
    # System fonts are skipped: icons may not contain text (assets.check_svg), and loading
    # them would make a render depend on the machine.
    return bytes(
        resvg_py.svg_to_bytes(svg_string=markup, skip_system_fonts=True, width=width, height=height)
    )


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


@caches.budgeted("keyvisuals")
def svg_canvas(data: bytes, width: int, height: int) -> Image.Image:
    """Draw an SVG illustration ``width`` px wide, top-aligned in a ``width``×``height`` layer."""
    drawn = Image.open(io.BytesIO(_png(data.decode("utf-8-sig"), width=width))).convert("RGBA")
    layer = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    layer.alpha_composite(drawn.crop((0, 0, width, min(height, drawn.height))))
    return layer
