"""Write the cut-down faces: assets/fonts/NotoSansSC-{Regular,Bold}-{catalog,common}.otf.

    .venv/bin/python tools/font_subset.py     (~1 min)

The full faces are 16–17 MB with 44,810 code points. FreeType maps a face's file once per
size in use, and a worker touches nearly all of a file it draws many characters from: the
pages count in its memory, ~4 MB per face and size. So there are two smaller cuts:

- **catalog** (~0.5 MB): every character of the shipped catalogs, layouts and themes, ASCII
  and punctuation: what every poster's fixed texts and cards are drawn with, at ~8 sizes;
- **common** (~2 MB): GB 2312's 3,755 first-level characters (99.7 % of ordinary Chinese
  text) on top of those, Latin and symbols: what names are mostly drawn with.

The renderer draws a run of text with the smallest of catalog, common and full that has every
character of it; the glyphs, advances and hinting are the same, so are the pixels
(tests/test_fonts.py). Run tools/font_coverage.py after this.
"""

from __future__ import annotations

import sys
from pathlib import Path

from fontTools import subset
from fontTools.ttLib import TTFont

ROOT = Path(__file__).resolve().parent.parent
FONTS = ROOT / "assets" / "fonts"
FACES = ["NotoSansSC-Regular.otf", "NotoSansSC-Bold.otf"]
# ASCII, general punctuation, CJK symbols and punctuation (not the combining tone marks
# U+302A–302F, which the full face shapes with glyphs the cut would lose), full-width forms.
CATALOG_BLOCKS = [(0x20, 0x7E), (0x2000, 0x206F), (0x3000, 0x3029), (0x3030, 0x303F),
                  (0xFF00, 0xFF65)]  # fmt: skip
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


def shipped() -> set[int]:
    """Code points of the catalog faces: the shipped texts, ASCII and punctuation."""
    chars: set[str] = set()
    for folder, pattern in (("choices", "*.yaml"), ("assets", "**/*.yaml")):
        for path in sorted((ROOT / folder).glob(pattern)):
            chars |= set(path.read_text(encoding="utf-8"))
    codes = {ord(char) for char in chars}
    return codes | {code for first, last in CATALOG_BLOCKS for code in range(first, last + 1)}


def common() -> set[int]:
    """Code points of the common faces: the catalog faces' and the most used characters."""
    codes = shipped() | {ord(char) for char in gb2312_first_level()}
    return codes | {code for first, last in BLOCKS for code in range(first, last + 1)}


def write(source: Path, target: Path, codes: set[int]) -> None:
    options = subset.Options()
    options.layout_features = ["*"]  # shaping as the full face shapes
    options.name_IDs = ["*"]
    options.name_languages = ["*"]
    options.notdef_outline = True
    font = TTFont(source, recalcTimestamp=False)  # the same bytes each time it is run
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=sorted(codes))
    subsetter.subset(font)
    font.save(target)


if __name__ == "__main__":
    for cut, wanted in (("catalog", shipped()), ("common", common())):
        for name in FACES:
            target = FONTS / name.replace(".otf", f"-{cut}.otf")
            write(FONTS / name, target, wanted)
            sys.stdout.write(f"wrote {target}\n")
