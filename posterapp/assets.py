"""Where the images of catalogs and layouts come from: files under assets/, or uploads.

Paths in catalogs and layouts are relative to assets/ (``icons/noodles.png``). Images that
staff upload in the console live in the database and are named ``uploads/<file>``, so every
app server sees them.
"""

from __future__ import annotations

import io
import re
import warnings
from collections.abc import Callable
from pathlib import Path

from PIL import Image

UPLOADS = "uploads/"
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".webp"}
ICON_MAX_BYTES = 512 * 1024
ICON_MAX_PIXELS = 1024 * 1024


class AssetError(ValueError):
    """An image path or file that cannot be used; the message says why."""


class Assets:
    """Read images by their path relative to assets/ (or ``uploads/…``), safely."""

    def __init__(self, root: Path, uploads: Callable[[str], bytes | None] | None = None):
        self.root = Path(root)
        self.uploads = uploads

    @property
    def layouts_dir(self) -> Path:
        return self.root / "layouts"

    def shown(self, relative: str) -> str:
        """Name an image the way staff find it: ``assets/icons/x.png`` or ``uploads/x.png``."""
        return relative if relative.startswith(UPLOADS) else f"assets/{relative}"

    def read(self, relative: str, max_bytes: int = ICON_MAX_BYTES) -> bytes:
        """Return the bytes of an image, or raise AssetError saying what is wrong."""
        if relative.startswith(UPLOADS):
            data = self.uploads(relative) if self.uploads else None
            if data is None:
                raise AssetError(f"no uploaded image '{relative}'; upload it in the console first")
            return data
        if relative.startswith(("/", "\\")) or re.match(r"[A-Za-z]:", relative):
            raise AssetError(f"{relative!r} must be a path inside assets/, like icons/noodles.png")
        root = self.root.resolve()
        path = (root / relative).resolve()
        if not path.is_relative_to(root):
            raise AssetError(f"{relative!r} points outside assets/; keep files inside assets/")
        if not path.is_file():
            raise AssetError(f"file assets/{relative} does not exist")
        size = path.stat().st_size
        if size > max_bytes:
            raise AssetError(
                f"assets/{relative} is {size // 1024} KB; images may be at most "
                f"{max_bytes // 1024} KB"
            )
        return path.read_bytes()


def check_icon(name: str, data: bytes) -> None:
    """Check that ``data`` is a small PNG, JPEG or WebP picture; raise AssetError if not."""
    if Path(name).suffix.lower() not in IMAGE_SUFFIXES:
        raise AssetError(f"{name!r} must be a PNG, JPEG or WebP image")
    if len(data) > ICON_MAX_BYTES:
        raise AssetError(
            f"{name} is {len(data) // 1024} KB; icons may be at most {ICON_MAX_BYTES // 1024} KB"
        )
    try:
        # Only the header is read before the pixel count is checked, so a small file that
        # claims to be enormous (a decompression bomb) is refused without being decoded.
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
    except (Image.DecompressionBombWarning, Image.DecompressionBombError):
        raise AssetError(
            f"{name} claims an enormous number of pixels; icons may have at most "
            f"{ICON_MAX_PIXELS:,} pixels (1024×1024)"
        ) from None
    except Exception as exc:  # noqa: BLE001 - any decoder failure means the same to staff
        raise AssetError(f"{name} is not a readable image ({exc.__class__.__name__})") from None
    try:
        with image:
            width, height = image.size
            if width * height > ICON_MAX_PIXELS:
                raise AssetError(
                    f"{name} is {width}×{height} pixels; icons may have at most "
                    f"{ICON_MAX_PIXELS:,} pixels (1024×1024)"
                )
            if image.format not in {"PNG", "JPEG", "WEBP"}:
                raise AssetError(f"{name} is a {image.format} file; use PNG, JPEG or WebP")
            image.load()
    except AssetError:
        raise
    except Exception as exc:  # noqa: BLE001 - any decoder failure means the same to staff
        raise AssetError(f"{name} is not a readable image ({exc.__class__.__name__})") from None
