"""The banded PNG encoder: a poster's rows deflated in bands, the bands kept and reused.

How it works, and why the output is still one ordinary PNG:

* **Bands and their keys.** A poster is a frame (what every poster of a layout and pick
  count shares: background, fixed texts, blank cards, the QR code's paper) with parts drawn
  over it (texts, the choices' faces, the QR code), each spanning some rows and carrying a
  key that names everything its pixels depend on. Parts whose rows overlap merge into one
  band; the rows between them are static bands. A band is kept in ``caches.BANDS`` under
  ``(scope, top, bottom, part keys)`` — ``scope`` names the frame by content (catalog
  version id, layout, pick count) — and a static one in ``caches.STATIC_BANDS`` under
  ``(scope, top, bottom, STATIC)``. A
  part keyed None (a typed name, the QR code) makes its band this poster's own: drawn and
  deflated every time, never kept. So the same card at the same place in the same version
  is deflated once, whoever picked it, and a preview of the live catalog's YAML (same
  content hash) reuses what live posters left.
* **Full flush + Adler-32 combine.** Each band is deflated on its own (raw deflate, no
  header) and ended with a full flush: the last block closes on a byte boundary and the
  compressor forgets its history, so no later band refers back into it. Any sequence of
  such bands, a zlib header before them and an empty final block after, is one valid zlib
  stream. Its trailer, the Adler-32 of all the rows, is computed from the bands' own
  checksums and lengths (``adler32_combine``, as in zlib), so a kept band never needs its
  uncompressed rows again.
* **Filter 0.** Rows are stored unfiltered. PNG's Up, Average and Paeth filters predict
  from the row above, which for a band's first row lies in another band (another poster's,
  once bands are reused): the bytes would depend on the neighbour. Sub would not, but costs
  a pass over every pixel; the unfiltered bytes are ``tobytes()`` itself, and ISA-L deflates
  them as small as zlib level 1 does the whole image.
"""

from __future__ import annotations

import functools
import struct
import zlib
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import NamedTuple

from isal import isal_zlib
from PIL import Image

from . import caches

SIGNATURE = b"\x89PNG\r\n\x1a\n"
ZLIB_HEADER = b"\x78\x01"
FINAL_BLOCK = b"\x03\x00"  # an empty, final, fixed-Huffman deflate block
ADLER_BASE = 65521
STATIC = ("static",)  # the key of rows where nothing is drawn over the static layer


@dataclass(frozen=True)
class Part:
    """Something drawn per poster, spanning rows ``top``..``bottom`` of the canvas.

    ``key`` names everything its pixels depend on besides the static layer and its rows
    (None: they are this poster's alone), so a band of rows made of the same parts can be
    reused.
    """

    top: int
    bottom: int
    key: tuple | None
    # Draws onto a canvas whose (0, 0) is the poster's ``origin`` (x, y).
    draw: Callable[[Image.Image, tuple[int, int]], None]
    left: int  # and never beyond these columns
    right: int
    # When what ``draw`` does is to paste opaque pixels: those pixels, to be copied into the
    # rows as they are (a band made only of these needs no RGBA canvas to draw on).
    patch: Callable[[], Patch] | None = None


class Patch(NamedTuple):
    """Opaque pixels for a band's rows: RGB bytes, ``width`` × ``height``, at (x, y)."""

    x: int
    y: int
    width: int
    height: int
    rgb: bytes


@dataclass(frozen=True)
class Fragment:
    """A band of rows, deflated and flushed: ``data`` plus the Adler-32 of what it holds."""

    data: bytes
    adler: int
    length: int

    @property
    def size(self) -> int:
        return len(self.data)


def encode(
    size: tuple[int, int],
    scope: Hashable | None,
    layer: Callable[[], Image.Image],
    parts: list[Part],
) -> bytes:
    """Return the PNG of ``layer()`` with ``parts`` drawn over it, reusing kept bands.

    ``scope`` names the static layer's content (None: nothing is kept); ``layer`` is called
    only when a band must be drawn. The pixels are exactly those of drawing every part onto
    the layer; the same inputs always give the same bytes.
    """
    width, height = size
    layer = functools.cache(layer)  # drawn or unpacked once per poster at most
    rows = static_rows(scope, layer)
    fragments = []
    row = 0
    for top, bottom, key, members in bands(parts, height):
        if row < top:
            fragments.append(band(scope, layer, rows, width, row, top, STATIC, []))
        fragments.append(band(scope, layer, rows, width, top, bottom, key, members))
        row = bottom
    if row < height:
        fragments.append(band(scope, layer, rows, width, row, height, STATIC, []))
    return assemble(width, height, fragments)


