"""The 1200×630 share card that social platforms show for a poster's link (Open Graph)."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

from PIL import Image

from ..catalog import life_tag
from ..model import Poster
from . import icons, text
from .compose import fill_shape, shape_mask
from .poster import render

if TYPE_CHECKING:
    from ..versions import CatalogVersion

WIDTH, HEIGHT = 1200, 630
THUMB_H = 560
# Versions made before themes: the warm look the card always had.
INK, SOFT, PAPER, ACCENT = "#2A1A10", "#8A6A5A", "#FFF6EE", "#C2552B"


def render_card(version: CatalogVersion, poster: Poster) -> Image.Image:
    """Draw the card: the title, the name and first picks on the left, the poster on the right."""
    catalog = version.catalog
    theme = version.theme  # the card wears the poster's theme: one campaign, one look
    ink, soft, accent = (theme.ink, theme.soft, theme.accent) if theme else (INK, SOFT, ACCENT)
    paper = theme.background.top if theme else PAPER
    card = Image.new("RGBA", (WIDTH, HEIGHT), paper)
    thumb = render(version, poster)
    thumb_w = round(thumb.width * THUMB_H / thumb.height)
    thumb = thumb.resize((thumb_w, THUMB_H), Image.Resampling.LANCZOS).convert("RGBA")
    thumb.putalpha(shape_mask("rect", thumb_w, THUMB_H, 18))
    x = WIDTH - thumb_w - 56
    fill_shape(card, "rect", (x - 6, 29, thumb_w + 12, THUMB_H + 12), "#00000014", 22)
    card.alpha_composite(thumb, (x, 35))

    left, width = 64, x - 64 - 48
    campaign = catalog.campaign
    who = f"{poster.name}的" if poster.name else "我的"
    tag = life_tag(catalog, poster.picks)
    rows = [
        (campaign.brand, "bold", 30, accent, 52),
        (who, "bold", 46, ink, 66),
        (campaign.title, "bold", 72, ink, 100),
    ]
    if tag:
        rows.append((f"生活标签：{tag}", "bold", 32, accent, 48))
    y = 56
    for content, kind, size, color, height in rows:
        block = text.fit(content, kind, size, size * 2 // 3, 1, 1.3, width, height)
        text.draw(card, block, (left, y, width, height), color)
        y += height + 4
    y += 18
    shown = 3 if tag else 4
    for choice_id in poster.picks[:shown]:
        choice = catalog.choice(choice_id)
        icon = (
            icons.image_tile(version.asset(choice.icon), 40)
            if choice.icon_is_image
            else icons.emoji_tile(choice.icon, 40)
        )
        card.alpha_composite(icon, (left, y + 4))
        block = text.fit(choice.label, "regular", 34, 26, 1, 1.3, width - 60, 48)
        text.draw(card, block, (left + 60, y, width - 60, 48), ink, valign="middle")
        y += 56
    # A link preview is tapped, not long-pressed or scanned: its own words.
    more = len(poster.picks) - shown
    footer = f"……还有 {more} 件，点开看看" if more > 0 else "点开看看，也挑一张你的美好生活"
    block = text.fit(footer, "regular", 28, 22, 1, 1.3, width, 40)
    text.draw(card, block, (left, HEIGHT - 84, width, 40), soft)
    return card.convert("RGB")


def render_card_png(version: CatalogVersion, poster: Poster) -> bytes:
    out = io.BytesIO()
    render_card(version, poster).save(out, format="PNG", compress_level=6)
    return out.getvalue()
