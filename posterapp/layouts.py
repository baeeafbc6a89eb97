"""Poster layout templates (``assets/layouts/*.yaml``) and the rule that picks one.

A layout places everything on a 1080×1920 canvas: background, decorative shapes, the texts
(title, the user's name, slogan, count, brand, footer), the group of choice cards and the QR
code. Boxes are ``[x, y, width, height]`` in pixels; inside a card they are relative to the
card. Validation checks geometry too: everything inside the canvas, no two elements
overlapping, room for the most cards the layout accepts, a QR code big enough to scan.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Annotated, Literal, Self

from pydantic import AfterValidator, BeforeValidator, Field, model_validator

from . import yamldoc
from .assets import AssetError, Assets
from .catalog import Catalog, Color, Model, Slug, Text, _color
from .errors import SelectionError
from .i18n import _, join

MIN_QR_SIZE = 369  # a version 4 code at 9 px modules with its 4-module quiet zone (render.qr)
# Colours a layout may name instead of "#RRGGBB": the theme gives them (posterapp.themes).
ROLES = ("ink", "soft", "accent", "on_accent", "card_ink", "card_soft", "panel_ink", "panel_soft")


def _paint(value: str) -> str:
    return value if value in ROLES else _color(value)


Paint = Annotated[str, AfterValidator(_paint)]

# YAML gives lists; boxes are kept as tuples so that layouts stay hashable.
Box = Annotated[
    tuple[int, int, int, int], BeforeValidator(lambda v: tuple(v) if isinstance(v, list) else v)
]


class TextStyle(Model):
    """How a piece of text is set: where, which face, how big, how many lines."""

    box: Box = Field(description="x, y, width, height in pixels")
    font: Literal["regular", "bold"] = "regular"
    size: int = Field(ge=8, le=400, description="preferred size in pixels")
    min_size: int | None = Field(None, ge=8, le=400, description="shrink down to this size")
    color: Paint | None = Field(None, description="#RRGGBB, or a theme colour like 'ink'")
    align: Literal["left", "center", "right"] = "left"
    valign: Literal["top", "middle", "bottom"] = "top"
    max_lines: int = Field(1, ge=1, le=8)
    line_height: float = Field(1.3, ge=1.0, le=3.0)

    @property
    def smallest(self) -> int:
        return self.min_size or self.size

    @model_validator(mode="after")
    def _sizes(self) -> Self:
        if self.min_size is not None and self.min_size > self.size:
            raise ValueError(
                _("min_size（%(low)s）比 size（%(size)s）还大", low=self.min_size, size=self.size)
            )
        return self


class TextElement(TextStyle):
    """A text on the poster; ``text`` may use the ``PLACEHOLDERS``, like {title} or {name}."""

    text: Text | None = None
    if_no_name: Text | None = Field(None, description="text used when the user gave no name")


class Gradient(Model):
    top: Color = Field(alias="from")
    bottom: Color = Field(alias="to")
    direction: Literal["vertical", "horizontal", "diagonal"] = "vertical"


class Background(Model):
    """Exactly one of: a flat colour, a gradient, or an image under assets/."""

    color: Color | None = None
    gradient: Gradient | None = None
    image: Text | None = None

    @model_validator(mode="after")
    def _one(self) -> Self:
        given = [k for k in ("color", "gradient", "image") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(
                _(
                    "color、gradient、image 只能写一个（现在写了：%(given)s）",
                    given=", ".join(given) or _("（没有）"),
                )
            )
        return self


class Shape(Model):
    """A decorative circle or rounded rectangle behind everything else."""

    kind: Literal["circle", "rect"]
    box: Box
    fill: Color
    radius: int = Field(0, ge=0)


class Card(Model):
    width: int = Field(ge=40)
    height: int = Field(ge=40)
    grow_to: int | None = Field(
        None, ge=40, description="cards grow up to this height when fewer rows leave room"
    )
    fill: Color | None = Field(None, description="none: the theme's card colour")
    radius: int = Field(24, ge=0)
    border: Color | None = None
    accent: Literal["bar", "none"] = Field("none", description="a stripe in the category colour")


class Icon(Model):
    box: Box = Field(description="x, y, width, height inside the card (width = height)")
    backdrop: Literal["circle", "none"] = "circle"


class Slots(Model):
    """The group of choice cards: a grid of ``columns``, centred in ``box``."""

    box: Box
    columns: int = Field(1, ge=1, le=6)
    gap: int = Field(24, ge=0)
    card: Card
    icon: Icon
    label: TextStyle
    description: TextStyle | None = None
    tag: TextStyle | None = Field(None, description="category (and city) in the category colour")


class QR(Model):
    x: int
    y: int
    size: int = Field(description="side of the white square holding the code, in pixels")
    color: Color | None = Field(None, description="none: the theme's QR ink")
    background: Color | None = Field(None, description="none: the theme's panel colour")
    radius: int = Field(16, ge=0)


class Panel(Model):
    """The call-to-action panel: a rounded tile that holds the QR code and its words."""

    box: Box
    radius: int = Field(36, ge=0)


class Canvas(Model):
    width: int = Field(1080, ge=320, le=2160)
    height: int = Field(1920, ge=320, le=3840)


class Layout(Model):
    """One poster layout template."""

    id: Slug
    label: Text = Field(description="what users see when they choose a layout")
    min_picks: int = Field(1, ge=1)
    max_picks: int = Field(ge=1)
    canvas: Canvas = Canvas()
    background: Background | None = Field(None, description="none: the theme's background")
    keyvisual: Box | None = Field(None, description="where the theme's illustration goes")
    shapes: list[Shape] = Field(default_factory=list)
    title: TextElement
    name_line: TextElement = Field(alias="name")
    subtitle: TextElement | None = None
    life_tag: TextElement | None = Field(None, description="the 生活标签 badge, {tag}")
    count: TextElement | None = None
    brand: TextElement | None = None
    footer: TextElement | None = None
    panel: Panel | None = None
    cta: TextElement | None = Field(None, description="the call to action beside the QR code")
    cta_hint: TextElement | None = None
    arrow: Box | None = Field(None, description="an arrow pointing at the QR code")
    slots: Slots
    qr: QR

    def texts(self) -> dict[str, TextElement]:
        """Return the text elements present, by their key in the file."""
        named = {
            "title": self.title,
            "name": self.name_line,
            "subtitle": self.subtitle,
            "count": self.count,
            "brand": self.brand,
            "footer": self.footer,
            "life_tag": self.life_tag,
            "cta": self.cta,
            "cta_hint": self.cta_hint,
        }
        return {k: v for k, v in named.items() if v is not None}

    def card_height(self, count: int) -> int:
        """Return how tall cards are for ``count`` picks: grown into room that fewer rows leave."""
        card, slots = self.slots.card, self.slots
        if not card.grow_to or count < 1:
            return card.height
        rows = math.ceil(count / slots.columns)
        room = (slots.box[3] - (rows - 1) * slots.gap) // rows
        return max(card.height, min(card.grow_to, room))

    def accepts(self, count: int) -> bool:
        return self.min_picks <= count <= self.max_picks

    def card_positions(self, count: int) -> list[tuple[int, int]]:
        """Place ``count`` cards: rows of ``columns``, the group centred, a short last row too."""
        slots, card = self.slots, self.slots.card
        card_h = self.card_height(count)
        columns = min(slots.columns, count)
        rows = math.ceil(count / slots.columns)
        x0, y0, width, height = slots.box
        total_h = rows * card_h + (rows - 1) * slots.gap
        top = y0 + (height - total_h) // 2
        positions = []
        for index in range(count):
            row, col = divmod(index, slots.columns)
            in_row = min(columns, count - row * slots.columns)
            row_w = in_row * card.width + (in_row - 1) * slots.gap
            left = x0 + (width - row_w) // 2
            positions.append(
                (left + col * (card.width + slots.gap), top + row * (card_h + slots.gap))
            )
        return positions


# What a layout's text may say in braces, filled in this order (see ``fill``): the campaign's
# own texts, then the person's name, how many they picked and their 生活标签.
CAMPAIGN_PLACEHOLDERS = ("title", "slogan", "brand", "footer")
PLACEHOLDERS = (*CAMPAIGN_PLACEHOLDERS, "name", "count", "tag")


def fill(template: str, values: Mapping[str, str]) -> str:
    """Fill in the placeholders of ``template`` that ``values`` gives, in ``PLACEHOLDERS`` order.

    Only these names are filled in: str.format would let a template reach attributes.
    """
    for field in PLACEHOLDERS:
        if field in values:
            template = template.replace("{" + field + "}", values[field])
    return template


def in_order(layouts: Iterable[Layout]) -> list[Layout]:
    """Return layouts in the one order people and staff see them: fewest picks first."""
    return sorted(layouts, key=lambda lay: (lay.min_picks, lay.max_picks, lay.id))


DEFAULT_TEXTS = {
    "title": "{title}",
    "name": "{name}",
    "subtitle": "{slogan}",
    "count": "{count}",
    "brand": "{brand}",
    "footer": "{footer}",
    "life_tag": "{tag}",
    "cta": "{footer}",
    "cta_hint": "",
}


def parse(text: str | bytes, file: str, assets: Assets) -> tuple[Layout | None, yamldoc.Document]:
    """Parse and check one layout file; return it and its document of problems."""
    doc = yamldoc.parse(text, file)
    layout = yamldoc.validate(doc, Layout)
    if layout is not None:
        check(layout, doc, assets)
    return layout, doc


def _inside(box: Box, width: int, height: int) -> bool:
    x, y, w, h = box
    return x >= 0 and y >= 0 and w > 0 and h > 0 and x + w <= width and y + h <= height


def _contains(outer: Box, inner: Box) -> bool:
    return (
        outer[0] <= inner[0]
        and outer[1] <= inner[1]
        and inner[0] + inner[2] <= outer[0] + outer[2]
        and inner[1] + inner[3] <= outer[1] + outer[3]
    )


def _overlap(a: Box, b: Box) -> bool:
    return a[0] < b[0] + b[2] and b[0] < a[0] + a[2] and a[1] < b[1] + b[3] and b[1] < a[1] + a[3]


def check(layout: Layout, doc: yamldoc.Document, assets: Assets) -> None:
    """Add the geometric and cross-field problems of ``layout`` to ``doc``."""
    stem = Path(doc.file).stem
    if layout.id != stem:
        doc.add(("id",), _("编号 %(id)s 要和文件名 %(stem)s.yaml 一致", id=layout.id, stem=stem))
    if layout.min_picks > layout.max_picks:
        doc.add(
            ("min_picks",),
            _(
                "min_picks（%(low)s）大于 max_picks（%(high)s）",
                low=layout.min_picks,
                high=layout.max_picks,
            ),
        )
    width, height = layout.canvas.width, layout.canvas.height
    if layout.background is not None and layout.background.image is not None:
        try:
            assets.read(layout.background.image, max_bytes=8 * 1024 * 1024)
        except AssetError as problem:
            doc.add(("background", "image"), str(problem))
    boxes: dict[str, Box] = {}
    for key, element in layout.texts().items():
        boxes[key] = element.box
        _check_text_box(doc, (key,), element, width, height)
    for i, shape in enumerate(layout.shapes):
        if not _inside(shape.box, width, height):
            doc.add(
                ("shapes", i, "box"),
                _outside(shape.box, width, height),
            )
    qr = layout.qr
    boxes["qr"] = (qr.x, qr.y, qr.size, qr.size)
    if qr.size < MIN_QR_SIZE:
        doc.add(
            ("qr", "size"),
            _(
                "二维码只有 %(size)s px：至少要 %(least)s px，海报被聊天软件压缩后才扫得出来",
                size=qr.size,
                least=MIN_QR_SIZE,
            ),
        )
    if not _inside(boxes["qr"], width, height):
        doc.add(
            ("qr",),
            _(
                "二维码（位置 %(x)s, %(y)s，大小 %(size)s）超出了 %(w)s×%(h)s 的画布",
                x=qr.x,
                y=qr.y,
                size=qr.size,
                w=width,
                h=height,
            ),
        )
    slots = layout.slots
    boxes["slots"] = slots.box
    if not _inside(slots.box, width, height):
        doc.add(("slots", "box"), _outside(slots.box, width, height))
    _check_cards(layout, doc)
    # The panel holds the call to action: what is inside it may not stick out of it.
    if layout.panel is not None:
        inside_panel: list[str] = [k for k in ("qr", "cta", "cta_hint", "brand") if k in boxes]
        if layout.arrow is not None:
            boxes["arrow"] = layout.arrow
            inside_panel.append("arrow")
        for key in inside_panel:
            if not _contains(layout.panel.box, boxes[key]):
                doc.add(
                    (key,),
                    _("%(key)s 要放在面板 %(box)s 里面", key=key, box=list(layout.panel.box)),
                )
        boxes = {k: v for k, v in boxes.items() if k not in inside_panel}
        boxes["panel"] = layout.panel.box
    names = list(boxes)
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            if _overlap(boxes[a], boxes[b]):
                doc.add((b,), _("%(b)s 和 %(a)s 重叠了：移开其中一个", b=b, a=a))
    # Decoration lives where content never goes.
    decorations: list[tuple[yamldoc.Path, Box]] = [
        (("shapes", i, "box"), shape.box) for i, shape in enumerate(layout.shapes)
    ]
    if layout.keyvisual is not None:
        decorations.append((("keyvisual",), layout.keyvisual))
    for path, box in decorations:
        for name, content in boxes.items():
            if _overlap(box, content):
                doc.add(path, _("这个装饰盖住了 %(name)s：装饰不能压在内容上", name=name))


def _outside(box: Box, width: int, height: int) -> str:
    return _("框 %(box)s 超出了 %(w)s×%(h)s 的范围", box=list(box), w=width, h=height)


def _check_text_box(
    doc: yamldoc.Document, path: yamldoc.Path, style: TextStyle, width: int, height: int
) -> None:
    if not _inside(style.box, width, height):
        doc.add((*path, "box"), _outside(style.box, width, height))
    need = math.ceil(style.smallest * style.line_height)
    if style.box[3] < need:
        doc.add(
            (*path, "box"),
            _(
                "框只有 %(tall)s px 高，但最小字号 %(size)s 的一行字就要 %(need)s px",
                tall=style.box[3],
                size=style.smallest,
                need=need,
            ),
        )


def _check_cards(layout: Layout, doc: yamldoc.Document) -> None:
    slots, card = layout.slots, layout.slots.card
    columns = min(slots.columns, layout.max_picks)
    rows = math.ceil(layout.max_picks / slots.columns)
    need_w = columns * card.width + (columns - 1) * slots.gap
    need_h = rows * card.height + (rows - 1) * slots.gap
    if need_w > slots.box[2] or need_h > slots.box[3]:
        doc.add(
            ("slots", "box"),
            _(
                "%(count)s 张卡片排 %(columns)s 列需要 %(w)s×%(h)s px，但框只有 %(bw)s×%(bh)s px",
                count=layout.max_picks,
                columns=columns,
                w=need_w,
                h=need_h,
                bw=slots.box[2],
                bh=slots.box[3],
            ),
        )
    inner = {"icon": slots.icon.box}
    if slots.icon.box[2] != slots.icon.box[3]:
        doc.add(("slots", "icon", "box"), _("图标框要是正方形（宽 = 高）"))
    for key in ("label", "description", "tag"):
        style = getattr(slots, key)
        if style is not None:
            inner[key] = style.box
            _check_text_box(doc, ("slots", key), style, card.width, card.height)
    if not _inside(slots.icon.box, card.width, card.height):
        doc.add(
            ("slots", "icon", "box"),
            _outside(slots.icon.box, card.width, card.height),
        )
    names = list(inner)
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            if _overlap(inner[a], inner[b]):
                doc.add(("slots", b, "box"), _("卡片里 %(b)s 和 %(a)s 重叠了", b=b, a=a))


def check_rules(catalog: Catalog, layouts: dict[str, Layout], doc: yamldoc.Document) -> None:
    """Check the catalog's layout rules against the layouts; problems go on the catalog doc."""
    rules = catalog.campaign.layout_rules
    base = ("campaign", "layout_rules")
    known = ", ".join(sorted(layouts)) or _("（没有）")
    if rules.default not in layouts:
        doc.add(
            (*base, "default"),
            _("没有 %(id)s 这个排版；可用的排版：%(known)s", id=rules.default, known=known),
        )
    for i, rule in enumerate(rules.rules):
        layout = layouts.get(rule.layout)
        if layout is None:
            doc.add(
                (*base, "rules", i, "layout"),
                _("没有 %(id)s 这个排版；可用的排版：%(known)s", id=rule.layout, known=known),
            )
        elif (
            rule.min_picks < layout.min_picks
            or min(rule.max_picks, catalog.campaign.max_picks) > layout.max_picks
        ):
            doc.add(
                (*base, "rules", i),
                _(
                    "排版 %(id)s 只能放 %(low)s–%(high)s 项，"
                    "但这条规则让它放 %(rlow)s–%(rhigh)s 项",
                    id=rule.layout,
                    low=layout.min_picks,
                    high=layout.max_picks,
                    rlow=rule.min_picks,
                    rhigh=min(rule.max_picks, catalog.campaign.max_picks),
                ),
            )
    if doc.problems:
        return
    for count in range(catalog.campaign.min_picks, catalog.campaign.max_picks + 1):
        if not any(layout.accepts(count) for layout in _candidates(catalog, layouts, count)):
            doc.add(
                (*base,),
                _("选 %(count)s 项时没有排版可用：加一条规则，或放宽一条", count=count),
            )
            break


