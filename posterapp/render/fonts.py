"""The shipped fonts: which one draws which character, at what size.

Noto Sans CJK SC (regular and bold) draws Chinese, Latin and punctuation; Noto Color Emoji
draws emoji in colour. The emoji font is a bitmap font that only loads at size 109, so emoji
are drawn at that size and scaled (see ``render.icons``).
"""

from __future__ import annotations

import bisect
import json
import unicodedata
from pathlib import Path

from PIL import ImageFont

from . import caches

FONTS = Path(__file__).resolve().parents[2] / "assets" / "fonts"
FACES = {"regular": FONTS / "NotoSansSC-Regular.otf", "bold": FONTS / "NotoSansSC-Bold.otf"}
# The same faces cut down (tools/font_subset.py): to the shipped texts' characters (~0.5 MB)
# and to the common ones (~2 MB), instead of 16 MB.
CUTS = ("catalog", "common")
CUT_FACES = {(cut, kind): path.with_name(f"{path.stem}-{cut}{path.suffix}")
             for cut in CUTS for kind, path in FACES.items()}  # fmt: skip
EMOJI = FONTS / "NotoColorEmoji.ttf"
EMOJI_SIZE = 109
ZWJ, VS15, VS16 = "\u200d", "\ufe0e", "\ufe0f"
# Code points that never need a glyph of their own: they join or restyle their neighbours.
JOINERS = {ord(ZWJ), ord(VS15), ord(VS16), 0x20E3} | set(range(0xE0020, 0xE0080))
LAYOUT = ImageFont.Layout.RAQM if ImageFont.core.HAVE_RAQM else ImageFont.Layout.BASIC


class CodeRanges:
    """A set of code points kept as sorted [first, last] runs: ~2,000 runs instead of ~45,000
    ints (a frozenset of them costs ~2 MB per worker)."""

    def __init__(self, runs: list[list[int]]):
        merged: list[list[int]] = []
        for first, last in sorted(runs):
            if merged and first <= merged[-1][1] + 1:
                merged[-1][1] = max(merged[-1][1], last)
            else:
                merged.append([first, last])
        self.firsts = [first for first, _ in merged]
        self.lasts = [last for _, last in merged]

    def __contains__(self, code: object) -> bool:
        if not isinstance(code, int):
            return False
        at = bisect.bisect_right(self.firsts, code) - 1
        return at >= 0 and code <= self.lasts[at]

    def __or__(self, other: CodeRanges) -> CodeRanges:
        return CodeRanges([*map(list, zip(self.firsts, self.lasts, strict=True)),
                           *map(list, zip(other.firsts, other.lasts, strict=True))])  # fmt: skip


@caches.memo("fonts.coverage")
def _coverage() -> dict[str, CodeRanges]:
    # Made by tools/font_coverage.py from the fonts' character maps (tests check it matches).
    data = json.loads((FONTS / "coverage.json").read_text())
    return {kind: CodeRanges(entry["ranges"]) for kind, entry in data.items()}


def text_codepoints() -> CodeRanges:
    """Code points the text faces can draw (both faces cover the same set)."""
    return _coverage()["text"]


def emoji_codepoints() -> CodeRanges:
    return _coverage()["emoji"]


@caches.memo("fonts.drawable")
def drawable_codepoints() -> CodeRanges:
    return text_codepoints() | emoji_codepoints()


def undrawable(text: str) -> list[str]:
    """Return, once each and in order, the characters of ``text`` no shipped font can draw."""
    known = drawable_codepoints()
    missing: list[str] = []
    for char in text:
        code = ord(char)
        if code in known or code in JOINERS or char in missing or char == " ":
            continue
        missing.append(char)
    return missing


def face(kind: str, size: int, text: str = "") -> ImageFont.FreeTypeFont:
    """Return the text face ``kind`` ('regular' or 'bold') at ``size`` pixels for ``text``.

    That is the smallest cut of it (catalog, then common, then the full face) that has every
    character of ``text``. Their glyphs, advances and hints are the same, so is what they
    draw; but FreeType maps a face's file once per size, and a worker touches nearly all of
    a file it draws from: ~0.5 MB per size for the catalog cut instead of ~4.
    """
    coverage = _coverage()
    if all(ord(char) in coverage["catalog"] for char in text):
        return _catalog_face(kind, size)
    if all(ord(char) in coverage["common"] for char in text):
        return _common_face(kind, size)
    return _full_face(kind, size)


@caches.memo("fonts.face")  # every fixed text and card, at the ~8 sizes in use
def _catalog_face(kind: str, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(CUT_FACES["catalog", kind]), size, layout_engine=LAYOUT)


@caches.memo("fonts.common_face")  # names, mostly: at a few sizes
def _common_face(kind: str, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(CUT_FACES["common", kind]), size, layout_engine=LAYOUT)


@caches.memo("fonts.full_face")  # rare characters
def _full_face(kind: str, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(FACES[kind]), size, layout_engine=LAYOUT)


@caches.memo("fonts.emoji_face")
def emoji_face() -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(EMOJI), EMOJI_SIZE, layout_engine=LAYOUT)


def is_emoji_cluster(cluster: str) -> bool:
    """Tell whether a grapheme cluster is drawn with the colour emoji font."""
    first = ord(cluster[0])
    if VS16 in cluster or ZWJ in cluster or 0x1F1E6 <= first <= 0x1F1FF:
        return True
    if VS15 in cluster:
        return False
    if first in text_codepoints():
        return False
    return first in emoji_codepoints()


def clusters(text: str) -> list[str]:
    """Split text into grapheme-like clusters: a base with its marks, joiners and modifiers."""
    out: list[str] = []
    joined = False
    for char in text:
        code = ord(char)
        attach = out and (
            joined
            or code in JOINERS
            or unicodedata.combining(char)
            or 0x1F3FB <= code <= 0x1F3FF  # skin tones
            or (0x1F1E6 <= code <= 0x1F1FF and _pending_flag(out[-1]))
        )
        if attach:
            out[-1] += char
        else:
            out.append(char)
        joined = char == ZWJ
    return out


def _pending_flag(cluster: str) -> bool:
    return len(cluster) == 1 and 0x1F1E6 <= ord(cluster) <= 0x1F1FF
