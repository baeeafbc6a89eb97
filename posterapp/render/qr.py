"""QR codes for posters: the scan URL as crisp square modules with a quiet zone.

A friend scans the poster from a phone photo of a screen: smaller, tilted, soft, noisy and
JPEG-compressed. What makes that work is big modules (at least ``MIN_MODULE_PX`` on the
1080 px poster, drawn at a whole number of pixels each), a 4-module quiet zone and error
correction Q or H. A tile of 370 px holds version 3 (29 modules + 8 of quiet zone) at 10 px
and version 4 (33 + 8) at 9 px. Version 4 at Q holds 384 data bits: exactly ``https`` in
byte mode and ``://`` + a 40-character host + ``/Q/`` + a 12-character poster id in
alphanumeric mode, which is why scan URLs have an upper-case host (see ``urls.scan_url``).

Posters made before this (EC M, the modules whatever the old 280–290 px tiles allowed: 7 px)
must keep drawing the same pixels, since a poster renders from its stored record and catalog
version. Their tiles are too small for a phone code, and that is what selects the legacy code.
"""

from __future__ import annotations

from dataclasses import dataclass

import qrcode
from PIL import Image, ImageDraw
from qrcode.exceptions import DataOverflowError

from .. import urls
from . import caches

QUIET_MODULES = 4  # the standard quiet zone; the white square around the code provides it
MIN_MODULE_PX = 9  # smaller modules blur into each other in a phone photo of a screen
# H where it fits in the version Q needs: more error correction, the same module size.
PHONE_ERROR_CORRECTION = (qrcode.constants.ERROR_CORRECT_H, qrcode.constants.ERROR_CORRECT_Q)
LEGACY_ERROR_CORRECTION = qrcode.constants.ERROR_CORRECT_M
LEVEL_NAMES = {
    qrcode.constants.ERROR_CORRECT_L: "L",
    qrcode.constants.ERROR_CORRECT_M: "M",
    qrcode.constants.ERROR_CORRECT_Q: "Q",
    qrcode.constants.ERROR_CORRECT_H: "H",
}
# Any of the 8 mask patterns makes a valid code; choosing one instead of scoring all eight
# (the qrcode package does that in pure Python) makes a code ~6× faster.
MASK = 2
# The address drawn in previews and layout thumbnails: never scanned, the same every time,
# so its tiles are kept (a poster's own address is new each time and never is).
PLACEHOLDER_URL = urls.absolute("https://posters.example", urls.scan("PREVIEW00000"))


@dataclass(frozen=True)
class Code:
    """A QR code laid out for a tile: its modules (True: dark) and how big each is drawn."""

    matrix: list[list[bool]]
    version: int
    error_correction: str  # L, M, Q or H
    module_px: int

    @property
    def modules(self) -> int:
        return len(self.matrix)

    def quiet_px(self, size: int) -> int:
        """Return the light margin around the code in a ``size`` tile (the smaller side)."""
        return (size - self.modules * self.module_px) // 2


def _matrix(url: str, version: int, error_correction: int) -> list[list[bool]]:
    code = qrcode.QRCode(
        version=version,
        error_correction=error_correction,
        box_size=1,
        border=0,
        mask_pattern=MASK,
    )
    code.add_data(url)
    code.make(fit=False)
    return code.get_matrix()


def _smallest_version(url: str, error_correction: int) -> int | None:
    probe = qrcode.QRCode(error_correction=error_correction)
    probe.add_data(url)
    try:
        return probe.best_fit()
    except DataOverflowError:
        return None


def _fits(url: str, version: int, error_correction: int) -> bool:
    probe = qrcode.QRCode(version=version, error_correction=error_correction)
    probe.add_data(url)
    try:
        return probe.best_fit(start=version) == version
    except DataOverflowError:
        return False


def phone_code(url: str, size: int) -> Code | None:
    """Return the code for ``url`` in a ``size`` tile with modules ≥ 9 px, or None if none fits."""
    plan = _phone_plan(_shape(url), size)
    if plan is None:
        return None
    version, level, module_px = plan
    return Code(_matrix(url, version, level), version, LEVEL_NAMES[level], module_px)


