"""What a poster draws where: the static layer, then its parts (texts, cards, the QR code)."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING, NamedTuple

from PIL import Image, ImageChops, ImageColor, ImageDraw

from ..catalog import life_tag
from ..model import Poster
from . import caches, icons, qr, text
from .banding import Part, Patch

if TYPE_CHECKING:
    from ..catalog import Catalog, Choice
    from ..layouts import Layout, TextElement
    from ..versions import CatalogVersion

SUPERSAMPLE = 4  # shapes are drawn 4× larger and scaled down for smooth edges
# The theme colour each text takes when its layout names none.
TEXT_ROLES = {
    "title": "ink",
    "name": "ink",
    "subtitle": "soft",
    "count": "accent",
    "life_tag": "on_accent",
    "brand": "panel_ink",
    "footer": "soft",
    "cta": "panel_ink",
    "cta_hint": "panel_soft",
}
FALLBACK_INK = "#222222"  # layouts made before themes name every colour
PILL_PAD = 0.6  # the tag badge reaches this many ems beyond its text each side


def paint(version: CatalogVersion, value: str | None, role: str) -> str:
    """Resolve a layout colour: "#RRGGBB" as it is, a role name or None through the theme."""
    if value and value.startswith("#"):
        return value
    theme = version.theme
    return theme.role(value or role) if theme else FALLBACK_INK


PAD = 2  # a card's tile reaches 2 px beyond the card, for its border


def is_dynamic(key: str, element: TextElement) -> bool:
    """Tell whether a text changes from poster to poster (it shows the name or the count)."""
    from ..layouts import DEFAULT_TEXTS

    template = element.text or DEFAULT_TEXTS[key]
    return any(field in template for field in ("{name}", "{count}", "{tag}"))


def static_layer(version: CatalogVersion, layout_id: str) -> Image.Image:
    """Return the RGBA layer every poster of a layout shares: background, shapes, fixed texts
    and the QR code's paper.

    Kept deflated by content (version id, layout): a catalog loaded again, or previewed from
    the same YAML, finds it. Each call returns a new image, free to draw on.
    """
    key = (version.version, layout_id) if version.version else None
    return caches.kept_image(
        caches.STATIC_LAYERS, key, lambda: _draw_static_layer(version, layout_id)
    )


def _draw_static_layer(version: CatalogVersion, layout_id: str) -> Image.Image:
    layout = version.layouts[layout_id]
    canvas = background(version, layout)
    theme = version.theme
    if theme is not None and layout.keyvisual is not None:
        x, y, w, h = layout.keyvisual
        art = icons.svg_canvas(version.asset(theme.keyvisual_path), w, h)
        canvas.alpha_composite(art, (x, y))
    draw_shapes(canvas, layout)
    if layout.panel is not None:
        panel, box = layout.panel, layout.panel.box
        fill = theme.panel if theme else "#FFFFFF"
        edge = theme.panel_edge if theme else fill
        if edge != fill:
            fill_shape(canvas, "rect", (box[0] - 2, box[1] - 2, box[2] + 4, box[3] + 4), edge,
                       panel.radius + 2)  # fmt: skip
        fill_shape(canvas, "rect", box, fill, panel.radius)
    if layout.arrow is not None:
        draw_arrow(canvas, layout.arrow, paint(version, None, "accent"))
    empty = Poster(picks=(), name="", url="", layout=layout_id)
    for key, element in layout.texts().items():
        if not is_dynamic(key, element):
            content = element_text(key, element, version.catalog, empty)
            if content:
                text.draw(canvas, text.fit_style(content, element), element.box,
                          paint(version, element.color, TEXT_ROLES[key]), element.align,
                          element.valign)  # fmt: skip
    # Last, as the whole QR tile was drawn over the layer before its paper moved here.
    code = layout.qr
    canvas.alpha_composite(
        qr.paper(code.size, _qr_colours(version, layout)[1], code.radius), (code.x, code.y)
    )
    return canvas


def draw_arrow(canvas: Image.Image, box, color: str) -> None:
    """Draw a bold arrow pointing right across ``box``: the eye goes on to the QR code."""
    x, y, w, h = box
    big = Image.new("L", (w * SUPERSAMPLE, h * SUPERSAMPLE), 0)
    pen = ImageDraw.Draw(big)
    s = SUPERSAMPLE
    mid, stroke = h * s // 2, max(6, h // 7) * s
    head = min(w, h) * s * 5 // 8
    pen.rounded_rectangle((0, mid - stroke // 2, w * s - head // 2, mid + stroke // 2),
                          stroke // 2, fill=255)  # fmt: skip
    pen.polygon([(w * s - head, mid - head * 4 // 5), (w * s, mid),
                 (w * s - head, mid + head * 4 // 5)], fill=255)  # fmt: skip
    mask = big.resize((w, h), Image.Resampling.LANCZOS)
    ink = Image.new("RGBA", (w, h), color)
    ink.putalpha(mask)
    canvas.alpha_composite(ink, (x, y))


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
        color = paint(version, element.color, TEXT_ROLES[key])
        pill = paint(version, None, "accent") if key == "life_tag" else None

        def draw_text(canvas, origin, set_text=set_text, element=element, color=color, pill=pill):
            if pill is not None:
                draw_pill(canvas, set_text, element.box, pill, origin)
            text.draw(canvas, set_text, _inset(element, set_text if pill else None), color,
                      element.align, element.valign, offset=(-origin[0], -origin[1]))  # fmt: skip

        x, y, w, h = element.box
        bleed = element.size // 3  # glyphs may reach a little beyond their box
        key_ = None if unique else ("text", key, content)
        # Glyphs may reach beyond the box sideways too: a text spans the whole width.
        found.append(Part(y - bleed, y + h + bleed, key_, draw_text, 0, layout.canvas.width))
    count = len(poster.picks)
    height = layout.card_height(count)
    blank = _blank_args(version, layout, height)
    shift = (height - layout.slots.card.height) // 2  # a grown card keeps its face centred
    slots = layout.slots
    boxes = [slots.icon.box] + [style.box for style in (slots.label, slots.description, slots.tag)
                                if style is not None]  # fmt: skip
    # The rows a face may cover (its slots'): its band's rows, the same for every choice, so
    # the rows between cards are too, and are kept once.
    rows = (min(box[1] for box in boxes), max(box[1] + box[3] for box in boxes))
    for choice_id, (x, y) in zip(poster.picks, layout.card_positions(count), strict=True):
        card_key = ("card", x, y, height, choice_id)
        face = card_face(version, poster.layout, choice_id)
        if face is not None and opaque_under(blank, face.box, shift):
            left, top, right, bottom = face.box
            at = (x + left, y + shift + top)

            def paste_face(canvas, origin, face=face, at=at):
                canvas.paste(caches.unpack(face.image), (at[0] - origin[0], at[1] - origin[1]))

            def face_patch(face=face, at=at) -> Patch:
                size = face.image.size
                return Patch(at[0], at[1], size[0], size[1], caches.unpacked_bytes(face.image))

            span = (y + shift + min(rows[0], top), y + shift + max(rows[1], bottom))
            found.append(Part(*span, card_key, paste_face, at[0], x + right, face_patch))
            continue

        def draw_on_card(canvas, origin, x=x, y=y, choice_id=choice_id):
            draw_face(canvas, version, layout, version.catalog.choice(choice_id),
                      x - origin[0], y - origin[1], height)  # fmt: skip

        found.append(Part(y - PAD, y + height + PAD, card_key, draw_on_card,
                          x - PAD, x + slots.card.width + PAD))  # fmt: skip
    code = layout.qr
    ink = _qr_colours(version, layout)[0]

    def draw_qr(canvas, origin):  # on its paper, in the static layer
        dark, offset = qr.dark_modules(poster.url, code.size)
        left, top = code.x + offset - origin[0], code.y + offset - origin[1]
        canvas.paste(ink, (left, top, left + dark.width, top + dark.height), dark)

    found.append(Part(code.y, code.y + code.size, None, draw_qr, code.x, code.x + code.size))
    return found


def _qr_colours(version: CatalogVersion, layout: Layout) -> tuple[str, str]:
    """Return the QR code's ink and paper (both opaque: layouts and themes allow no alpha)."""
    code, theme = layout.qr, version.theme
    ink = code.color or (theme.qr_ink if theme else "#111111")
    return ink, code.background or (theme.panel if theme else "#FFFFFF")


