"""A poster as a person made it: its id, and what decides its pixels besides the catalog version.

Poster ids are 12 characters of Crockford's base32 (digits and upper-case letters without
I, L, O, U): 60 random bits, not sequential, not guessable. Upper case lets the scan URL
use the QR code's compact alphanumeric mode (see render/qr.py). Posters made before that
have 12 URL-safe characters (72 bits, mixed case); their ids and stored URLs stay valid, so
what a poster id may look like (``ID_PATTERN``) is the wider, URL-safe shape.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass

ID_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # what new ids are made of
ID_LENGTH = 12
ID_PATTERN = f"[A-Za-z0-9_-]{{{ID_LENGTH}}}"  # any poster id, new or old (a regex, unanchored)
_ID = re.compile(ID_PATTERN)


def new_poster_id() -> str:
    """Return a fresh random poster id (upper-case base32)."""
    # One draw of 60 random bits, five per character (twelve secrets.choice calls read the
    # system's random source about twenty times: 0.4 ms a poster).
    bits = secrets.randbits(5 * ID_LENGTH)
    return "".join(ID_ALPHABET[(bits >> (5 * i)) & 31] for i in range(ID_LENGTH))


def is_poster_id(value: str) -> bool:
    """Tell whether ``value`` has the shape of a poster id, new (base32) or old (URL-safe)."""
    return _ID.fullmatch(value) is not None


@dataclass(frozen=True)
class Poster:
    """Everything that decides a poster's pixels besides the catalog version."""

    picks: tuple[str, ...]
    name: str
    url: str
    layout: str