ALPHANUMERIC = set("ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:")


def _shape(url: str) -> str:
    """Return ``url`` with each character replaced by one of its QR mode (digit, A-Z…, other).

    How a URL splits into segments, and so which version and level fit, depends only on
    this: every poster of one server has the same shape, so the probing runs once.
    """
    return "".join("0" if c.isdigit() else "A" if c in ALPHANUMERIC else "a" for c in url)


@caches.memo("qr.phone_plan")
def _phone_plan(shape: str, size: int) -> tuple[int, int, int] | None:
    level_q = PHONE_ERROR_CORRECTION[-1]
    version = _smallest_version(shape, level_q)
    if version is None:
        return None
    module_px = size // (17 + 4 * version + 2 * QUIET_MODULES)
    if module_px < MIN_MODULE_PX:
        return None
    level = next(e for e in PHONE_ERROR_CORRECTION if _fits(shape, version, e))
    return version, level, module_px


@caches.memo("qr.legacy_version")
def _legacy_version_for(length: int) -> int:
    """Return the smallest QR version that holds ``length`` bytes at EC M."""
    probe = qrcode.QRCode(error_correction=LEGACY_ERROR_CORRECTION)
    probe.add_data("x" * length)
    return probe.best_fit()


def legacy_code(url: str, size: int) -> Code:
    """Return the code posterapp drew before phone codes: EC M, version by byte length."""
    version = _legacy_version_for(len(url.encode()))
    matrix = _matrix(url, version, LEGACY_ERROR_CORRECTION)
    module_px = size // (len(matrix) + 2 * QUIET_MODULES)
    if module_px < 1:
        raise ValueError(f"a {size} px square is too small for a QR code of {len(matrix)} modules")
    return Code(matrix, version, "M", module_px)


def code_for(url: str, size: int) -> Code:
    """Return the code drawn for ``url`` in a ``size`` px tile.

    A phone code when the tile has room for one; otherwise (the 280–290 px tiles of catalog
    versions made before phone codes, which their posters keep) the code drawn back then.
    """
    return phone_code(url, size) or legacy_code(url, size)


def qr_tile(url: str, size: int, color: str, background: str, radius: int) -> Image.Image:
    """Return a ``size`` square RGBA tile: ``background`` rounded square, the code centred."""
    tile = paper(size, background, radius)
    dark, offset = dark_modules(url, size)
    tile.paste(color, (offset, offset, offset + dark.width, offset + dark.height), dark)
    return tile


def paper(size: int, background: str, radius: int) -> Image.Image:
    """Return the rounded square a code is drawn on: the same on every poster of a layout,
    so it is drawn into the static layer, and a poster pastes only its dark modules."""
    tile = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    ImageDraw.Draw(tile).rounded_rectangle((0, 0, size - 1, size - 1), radius, fill=background)
    return tile


def dark_modules(url: str, size: int) -> tuple[Image.Image, int]:
    """Return the code for ``url`` in a ``size`` tile as a "1" mask of its dark modules, and
    how far from the tile's edges it stands (the same both ways).

    Do not draw on it: the placeholder's are shared.
    """
    if url == PLACEHOLDER_URL:
        return _placeholder_modules(size)
    return _dark_modules(url, size)


@caches.memo("qr.placeholder")
def _placeholder_modules(size: int) -> tuple[Image.Image, int]:
    return _dark_modules(PLACEHOLDER_URL, size)


def _dark_modules(url: str, size: int) -> tuple[Image.Image, int]:
    code = code_for(url, size)
    modules, module_px = code.modules, code.module_px
    bits = Image.new("1", (modules, modules), 0)
    bits.putdata([1 if dark else 0 for row in code.matrix for dark in row])
    # A "1" mask: pasting through it copies, where an "L" one blends (7× slower).
    dark = bits.resize((modules * module_px,) * 2, Image.Resampling.NEAREST)
    return dark, (size - dark.width) // 2
