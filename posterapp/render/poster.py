"""Compose a poster: background, shapes, texts, choice cards and the QR code."""

from __future__ import annotations

import functools
import io
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from PIL import Image, ImageChops, ImageDraw

from . import icons, png, qr, text

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


PAD = 2  # a card's tile reaches 2 px beyond the card, for its border


@dataclass(frozen=True)
class Part:
    """Something drawn per poster, spanning rows ``top``..``bottom`` of the canvas.

    ``key`` names everything its pixels depend on besides its rows (None: they are this
    poster's alone), so a band of rows made of the same parts can be reused.
    """

    top: int
    bottom: int
    key: tuple | None
    draw: Callable[[Image.Image, int], None]  # onto a canvas whose row 0 is canvas row ``origin``


def render(version: CatalogVersion, poster: Poster) -> Image.Image:
    """Draw ``poster`` with the catalog and layouts of ``version``; return an RGB image."""
    canvas = static_layer(version, poster.layout).copy()
    for part in parts(version, poster):
        part.draw(canvas, 0)
    return canvas.convert("RGB")


def render_png(version: CatalogVersion, poster: Poster) -> bytes:
    """Render ``poster`` as PNG bytes, fast: only the rows unique to it are drawn and deflated.

    The pixels are exactly those of ``render``; the same inputs always give the same bytes.
    """
    layout = version.layouts[poster.layout]
    width, height = layout.canvas.width, layout.canvas.height
    fragments = []
    row = 0
    for top, bottom, key, members in _bands(parts(version, poster), height):
        if row < top:
            fragments.append(_band(version, layout.id, row, top, ("static",), []))
        fragments.append(_band(version, layout.id, top, bottom, key, members))
        row = bottom
    if row < height:
        fragments.append(_band(version, layout.id, row, height, ("static",), []))
    return png.assemble(width, height, fragments)


def render_png_reference(version: CatalogVersion, poster: Poster) -> bytes:
    """Render and encode with Pillow's own PNG writer: the plain way, kept to compare with."""
    out = io.BytesIO()
    render(version, poster).save(out, format="PNG", compress_level=6)
    return out.getvalue()


def _bands(found: list[Part], height: int):
    """Merge parts whose rows overlap into bands: (top, bottom, key, parts), top to bottom."""
    bands: list[list] = []
    for part in sorted(found, key=lambda p: (p.top, p.bottom)):
        top, bottom = max(0, part.top), min(height, part.bottom)
        if bands and top < bands[-1][1]:
            band = bands[-1]
            band[1] = max(band[1], bottom)
            band[2] = None if band[2] is None or part.key is None else (*band[2], part.key)
            band[3].append(part)
        else:
            bands.append([top, bottom, None if part.key is None else (part.key,), [part]])
    return bands


def _band(version, layout_id: str, top: int, bottom: int, key, members) -> png.Fragment:
    """Return the compressed rows top..bottom, from the cache when their content repeats."""
    # A band of several cards side by side (a grid row) seldom comes back: not worth keeping.
    repeats = key is not None and sum(1 for k in key if k[0] == "card") <= 1
    cache_key = (version.version, layout_id, top, bottom, key) if repeats else None
    if cache_key is not None:
        found = BANDS.get(cache_key)
        if found is not None:
            return found
    layer = static_layer(version, layout_id)
    canvas = layer.crop((0, top, layer.width, bottom))
    for part in members:
        part.draw(canvas, top)
    fragment = png.compress_band(canvas.convert("RGB"), hard=key == ("static",))
    if cache_key is not None:
        BANDS.put(cache_key, fragment)
    return fragment


class Budgeted:
    """An LRU cache that drops the least recently used entries beyond a byte budget."""

    def __init__(self, budget: int, size: Callable[[object], int]):
        self.budget = budget
        self.size = size
        self.used = 0
        self.entries: OrderedDict[tuple, object] = OrderedDict()

    def get(self, key: tuple):
        found = self.entries.get(key)
        if found is not None:
            self.entries.move_to_end(key)
        return found

    def put(self, key: tuple, value) -> None:
        if key in self.entries:
            return
        self.entries[key] = value
        self.used += self.size(value)
        while self.used > self.budget and self.entries:
            _, dropped = self.entries.popitem(last=False)
            self.used -= self.size(dropped)


# What a worker keeps in memory to skip work: compressed bands of rows (a poster's cards
# repeat across posters) and card tiles (to draw the bands that are new). Sized so that a
# worker stays well under 150 MB; see bench/render.py --memory.
BANDS = Budgeted(28 * 1024 * 1024, size=lambda fragment: fragment.size)
TILES = Budgeted(12 * 1024 * 1024, size=lambda tile: tile.width * tile.height * 4)


