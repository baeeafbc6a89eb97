"""QR codes for posters: the scan URL as crisp square modules with a quiet zone."""

from __future__ import annotations

import functools

import qrcode
from PIL import Image, ImageDraw

QUIET_MODULES = 4  # the standard quiet zone; the white square around the code provides it


@functools.lru_cache(maxsize=256)
def qr_tile(url: str, size: int, color: str, background: str, radius: int) -> Image.Image:
    """Return a ``size`` square RGBA tile: ``background`` rounded square, the code centred."""
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=1, border=0)
    code.add_data(url)
    code.make(fit=True)
    matrix = code.get_matrix()
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
