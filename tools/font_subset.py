"""Write the common-character faces: assets/fonts/NotoSansSC-{Regular,Bold}-common.otf.

    .venv/bin/python tools/font_subset.py     (~35 s)

The full faces are 16–17 MB with 44,810 code points. FreeType maps a face's file once per
size in use, and the pages a worker touches count in its memory: ~4 MB per face and size.
The common faces hold what nearly every poster needs — the 3,755 characters of GB 2312's
first level (99.7 % of ordinary Chinese text), every character of the shipped catalogs,
layouts and themes, Latin and punctuation — in ~2 MB. The renderer draws a run of text with
the common face when it has every character of it, and with the full face otherwise; the
glyphs, advances and hinting are the same, so are the pixels (tests/test_fonts.py).
Run tools/font_coverage.py after this.
"""

from __future__ import annotations

import sys
from pathlib import Path

from fontTools import subset
from fontTools.ttLib import TTFont

ROOT = Path(__file__).resolve().parent.parent
FONTS = ROOT / "assets" / "fonts"
FACES = {"NotoSansSC-Regular.otf": "NotoSansSC-Regular-common.otf",
         "NotoSansSC-Bold.otf": "NotoSansSC-Bold-common.otf"}  # fmt: skip
# Latin, general punctuation, CJK symbols and punctuation, full-width forms.
BLOCKS = [(0x20, 0x24F), (0x2000, 0x206F), (0x2100, 0x214F), (0x2190, 0x21FF),
          (0x2460, 0x24FF), (0x25A0, 0x25FF), (0x3000, 0x303F), (0xFF00, 0xFFEF)]  # fmt: skip


def gb2312_first_level() -> set[str]:
    """The 3,755 most common Chinese characters (GB 2312 rows 16–55)."""
    found = set()
    for high in range(0xB0, 0xD8):
        for low in range(0xA1, 0xFF):
            try:
                found.add(bytes([high, low]).decode("gb2312"))
            except UnicodeDecodeError:
                continue  # the last row is not full
    return found


def characters() -> set[int]:
    """Code points of the common faces."""
    chars = gb2312_first_level()
    for folder, pattern in (("choices", "*.yaml"), ("assets", "**/*.yaml")):
        for path in sorted((ROOT / folder).glob(pattern)):
            chars |= set(path.read_text(encoding="utf-8"))
    codes = {ord(char) for char in chars}
    codes |= {code for first, last in BLOCKS for code in range(first, last + 1)}
    return codes


def write(source: Path, target: Path, codes: set[int]) -> None:
    options = subset.Options()
    options.layout_features = ["*"]  # shaping as the full face shapes
    options.name_IDs = ["*"]
    options.name_languages = ["*"]
    options.notdef_outline = True
    font = TTFont(source)
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=sorted(codes))
    subsetter.subset(font)
    font.save(target)


if __name__ == "__main__":
    wanted = characters()
    for source, target in FACES.items():
        write(FONTS / source, FONTS / target, wanted)
        sys.stdout.write(f"wrote {FONTS / target}\n")