def is_dynamic(key: str, element: TextElement) -> bool:
    """Tell whether a text changes from poster to poster (it shows the name or the count)."""
    from ..layouts import DEFAULT_TEXTS

    template = element.text or DEFAULT_TEXTS[key]
    return "{name}" in template or "{count}" in template


@functools.lru_cache(maxsize=16)
def static_layer(version: CatalogVersion, layout_id: str) -> Image.Image:
    """Return the RGBA layer every poster of a layout shares: background, shapes, fixed texts."""
    layout = version.layouts[layout_id]
    canvas = background(version, layout)
    draw_shapes(canvas, layout)
    empty = Poster(picks=(), name="", url="", layout=layout_id)
    for key, element in layout.texts().items():
        if not is_dynamic(key, element):
            content = element_text(key, element, version.catalog, empty)
            text.draw(canvas, text.fit_style(content, element), element.box, element.color,
                      element.align, element.valign)  # fmt: skip
    return canvas


def parts(version: CatalogVersion, poster: Poster) -> list[Part]:
    """Return what is drawn per poster over the static layer: name and count, cards, QR code."""
    layout = version.layouts[poster.layout]
    found = []
    for key, element in layout.texts().items():
        content = element_text(key, element, version.catalog, poster)
        if not is_dynamic(key, element) or not content:
            continue
        set_text = text.fit_style(content, element)
        unique = key == "name" and bool(poster.name)  # a name is as good as unique

        def draw_text(canvas, origin, set_text=set_text, element=element):
            text.draw(canvas, set_text, element.box, element.color, element.align,
                      element.valign, offset=(0, -origin))  # fmt: skip

        x, y, w, h = element.box
        found.append(Part(y, y + h, None if unique else ("text", key, content), draw_text))
    for choice_id, (x, y) in zip(
        poster.picks, layout.card_positions(len(poster.picks)), strict=True
    ):

        def draw_card_tile(canvas, origin, x=x, y=y, choice_id=choice_id):
            tile = card_tile(version, poster.layout, choice_id)
            canvas.alpha_composite(tile, (x - PAD, y - PAD - origin))

        card = layout.slots.card
        found.append(
            Part(y - PAD, y + card.height + PAD, ("card", x, y, choice_id), draw_card_tile)
        )
    code = layout.qr

    def draw_qr(canvas, origin):
        tile = qr.qr_tile(poster.url, code.size, code.color, code.background, code.radius)
        canvas.alpha_composite(tile, (code.x, code.y - origin))

    found.append(Part(code.y, code.y + code.size, None, draw_qr))
    return found


def card_tile(version: CatalogVersion, layout_id: str, choice_id: str) -> Image.Image:
    """Return a choice's card on a transparent tile, PAD px larger than the card each side."""
    key = (version.version, layout_id, choice_id)
    tile = TILES.get(key)
    if tile is None:
        tile = _draw_card_tile(version, layout_id, choice_id)
        TILES.put(key, tile)
    return tile


def _draw_card_tile(version: CatalogVersion, layout_id: str, choice_id: str) -> Image.Image:
    card = version.layouts[layout_id].slots.card
    tile = Image.new("RGBA", (card.width + 2 * PAD, card.height + 2 * PAD), (0, 0, 0, 0))
    draw_card(tile, version, version.layouts[layout_id], version.catalog.choice(choice_id),
              PAD, PAD)  # fmt: skip
    return tile


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
    """Return the layout's background as a new RGBA image (only the static layer is kept)."""
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
    canvas.alpha_composite(blank_card(card), (x - PAD, y - PAD))
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


@functools.lru_cache(maxsize=8)
def blank_card(card) -> Image.Image:
    """Return a layout's empty card (border and fill) on a tile PAD px larger each side."""
    tile = Image.new("RGBA", (card.width + 2 * PAD, card.height + 2 * PAD), (0, 0, 0, 0))
    if card.border:
        fill_shape(tile, "rect", (0, 0, card.width + 4, card.height + 4), card.border,
                   card.radius + 2)  # fmt: skip
    fill_shape(tile, "rect", (PAD, PAD, card.width, card.height), card.fill, card.radius)
    return tile


def tag_text(catalog: Catalog, choice: Choice) -> str:
    """Return the small line naming the choice's category, and its city if it has one."""
    category = catalog.category(choice.category).label
    region = next((r.label for r in catalog.regions if r.id == choice.region), None)
    return f"{region} · {category}" if region else category