class StaticRows:
    """A static layer's unfiltered PNG rows (filter byte 0, then RGB), kept deflated in
    chunks of ``CHUNK`` rows: ~95 KB instead of 6.2 MB for a 1080×1920 poster, so every
    layout of every theme (and the previews' versions) stays kept. A band inflates only the
    chunks it spans, ~0.1 ms each.
    """

    CHUNK = 32

    def __init__(self, raw: bytes | bytearray, width: int):
        self.width = width
        self.line = 1 + 3 * width
        step = self.CHUNK * self.line
        self.chunks = [
            isal_zlib.compress(raw[at : at + step], 1) for at in range(0, len(raw), step)
        ]

    @property
    def size(self) -> int:
        return sum(len(chunk) for chunk in self.chunks)

    def between(self, top: int, bottom: int) -> bytes:
        """Return the unfiltered rows ``top``..``bottom``."""
        first, last = top // self.CHUNK, (bottom - 1) // self.CHUNK
        raw = b"".join(isal_zlib.decompress(chunk) for chunk in self.chunks[first : last + 1])
        start = (top - first * self.CHUNK) * self.line
        return raw[start : start + (bottom - top) * self.line]

    def region(self, box: tuple[int, int, int, int]) -> Image.Image:
        """Return ``box`` (left, top, right, bottom) as an RGBA image to draw on."""
        left, top, right, bottom = box
        return _region(self.between(top, bottom), self.width, left, right)


TRANSLUCENT = StaticRows(b"", 0)  # kept for a layer that is not opaque: no rows to start from


def static_rows(scope, layer: Callable[[], Image.Image]) -> StaticRows | None:
    """Return the static layer's rows, kept deflated (``StaticRows``), or None.

    None when it is not opaque: parts blend differently over a translucent pixel, so bands
    are then drawn on the RGBA layer itself.
    """
    if scope is None:
        return None  # nothing is kept: bands are drawn on the layer itself
    found = caches.STATIC_ROWS.get(scope)
    if found is None:
        image = layer()
        opaque = image.mode == "RGB" or image.getchannel("A").getextrema() == (255, 255)
        found = (
            StaticRows(_unfiltered(image.tobytes("raw", "RGB"), image.width * 3), image.width)
            if opaque
            else TRANSLUCENT
        )
        caches.STATIC_ROWS.put(scope, found)
    return None if found is TRANSLUCENT else found


def bands(found: list[Part], height: int) -> list[list]:
    """Merge parts whose rows overlap into bands: (top, bottom, key, parts), top to bottom."""
    merged: list[list] = []
    for part in sorted(found, key=lambda p: (p.top, p.bottom)):
        top, bottom = max(0, part.top), min(height, part.bottom)
        if merged and top < merged[-1][1]:
            band = merged[-1]
            band[1] = max(band[1], bottom)
            band[2] = None if band[2] is None or part.key is None else (*band[2], part.key)
            band[3].append(part)
        else:
            merged.append([top, bottom, None if part.key is None else (part.key,), [part]])
    return merged


def band(
    scope, layer, rows, width: int, top: int, bottom: int, key, members: list[Part]
) -> Fragment:
    """Return the compressed rows top..bottom, from the cache when their content repeats.

    A new band starts from the static rows; only the columns its parts span are drawn
    (on an RGBA crop of them) and copied back.
    """
    # A band of several cards side by side (a grid row) seldom comes back: not worth keeping.
    repeats = scope is not None and key is not None and sum(1 for k in key if k[0] == "card") <= 1
    cache_key = (scope, top, bottom, key) if repeats else None
    # Rows every poster of a frame shares are few, deflated hard, and kept apart: the many
    # posters' own bands never push them out.
    kept = caches.STATIC_BANDS if key == STATIC else caches.BANDS
    if cache_key is not None:
        found = kept.get(cache_key)
        if found is not None:
            return found
    if rows is None:  # a translucent static layer: draw on it as it is
        static = layer()
        canvas = static.crop((0, top, static.width, bottom))
        for part in members:
            part.draw(canvas, (0, top))
        raw: bytes | bytearray = _unfiltered(canvas.tobytes("raw", "RGB"), canvas.width * 3)
    else:
        raw = _drawn_rows(rows, width, top, bottom, members)
    fragment = compress_rows(raw, hard=key == STATIC)
    if cache_key is not None:
        kept.put(cache_key, fragment)
    return fragment


