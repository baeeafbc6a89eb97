"""Write posterapp/look_alikes.json: each look-alike character and the one it folds to.

    .venv/bin/python tools/look_alikes.py

Unicode's confusables (through the confusable_homoglyphs package) pair each look-alike with
its twins; the lowest code point among them stands for the group, so 生 and the Kangxi radical
⽣ fold to the same thing. The package keeps its whole table in memory (~7 MB per worker); the
~3,800 pairs that fold are all a name check needs (43 KB). Run this after upgrading
confusable_homoglyphs; tests/test_words.py checks that the file still matches it.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from confusable_homoglyphs import confusables

OUT = Path(__file__).resolve().parent.parent / "posterapp" / "look_alikes.json"


def folded(char: str) -> str:
    """Return what ``char`` folds to: the lowest code point among it and its twins."""
    found = confusables.is_confusable(char, greedy=True)
    if not found:
        return char
    twins = [h["c"] for entry in found for h in entry["homoglyphs"] if len(h["c"]) == 1]
    return min([char, *twins], key=ord)


def table() -> dict[str, str]:
    """Every single character of the confusables data that folds to another one."""
    data = json.loads((Path(confusables.__file__).parent / "confusables.json").read_bytes())
    pairs = {char: folded(char) for char in data if len(char) == 1}
    return {char: twin for char, twin in sorted(pairs.items()) if twin != char}


if __name__ == "__main__":
    OUT.write_text(json.dumps(table(), ensure_ascii=False, separators=(",", ":")) + "\n",
                   encoding="utf-8")  # fmt: skip
    sys.stdout.write(f"wrote {OUT}\n")