def draw_pill(canvas: Image.Image, set_text, box, color: str, origin: tuple[int, int]) -> None:
    """Draw the tag badge: a rounded bar of ``color`` hugging the text, left in ``box``."""
    x, y, _, h = box
    pad = round(set_text.size * PILL_PAD)
    w = round(max(text.width(line, set_text.kind, set_text.size) for line in set_text.lines))
    fill_shape(canvas, "rect", (x - origin[0], y - origin[1], w + 2 * pad, h), color, h // 2)


def _inset(element, pill_text):
    """Return the box text is set in: inside the badge's padding when it has one."""
    if pill_text is None:
        return element.box
    x, y, w, h = element.box
    pad = round(pill_text.size * PILL_PAD)
    return (x + pad, y, w - 2 * pad, h)


class Face(NamedTuple):
    """A choice's face: its icon and texts as drawn on the card's fill, cut to their ink
    (RGB: the fill is opaque)."""

    image: caches.Packed
    box: tuple[int, int, int, int]  # left, top, right, bottom from the card's top-left corner


FACE_MARGIN = 64  # ink reaching further beyond the card than this is drawn on the poster


def card_face(version: CatalogVersion, layout_id: str, choice_id: str) -> Face | None:
    """Return a choice's face for the layout's cards, kept deflated: the same wherever the
    card stands and however tall it grows, so all the faces of the shipped catalog, layouts
    and a theme take 7.6 MB (hero's 44 KB each, grid's 10 KB). None when no face
    can be cut out: a translucent card, an accent bar (it grows with the card), or ink that
    reaches far beyond the card; such cards are drawn on the poster itself.

    Pasting a face gives exactly the pixels of drawing on the card wherever the blank card
    is opaque under all of its box (``opaque_under``): there, card and fill are one colour.
    """
    layout = version.layouts[layout_id]
    card = layout.slots.card
    fill = _blank_args(version, layout, card.height)[2]
    if card.accent == "bar" or ImageColor.getrgb(fill)[3:] not in ((), (255,)):
        return None
    key = (version.version, layout_id, choice_id) if version.version else None
    found = caches.CARD_FACES.get_or_make(
        key, lambda: _cut_face(version, layout, version.catalog.choice(choice_id), fill)
    )
    return None if found is NO_FACE else found


NO_FACE = Face(caches.Packed("RGBA", (0, 0), b""), (0, 0, 0, 0))  # kept: no face to cut


def _cut_face(version: CatalogVersion, layout: Layout, choice: Choice, fill: str) -> Face:
    card = layout.slots.card
    size = (card.width + 2 * FACE_MARGIN, card.height + 2 * FACE_MARGIN)
    canvas = Image.new("RGBA", size, fill)
    draw_face(canvas, version, layout, choice, FACE_MARGIN, FACE_MARGIN, card.height)
    ink = ImageChops.difference(canvas, Image.new("RGBA", size, fill)).getbbox(alpha_only=False)
    if ink is None:  # nothing drawn: a pixel of the fill
        ink = (FACE_MARGIN, FACE_MARGIN, FACE_MARGIN + 1, FACE_MARGIN + 1)
    if ink[0] == 0 or ink[1] == 0 or ink[2] == size[0] or ink[3] == size[1]:
        return NO_FACE  # it may reach further still
    box = tuple(side - FACE_MARGIN for side in ink)
    return Face(caches.pack(canvas.crop(ink).convert("RGB")), box)  # type: ignore[arg-type]


def frame(version: CatalogVersion, layout_id: str, count: int) -> Image.Image:
    """Return the static layer with the blank cards of ``count`` picks drawn on it: what all
    posters of that many picks share (a new image, free to draw on)."""
    canvas = static_layer(version, layout_id)
    layout = version.layouts[layout_id]
    blank = blank_card(*_blank_args(version, layout, layout.card_height(count)))
    for x, y in layout.card_positions(count):
        canvas.alpha_composite(blank, (x - PAD, y - PAD))
    return canvas


def _blank_args(version: CatalogVersion, layout: Layout, height: int) -> tuple:
    """Return ``blank_card``'s arguments for the layout's cards, ``height`` tall."""
    card = layout.slots.card
    theme = version.theme
    fill = card.fill or (theme.card if theme else "#FFFFFF")
    edge = card.border or (theme.card_edge if theme and theme.card_edge != fill else None)
    return (card.width, height, fill, edge, card.radius)


@caches.memo("compose.opaque_under")
def opaque_under(blank: tuple, box: tuple[int, int, int, int], shift: int) -> bool:
    """Tell whether ``blank_card(*blank)`` is opaque under all of a face's ``box`` (from the
    card's corner, moved down ``shift`` px)."""
    left, top, right, bottom = box
    inside = (left + PAD, top + PAD + shift, right + PAD, bottom + PAD + shift)
    tile = blank_card(*blank)
    if inside[0] < 0 or inside[1] < 0 or inside[2] > tile.width or inside[3] > tile.height:
        return False
    return tile.getchannel("A").crop(inside).getextrema() == (255, 255)


def element_text(key: str, element: TextElement, catalog: Catalog, poster: Poster) -> str:
    """Fill an element's template with the campaign's texts, the name and the count."""
    from ..layouts import CAMPAIGN_PLACEHOLDERS, DEFAULT_TEXTS, fill

    template = element.text or DEFAULT_TEXTS[key]
    if "{name}" in template and not poster.name:
        return element.if_no_name or ""
    campaign = catalog.campaign
    values = {field: getattr(campaign, field) for field in CAMPAIGN_PLACEHOLDERS}
    values["name"] = poster.name
    values["count"] = str(len(poster.picks))
    values["tag"] = life_tag(catalog, poster.picks) if "{tag}" in template else ""
    return fill(template, values)


def background(version: CatalogVersion, layout: Layout) -> Image.Image:
    """Return the layout's background as a new RGBA image (only the static layer is kept)."""
    size = (layout.canvas.width, layout.canvas.height)
    spec = layout.background
    if spec is None:  # the theme's: a vertical gradient
        theme = version.theme
        top, bottom = (theme.background.top, theme.background.bottom) if theme else ("#FFFFFF",) * 2
        return _gradient(size, top, bottom, "vertical")
    if spec.color:
        return Image.new("RGBA", size, spec.color)
    if spec.image:
        with Image.open(io.BytesIO(version.asset(spec.image))) as image:
            return image.convert("RGBA").resize(size, Image.Resampling.LANCZOS)
    gradient = spec.gradient
    assert gradient is not None, "a Background holds exactly one of color, image, gradient"
    return _gradient(size, gradient.top, gradient.bottom, gradient.direction)


def _gradient(size, top_color: str, bottom_color: str, direction: str) -> Image.Image:
    down = Image.linear_gradient("L")  # 256×256, dark at the top, light at the bottom
    across = down.transpose(Image.Transpose.TRANSPOSE)  # dark at the left
    ramp = {"vertical": down, "horizontal": across, "diagonal": Image.blend(down, across, 0.5)}[
        direction
    ]
    mask = ramp.resize(size, Image.Resampling.BICUBIC)
    top = Image.new("RGBA", size, top_color)
    bottom = Image.new("RGBA", size, bottom_color)
    return Image.composite(bottom, top, mask)


@caches.budgeted("shape_masks")
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


def draw_face(
    canvas: Image.Image,
    version: CatalogVersion,
    layout: Layout,
    choice: Choice,
    x: int,
    y: int,
    height: int,
) -> None:
    """Draw a choice's face onto its card, whose top-left corner is at (x, y): accent bar,
    icon and texts. A card taller than its design (``grow_to``) keeps its contents centred:
    they move down by half the difference.
    """
    slots, card = layout.slots, layout.slots.card
    catalog = version.catalog
    accent = catalog.category(choice.category).color
    if card.accent == "bar":
        bar_h = height - 2 * card.radius
        fill_shape(canvas, "rect", (x, y + card.radius, 8, bar_h), accent, 4)
    y += (height - card.height) // 2
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
    parts = [(slots.label, choice.label, paint(version, slots.label.color, "card_ink"))]
    if slots.description and choice.description:
        soft = paint(version, slots.description.color, "card_soft")
        parts.append((slots.description, choice.description, soft))
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


@caches.budgeted("blank_cards")
def blank_card(width: int, height: int, fill: str, edge: str | None, radius: int) -> Image.Image:
    """Return an empty card (edge and fill) on a tile PAD px larger each side."""
    tile = Image.new("RGBA", (width + 2 * PAD, height + 2 * PAD), (0, 0, 0, 0))
    if edge:
        fill_shape(tile, "rect", (0, 0, width + 4, height + 4), edge, radius + 2)
    fill_shape(tile, "rect", (PAD, PAD, width, height), fill, radius)
    return tile


def tag_text(catalog: Catalog, choice: Choice) -> str:
    """Return the small line naming the choice's category, and its city if it has one."""
    category = catalog.category(choice.category).label
    region = next((r.label for r in catalog.regions if r.id == choice.region), None)
    return f"{region} · {category}" if region else category
