"""A contact sheet: every layout filled with its worst case, for staff to review at a glance."""

from __future__ import annotations

from PIL import Image, ImageDraw

from ..layouts import Layout
from . import text
from .poster import Poster, render
from .proof import WIDE, reachable

THUMB_W, THUMB_H = 360, 640
MARGIN, CAPTION = 40, 120
SAMPLE_URL = "https://posterapp.example/s/Ab3dE5gH7jK9"


def worst_case(version, layout: Layout) -> Poster:
    """Return the hardest poster for ``layout``: most picks, longest labels, longest name."""
    catalog = version.catalog
    count = min(layout.max_picks, catalog.campaign.max_picks)
    style = layout.slots.label
    widest = sorted(
        catalog.choices, key=lambda c: (-text.width(c.label, style.font, style.size), c.id)
    )
    return Poster(
        picks=tuple(c.id for c in widest[:count]),
        name=WIDE * catalog.campaign.name_max_length,
        url=SAMPLE_URL,
        layout=layout.id,
    )


def sheet(version) -> Image.Image:
    """Render every reachable layout's worst case side by side with a caption."""
    catalog = version.catalog
    shown = reachable(catalog, version.layouts)
    width = MARGIN + len(shown) * (THUMB_W + MARGIN)
    height = CAPTION + THUMB_H + 110
    page = Image.new("RGBA", (width, height), "#ECEEF2")
    header = f"{catalog.campaign.title} · {len(catalog.choices)} 个选项 · 版本 {version.version}"
    text.draw(
        page,
        text.fit(header, "bold", 30, 18, 1, 1.3, width - 2 * MARGIN, 44),
        (MARGIN, 24, width - 2 * MARGIN, 44),
        "#1C2437",
    )
    for index, layout in enumerate(shown):
        poster = worst_case(version, layout)
        x = MARGIN + index * (THUMB_W + MARGIN)
        caption = f"{layout.label} {layout.id} · {len(poster.picks)} 项 · 最长文字"
        text.draw(
            page,
            text.fit(caption, "regular", 24, 16, 1, 1.3, THUMB_W, 36),
            (x, CAPTION - 46, THUMB_W, 36),
            "#3A4255",
        )
        thumb = render(version, poster).resize((THUMB_W, THUMB_H), Image.Resampling.LANCZOS)
        ImageDraw.Draw(page).rectangle(
            (x - 1, CAPTION - 1, x + THUMB_W, CAPTION + THUMB_H), outline="#C5CAD3"
        )
        page.paste(thumb, (x, CAPTION))
    note = "每个排版都以最多的选项、最长的选项文字和最长的署名渲染；请检查没有文字被截断或重叠。"
    text.draw(
        page,
        text.fit(note, "regular", 22, 14, 2, 1.4, width - 2 * MARGIN, 70),
        (MARGIN, CAPTION + THUMB_H + 24, width - 2 * MARGIN, 70),
        "#5A6275",
    )
    return page.convert("RGB")