def _candidates(catalog: Catalog, layouts: dict[str, Layout], count: int) -> list[Layout]:
    rules = catalog.campaign.layout_rules
    names = [r.layout for r in rules.rules if r.min_picks <= count <= r.max_picks]
    names.append(rules.default)
    return [layouts[n] for n in names if n in layouts]


def choose(
    catalog: Catalog, layouts: dict[str, Layout], picks: list[str], requested: str | None = None
) -> Layout:
    """Pick the layout for a selection: the user's choice if allowed, else the first rule."""
    count = len(picks)
    rules = catalog.campaign.layout_rules
    if requested:
        layout = layouts.get(requested)
        if layout is None:
            raise SelectionError(
                _(
                    "没有「%(layout)s」这种版式，可以选%(layouts)s",
                    layout=requested[:40],
                    layouts=join(sorted(layouts)),
                ),
                field="layout",
            )
        if not rules.user_choice and requested != _by_rules(catalog, layouts, picks).id:
            raise SelectionError(_("这次活动会帮你挑好版式，不用自己选哦"), field="layout")
        if not layout.accepts(count):
            raise SelectionError(
                _(
                    "「%(label)s」版式放 %(min)s–%(max)s 项，你选了 %(count)s 项，"
                    "换一个版式或者增减几项吧",
                    label=layout.label,
                    min=layout.min_picks,
                    max=layout.max_picks,
                    count=count,
                ),
                field="layout",
            )
        return layout
    return _by_rules(catalog, layouts, picks)


def _by_rules(catalog: Catalog, layouts: dict[str, Layout], picks: list[str]) -> Layout:
    count = len(picks)
    shares = Counter(catalog.choice(p).category for p in picks)
    for rule in catalog.campaign.layout_rules.rules:
        if not rule.min_picks <= count <= rule.max_picks:
            continue
        if rule.category and shares[rule.category] / count < rule.min_share:
            continue
        if rule.layout in layouts and layouts[rule.layout].accepts(count):
            return layouts[rule.layout]
    default = layouts.get(catalog.campaign.layout_rules.default)
    if default is None or not default.accepts(count):
        raise SelectionError(
            _("选了 %(count)s 项还没有合适的版式，增减几项再试试吧", count=count),
            field="choices",
        )
    return default
