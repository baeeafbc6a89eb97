"""A disk cache of rendered images. Losing it loses nothing: images are made again from records."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


class ImageCache:
    """PNG files under ``root``, written atomically so a reader never sees half a file."""

    def __init__(self, root: Path):
        self.root = Path(root)

    def path(self, key: str) -> Path:
        # Keys are poster ids (URL-safe) plus a suffix; two-character folders keep dirs small.
        return self.root / key[:2] / f"{key}.png"

    def get(self, key: str) -> Path | None:
        path = self.path(key)
        return path if path.is_file() else None

    def put(self, key: str, data: bytes) -> Path:
        path = self.path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
            os.replace(tmp, path)
        except BaseException:
            os.unlink(tmp)
            raise
        return path
