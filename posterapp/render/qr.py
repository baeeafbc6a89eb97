"""QR codes for posters: the scan URL as crisp square modules with a quiet zone."""

from __future__ import annotations

import functools

import qrcode
from PIL import Image, ImageDraw

QUIET_MODULES = 4  # the standard quiet zone; the white square around the code provides it
ERROR_CORRECTION = qrcode.constants.ERROR_CORRECT_M
# Any of the 8 mask patterns makes a valid code; choosing one instead of scoring all eight
# (the qrcode package does that in pure Python) makes a code ~8× faster.
MASK = 2


@functools.lru_cache(maxsize=64)
def _version_for(length: int) -> int:
    """Return the smallest QR version that holds ``length`` bytes at our error correction."""
    probe = qrcode.QRCode(error_correction=ERROR_CORRECTION)
    probe.add_data("x" * length)
    return probe.best_fit()


def modules_of(url: str) -> list[list[bool]]:
    """Return the QR code's modules for ``url`` (True: dark), without a quiet zone."""
    code = qrcode.QRCode(
        version=_version_for(len(url.encode())),
        error_correction=ERROR_CORRECTION,
        box_size=1,
        border=0,
        mask_pattern=MASK,
    )
    code.add_data(url)
    code.make(fit=False)
    return code.get_matrix()


def qr_tile(url: str, size: int, color: str, background: str, radius: int) -> Image.Image:
    """Return a ``size`` square RGBA tile: ``background`` rounded square, the code centred."""
    matrix = modules_of(url)
    modules = len(matrix)
    module_px = size // (modules + 2 * QUIET_MODULES)
    if module_px < 1:
        raise ValueError(f"a {size} px square is too small for a QR code of {modules} modules")
    bits = Image.new("1", (modules, modules), 0)
    bits.putdata([1 if dark else 0 for row in matrix for dark in row])
    dark = bits.resize((modules * module_px,) * 2, Image.Resampling.NEAREST).convert("L")
    tile = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    ImageDraw.Draw(tile).rounded_rectangle((0, 0, size - 1, size - 1), radius, fill=background)
    ink = Image.new("RGBA", dark.size, color)
    offset = (size - dark.width) // 2
    tile.paste(ink, (offset, offset), dark)
    return tile
