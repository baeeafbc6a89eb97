"""A disk cache of rendered images. Losing it loses nothing: images are made again from records."""

from __future__ import annotations

import contextlib
import itertools
import os
from pathlib import Path


class ImageCache:
    """Image files under ``root``, written atomically so a reader never sees half a file."""

    def __init__(self, root: Path):
        self.root = Path(root)
        self._folder = str(self.root)
        self._made: set[str] = set()  # folders known to exist: no mkdir per image
        self._names = itertools.count()

    def path(self, key: str) -> Path:
        return Path(self.where(key))

    def where(self, key: str) -> str:
        # Keys are poster ids (URL-safe) plus a suffix; two-character folders keep dirs small.
        return f"{self._folder}/{key[:2]}/{key}.png"

    def get(self, key: str) -> Path | None:
        path = self.path(key)
        return path if path.is_file() else None

    def read(self, key: str) -> bytes | None:
        """Return the cached bytes of ``key``, or None if they are not there."""
        try:
            with open(self.where(key), "rb") as file:
                return file.read()
        except (FileNotFoundError, NotADirectoryError):
            return None

    def put(self, key: str, data: bytes) -> Path:
        path = self.where(key)
        folder = os.path.dirname(path)
        if folder not in self._made:
            os.makedirs(folder, exist_ok=True)
            self._made.add(folder)
        # Unique among live processes (pid) and within this one (counter): no random names
        # to try. A crash leaves at most a stray .tmp- file, never half an image.
        tmp = f"{folder}/.tmp-{os.getpid()}-{next(self._names)}"
        try:
            try:
                out = open(tmp, "wb")  # noqa: SIM115 - closed below
            except FileNotFoundError:  # someone emptied the cache while we run
                os.makedirs(folder, exist_ok=True)
                out = open(tmp, "wb")  # noqa: SIM115
            with out:
                out.write(data)
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
        return Path(path)
