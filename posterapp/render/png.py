"""PNG files assembled from independently compressed bands of rows.

A poster is mostly the same from one person to the next: only the rows with the name and
the QR code are truly new. Each band of rows is deflated on its own and ended with a full
flush, so compressed bands can be cached and concatenated into one valid zlib stream (their
Adler-32 checksums combine arithmetically). Rows are stored unfiltered (filter type 0), so a
band's bytes never depend on the rows around it.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass

from isal import isal_zlib
from PIL import Image

SIGNATURE = b"\x89PNG\r\n\x1a\n"
ZLIB_HEADER = b"\x78\x01"
FINAL_BLOCK = b"\x03\x00"  # an empty, final, fixed-Huffman deflate block
ADLER_BASE = 65521


@dataclass(frozen=True)
class Fragment:
    """A band of rows, deflated and flushed: ``data`` plus the Adler-32 of what it holds."""

    data: bytes
    adler: int
    length: int

    @property
    def size(self) -> int:
        return len(self.data)


def compress_band(band: Image.Image, hard: bool) -> Fragment:
    """Deflate an RGB band as unfiltered PNG rows, ending with a full flush.

    Rows every poster shares are compressed hard, once (zlib level 9). All others are
    compressed with ISA-L: ~15× faster than zlib level 1 and as small, so a band seen for
    the first time costs a tenth of a millisecond.
    """
    width, height = band.size
    stride = width * 3
    pixels = band.tobytes()
    raw = bytearray(height * (stride + 1))  # each row: filter byte 0, then its pixels
    for row in range(height):
        start = row * (stride + 1) + 1
        raw[start : start + stride] = pixels[row * stride : (row + 1) * stride]
    if hard:
        deflate = zlib.compressobj(9, zlib.DEFLATED, -15, 9)
        data = deflate.compress(raw) + deflate.flush(zlib.Z_FULL_FLUSH)
    else:
        deflate = isal_zlib.compressobj(1, isal_zlib.DEFLATED, -15)
        data = deflate.compress(raw) + deflate.flush(isal_zlib.Z_FULL_FLUSH)
    return Fragment(data, zlib.adler32(raw), len(raw))


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
