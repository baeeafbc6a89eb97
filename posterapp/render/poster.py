"""Compose a poster: background, shapes, texts, choice cards and the QR code."""

from __future__ import annotations

import functools
import io
from dataclasses import dataclass
from typing import TYPE_CHECKING

from PIL import Image, ImageChops, ImageDraw

from . import icons, qr, text

if TYPE_CHECKING:
    from ..catalog import Catalog, Choice
    from ..layouts import Layout, TextElement
    from ..versions import CatalogVersion

SUPERSAMPLE = 4  # shapes are drawn 4× larger and scaled down for smooth edges


@dataclass(frozen=True)
class Poster:
    """Everything that decides a poster's pixels besides the catalog version."""

    picks: tuple[str, ...]
    name: str
    url: str
    layout: str


def render(version: CatalogVersion, poster: Poster) -> Image.Image:
    """Draw ``poster`` with the catalog and layouts of ``version``; return an RGB image."""
    catalog, layout = version.catalog, version.layouts[poster.layout]
    canvas = background(version, layout).copy()
    draw_shapes(canvas, layout)
    for key, element in layout.texts().items():
        content = element_text(key, element, catalog, poster)
        if content:
            set_text = text.fit_style(content, element)
            text.draw(canvas, set_text, element.box, element.color, element.align, element.valign)
    for choice_id, (x, y) in zip(
        poster.picks, layout.card_positions(len(poster.picks)), strict=True
    ):
        draw_card(canvas, version, layout, catalog.choice(choice_id), x, y)
    code = layout.qr
    canvas.alpha_composite(
        qr.qr_tile(poster.url, code.size, code.color, code.background, code.radius),
        (code.x, code.y),
    )
    return canvas.convert("RGB")


def render_png(version: CatalogVersion, poster: Poster) -> bytes:
    """Render ``poster`` and encode it as PNG; the same inputs always give the same bytes."""
    out = io.BytesIO()
    render(version, poster).save(out, format="PNG", compress_level=6)
    return out.getvalue()


def element_text(key: str, element: TextElement, catalog: Catalog, poster: Poster) -> str:
    """Fill an element's template with the campaign's texts, the name and the count."""
    from ..layouts import DEFAULT_TEXTS

    template = element.text or DEFAULT_TEXTS[key]
    if "{name}" in template and not poster.name:
        return element.if_no_name or ""
    campaign = catalog.campaign
    # Only these names are filled in; str.format would let a template reach attributes.
    values = {
        "title": campaign.title,
        "slogan": campaign.slogan,
        "brand": campaign.brand,
        "footer": campaign.footer,
        "name": poster.name,
        "count": str(len(poster.picks)),
    }
    for field, value in values.items():
        template = template.replace("{" + field + "}", value)
    return template


def background(version: CatalogVersion, layout: Layout) -> Image.Image:
    """Return the layout's background as an RGBA image (cached per version and layout)."""
    return _background(version, layout.id)


@functools.lru_cache(maxsize=32)
def _background(version: CatalogVersion, layout_id: str) -> Image.Image:
    layout = version.layouts[layout_id]
    size = (layout.canvas.width, layout.canvas.height)
    spec = layout.background
    if spec.color:
        return Image.new("RGBA", size, spec.color)
    if spec.image:
        with Image.open(io.BytesIO(version.asset(spec.image))) as image:
            return image.convert("RGBA").resize(size, Image.Resampling.LANCZOS)
    down = Image.linear_gradient("L")  # 256×256, dark at the top, light at the bottom
    across = down.transpose(Image.Transpose.TRANSPOSE)  # dark at the left
    ramp = {"vertical": down, "horizontal": across, "diagonal": Image.blend(down, across, 0.5)}[
        spec.gradient.direction
    ]
    mask = ramp.resize(size, Image.Resampling.BICUBIC)
    top = Image.new("RGBA", size, spec.gradient.top)
    bottom = Image.new("RGBA", size, spec.gradient.bottom)
    return Image.composite(bottom, top, mask)


@functools.lru_cache(maxsize=512)
def shape_mask(kind: str, width: int, height: int, radius: int) -> Image.Image:
    """Return an anti-aliased 'L' mask of a circle or rounded rectangle."""
    big = Image.new("L", (width * SUPERSAMPLE, height * SUPERSAMPLE), 0)
    pen = ImageDraw.Draw(big)
    box = (0, 0, big.width - 1, big.height - 1)
    if kind == "circle":
        pen.ellipse(box, fill=255)
    else:
        pen.rounded_rectangle(box, radius * SUPERSAMPLE, fill=255)
    return big.resize((width, height), Image.Resampling.LANCZOS)


def fill_shape(canvas: Image.Image, kind: str, box, color: str, radius: int = 0) -> None:
    """Blend a smooth-edged shape of ``color`` (which may carry alpha) onto the canvas."""
    x, y, width, height = box
    mask = shape_mask(kind, width, height, radius)
    rgba = Image.new("RGBA", (width, height), color)
    rgba.putalpha(ImageChops.multiply(rgba.getchannel("A"), mask))
    canvas.alpha_composite(rgba, (x, y))


def draw_shapes(canvas: Image.Image, layout: Layout) -> None:
    for shape in layout.shapes:
        fill_shape(canvas, shape.kind, shape.box, shape.fill, shape.radius)


def draw_card(
    canvas: Image.Image, version: CatalogVersion, layout: Layout, choice: Choice, x: int, y: int
) -> None:
    """Draw one choice's card with its top-left corner at (x, y)."""
    slots, card = layout.slots, layout.slots.card
    catalog = version.catalog
    accent = catalog.category(choice.category).color
    if card.border:
        fill_shape(
            canvas,
            "rect",
            (x - 2, y - 2, card.width + 4, card.height + 4),
            card.border,
            card.radius + 2,
        )
    fill_shape(canvas, "rect", (x, y, card.width, card.height), card.fill, card.radius)
    if card.accent == "bar":
        bar_h = card.height - 2 * card.radius
        fill_shape(canvas, "rect", (x, y + card.radius, 8, bar_h), accent, 4)
    ix, iy, size, _ = slots.icon.box
    if slots.icon.backdrop == "circle":
        fill_shape(canvas, "circle", (x + ix, y + iy, size, size), accent + "1F")
    inset = size // 6 if slots.icon.backdrop == "circle" else 0
    tile = (
        icons.image_tile(version.asset(choice.icon), size - 2 * inset)
        if choice.icon_is_image
        else icons.emoji_tile(choice.icon, size - 2 * inset)
    )
    canvas.alpha_composite(tile, (x + ix + inset, y + iy + inset))
    parts = [(slots.label, choice.label, slots.label.color)]
    if slots.description and choice.description:
        parts.append((slots.description, choice.description, slots.description.color))
    if slots.tag:
        parts.append((slots.tag, tag_text(catalog, choice), accent))
    for style, content, color in parts:
        text.draw(
            canvas,
            text.fit_style(content, style),
            style.box,
            color,
            style.align,
            style.valign,
            offset=(x, y),
        )


def tag_text(catalog: Catalog, choice: Choice) -> str:
    """Return the small line naming the choice's category, and its city if it has one."""
    category = catalog.category(choice.category).label
    region = next((r.label for r in catalog.regions if r.id == choice.region), None)
    return f"{region} · {category}" if region else category
