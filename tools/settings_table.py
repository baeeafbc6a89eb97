"""Print the README's table of POSTERAPP_* settings, made from posterapp/settings.py.

    .venv/bin/python tools/settings_table.py           # print it
    .venv/bin/python tools/settings_table.py --write   # put it in README.md's "## Settings"

tests/test_settings.py fails while the README's table and the settings disagree.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from posterapp import settings  # noqa: E402

README = ROOT / "README.md"
HEADING = "## Settings"


def table_span(text: str) -> tuple[int, int]:
    """Return where the table under the Settings heading starts and ends in ``text``."""
    section = text.index(HEADING)
    start = text.index("\n|", section) + 1
    end = text.find("\n\n", start)
    return start, len(text) if end == -1 else end + 1


def with_table(text: str) -> str:
    """Return the README ``text`` with its settings table made afresh."""
    start, end = table_span(text)
    return text[:start] + settings.markdown_table() + text[end:]


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="update README.md in place")
    args = parser.parse_args(argv)
    if not args.write:
        sys.stdout.write(settings.markdown_table())
        return 0
    text = README.read_text(encoding="utf-8")
    new = with_table(text)
    if new != text:
        README.write_text(new, encoding="utf-8")
        print("README.md: settings table updated")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
