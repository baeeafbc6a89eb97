"""Write assets/fonts/coverage.json: which code points each shipped font draws.

    .venv/bin/python tools/font_coverage.py

Run it after changing a font. The renderer reads this small file instead of parsing the
fonts' character maps with fontTools in every process (that costs ~35 MB per worker);
tests/test_fonts.py checks that the file still matches the fonts.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from fontTools.ttLib import TTFont

FONTS = Path(__file__).resolve().parent.parent / "assets" / "fonts"
# "catalog", "common": what the cut-down faces draw (tools/font_subset.py; regular and bold
# the same).
FILES = {"text": "NotoSansSC-Regular.otf", "emoji": "NotoColorEmoji.ttf",
         "catalog": "NotoSansSC-Regular-catalog.otf",
         "common": "NotoSansSC-Regular-common.otf"}  # fmt: skip


def ranges(codepoints: set[int]) -> list[list[int]]:
    """Compress sorted code points into [first, last] runs."""
    runs: list[list[int]] = []
    for code in sorted(codepoints):
        if runs and code == runs[-1][1] + 1:
            runs[-1][1] = code
        else:
            runs.append([code, code])
    return runs


def coverage() -> dict:
    found = {}
    for kind, name in FILES.items():
        with TTFont(FONTS / name, lazy=True) as font:
            found[kind] = {"file": name, "ranges": ranges(set(font["cmap"].getBestCmap()))}
    return found


if __name__ == "__main__":
    (FONTS / "coverage.json").write_text(json.dumps(coverage(), separators=(",", ":")) + "\n")
    sys.stdout.write(f"wrote {FONTS / 'coverage.json'}\n")
