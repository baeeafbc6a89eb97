"""Draw every choice's icon with its label on one contact sheet, to look at them all at once.

    .venv/bin/python tools/icon_sheet.py [CATALOG] [-o OUT.png] [--size 120] [--small 40]

Each cell shows the icon as the poster draws it (posterapp.render.icons) at ``--size``, the
same icon at ``--small`` (how it reads in a list or a chat thumbnail), and the label with its
city under it. Cells are tinted by category. Look at the sheet after every icon change: an
icon must be true to its label for the people of that city.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from PIL import Image, ImageDraw

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from posterapp import versions  # noqa: E402
from posterapp.assets import Assets  # noqa: E402
from posterapp.catalog import NATIONWIDE  # noqa: E402
from posterapp.render import fonts, icons, text  # noqa: E402

COLUMNS = 10
INK = "#2B2B2B"
SOFT = "#6B6B6B"


def sheet(version, size: int, small: int) -> Image.Image:
    """Return the contact sheet of every choice in catalog order."""
    catalog = version.catalog
    regions = {r.id: r.label for r in catalog.regions}
    cell_w, cell_h = size + 60, size + 104
    rows = -(-len(catalog.choices) // COLUMNS)
    canvas = Image.new("RGBA", (COLUMNS * cell_w, rows * cell_h), "#FFFFFF")
    draw = ImageDraw.Draw(canvas)
    for n, choice in enumerate(catalog.choices):
        x, y = (n % COLUMNS) * cell_w, (n // COLUMNS) * cell_h
        accent = catalog.category(choice.category).color
        draw.rounded_rectangle(
            (x + 4, y + 4, x + cell_w - 4, y + cell_h - 4),
            14,
            fill=_tint(accent),
            outline="#E4E4E4",
        )
        for tile_size, at in ((size, (x + 10, y + 10)), (small, (x + size + 14, y + 10))):
            tile = (
                icons.image_tile(version.asset(choice.icon), tile_size)
                if choice.icon_is_image
                else icons.emoji_tile(choice.icon, tile_size)
            )
            canvas.alpha_composite(tile, at)
        if choice.icon_is_image:  # mark the drawn ones, so they can be told from emoji
            draw.ellipse(
                (x + size + 24, y + small + 22, x + size + 34, y + small + 32), fill=accent
            )
        region = "全国" if choice.region == NATIONWIDE else regions.get(choice.region, "")
        for line, (content, kind, px, color) in enumerate(
            ((choice.label, "bold", 20, INK), (f"{region} · {choice.id}", "regular", 13, SOFT))
        ):
            block = text.fit(content, kind, px, 11, 2 if line == 0 else 1, 1.2, cell_w - 16, 52)
            top = y + size + 16 + line * 56
            text.draw(canvas, block, (x + 8, top, cell_w - 16, 52), color, align="center")
    return canvas


def _tint(color: str, amount: float = 0.1) -> str:
    """Mix a colour into white (a light cell background in the category's colour)."""
    rgb = [int(color[i : i + 2], 16) for i in (1, 3, 5)]
    return "#" + "".join(f"{round(255 + (c - 255) * amount):02X}" for c in rgb)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("catalog", nargs="?", default=str(ROOT / "choices" / "default.yaml"))
    parser.add_argument("-o", "--out", default="icon_sheet.png")
    parser.add_argument("--size", type=int, default=120)
    parser.add_argument("--small", type=int, default=40)
    args = parser.parse_args(argv)
    fonts.emoji_face()
    version = versions.load_sources(Path(args.catalog), Assets(ROOT / "assets"))
    sheet(version, args.size, args.small).convert("RGB").save(args.out)
    print(f"{len(version.catalog.choices)} icons → {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