def _drawn_rows(rows: StaticRows, width: int, top: int, bottom: int, members: list[Part]) -> bytes:
    """Return the unfiltered rows top..bottom: the static ones, with ``members`` drawn over."""
    raw = rows.between(top, bottom)
    if not members:
        return raw
    # The rows' bytes as a greyscale image one byte per pixel, so that Pillow copies pixels
    # into every row at once.
    band = Image.frombytes("L", (rows.line, bottom - top), raw)
    if all(part.patch for part in members):
        for patch in (part.patch() for part in members if part.patch):
            pixels = Image.frombytes("L", (3 * patch.width, patch.height), patch.rgb)
            band.paste(pixels, (1 + 3 * patch.x, patch.y - top))
        return band.tobytes()
    left = max(0, min(part.left for part in members))
    right = min(width, max(part.right for part in members))
    if right <= left:
        return raw
    canvas = _region(raw, width, left, right)
    for part in members:
        part.draw(canvas, (left, top))
    drawn = canvas.tobytes("raw", "RGB")
    band.paste(Image.frombytes("L", (3 * (right - left), bottom - top), drawn), (1 + 3 * left, 0))
    return band.tobytes()


def _region(raw: bytes | bytearray, width: int, left: int, right: int) -> Image.Image:
    """Return columns ``left``..``right`` of unfiltered rows as an RGBA image to draw on."""
    line = 1 + 3 * width
    first = 1 + 3 * left
    height = len(raw) // line
    view = memoryview(raw)[first : (height - 1) * line + first + 3 * (right - left)]
    region = Image.frombuffer(
        "RGB",
        (right - left, height),
        view,  # type: ignore[arg-type]  # Pillow reads any buffer; its hints omit memoryview
        "raw",
        "RGB",
        line,
        1,
    )
    return region.convert("RGBA")


def _unfiltered(pixels: bytes, stride: int) -> bytearray:
    """Return RGB rows of ``stride`` bytes each with a filter byte 0 before every row."""
    height = len(pixels) // stride
    raw = bytearray(height * (stride + 1))
    for row in range(height):
        start = row * (stride + 1) + 1
        raw[start : start + stride] = pixels[row * stride : (row + 1) * stride]
    return raw


def compress_rows(raw: bytes | bytearray, hard: bool) -> Fragment:
    """Deflate unfiltered PNG rows, ending with a full flush.

    Rows every poster shares are compressed hard, once (zlib level 9). All others are
    compressed with ISA-L: ~15× faster than zlib level 1 and as small, so a band seen for
    the first time costs a tenth of a millisecond.
    """
    if hard:
        deflate = zlib.compressobj(9, zlib.DEFLATED, -15, 9)
        data = deflate.compress(raw) + deflate.flush(zlib.Z_FULL_FLUSH)
    else:
        fast = isal_zlib.compressobj(1, isal_zlib.DEFLATED, -15)
        data = fast.compress(raw) + fast.flush(isal_zlib.Z_FULL_FLUSH)
    return Fragment(data, isal_zlib.adler32(raw), len(raw))


def adler32_combine(first: int, second: int, second_length: int) -> int:
    """Return the Adler-32 of two byte strings joined, from theirs (as zlib's C function)."""
    remainder = second_length % ADLER_BASE
    sum1 = first & 0xFFFF
    sum2 = (remainder * sum1) % ADLER_BASE
    sum1 += (second & 0xFFFF) + ADLER_BASE - 1
    sum2 += ((first >> 16) & 0xFFFF) + ((second >> 16) & 0xFFFF) + ADLER_BASE - remainder
    sum1 %= ADLER_BASE
    sum2 %= ADLER_BASE
    return sum1 | (sum2 << 16)


def _chunk(kind: bytes, data: bytes) -> bytes:
    return (
        struct.pack(">I", len(data))
        + kind
        + data
        + struct.pack(">I", zlib.crc32(data, zlib.crc32(kind)))
    )


def assemble(width: int, height: int, fragments: list[Fragment]) -> bytes:
    """Write an 8-bit RGB PNG whose image data is ``fragments`` in order, top to bottom."""
    adler = 1
    for fragment in fragments:
        adler = adler32_combine(adler, fragment.adler, fragment.length)
    stream = b"".join([ZLIB_HEADER, *(f.data for f in fragments), FINAL_BLOCK,
                       struct.pack(">I", adler)])  # fmt: skip
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return SIGNATURE + _chunk(b"IHDR", header) + _chunk(b"IDAT", stream) + _chunk(b"IEND", b"")
