"""A contact sheet: every layout filled with its worst case, for staff to review at a glance."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PIL import Image, ImageDraw

from .. import urls
from ..layouts import Layout
from ..model import Poster
from . import text
from .poster import render
from .proof import WIDE, reachable

if TYPE_CHECKING:
    from ..versions import CatalogVersion

THUMB_W, THUMB_H = 270, 480  # feed size: how a poster is first seen in WeChat Moments
MARGIN, CAPTION, GAP = 32, 96, 24
SAMPLE_URL = urls.absolute("https://posterapp.example", urls.share_page("Ab3dE5gH7jK9"))


def worst_case(version: CatalogVersion, layout: Layout, count: int | None = None) -> Poster:
    """Return the hardest poster for ``layout``: most picks, longest labels, longest name."""
    catalog = version.catalog
    count = count or min(layout.max_picks, catalog.campaign.max_picks)
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


def counts(version: CatalogVersion, layout: Layout) -> list[int]:
    """Return the fewest, a middle and the most picks a layout shows in this campaign."""
    campaign = version.catalog.campaign
    low = max(layout.min_picks, campaign.min_picks)
    high = min(layout.max_picks, campaign.max_picks)
    return sorted({low, (low + high) // 2, high})


def sheet(versions: list) -> Image.Image:
    """Render every reachable layout at its fewest, a middle and most picks, a row per theme.

    ``versions`` are the same catalog in different themes (or just one); thumbnails are
    270 px wide, the size a poster has in a Moments feed.
    """
    first = versions[0]
    catalog = first.catalog
    shown = reachable(catalog, first.layouts)
    cells = [(layout, n) for layout in shown for n in counts(first, layout)]
    width = MARGIN + len(cells) * (THUMB_W + GAP) - GAP + MARGIN
    row_h = CAPTION + THUMB_H + MARGIN
    height = 80 + len(versions) * row_h + 70
    page = Image.new("RGBA", (width, height), "#ECEEF2")
    header = (
        f"{catalog.campaign.title} · {len(catalog.choices)} 个选项 · 朋友圈里的大小（270 像素宽）"
    )
    text.draw(
        page,
        text.fit(header, "bold", 30, 18, 1, 1.3, width - 2 * MARGIN, 44),
        (MARGIN, 24, width - 2 * MARGIN, 44),
        "#1C2437",
    )
    for row, version in enumerate(versions):
        top = 80 + row * row_h
        theme = version.theme
        for index, (layout, count) in enumerate(cells):
            poster = worst_case(version, layout, count)
            x = MARGIN + index * (THUMB_W + GAP)
            caption = f"{theme.label if theme else ''} · {layout.label} · {count} 项"
            text.draw(
                page,
                text.fit(caption, "regular", 22, 14, 1, 1.3, THUMB_W, 34),
                (x, top + CAPTION - 44, THUMB_W, 34),
                "#3A4255",
            )
            thumb = render(version, poster).resize((THUMB_W, THUMB_H), Image.Resampling.LANCZOS)
            ImageDraw.Draw(page).rectangle(
                (x - 1, top + CAPTION - 1, x + THUMB_W, top + CAPTION + THUMB_H), outline="#C5CAD3"
            )
            page.paste(thumb, (x, top + CAPTION))
    note = (
        "每个排版以最少、中间和最多的选项数渲染，用最长的选项文字和最长的署名；"
        "请检查没有文字被截断或重叠。"
    )
    text.draw(
        page,
        text.fit(note, "regular", 22, 14, 2, 1.4, width - 2 * MARGIN, 60),
        (MARGIN, height - 66, width - 2 * MARGIN, 60),
        "#5A6275",
    )
    return page.convert("RGB")
