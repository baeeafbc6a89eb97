"""Poster themes (``assets/themes/*.yaml``): one visual system applied to every layout.

A theme is a palette (background, ink, accent, card and panel colours) and a keyvisual, an
SVG illustration drawn into each layout's keyvisual box. Layouts place things; themes colour
them; so hero, list and grid of one theme look like one campaign. The catalog picks the
theme (``campaign.theme``). Validation checks contrast the way WCAG measures it: text at
least 4.5:1 against what it sits on, cards and the QR panel set off from the background.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from . import yamldoc
from .assets import AssetError, Assets, check_icon
from .catalog import Color, Model, Slug, Text

MIN_TEXT_CONTRAST = 4.5
MIN_LARGE_TEXT_CONTRAST = 3.0
MIN_SURFACE_CONTRAST = 1.3  # a card or panel against the background, or else an edge


class Gradient(Model):
    top: Color = Field(alias="from", description="colour at the top of the poster")
    bottom: Color = Field(alias="to", description="colour at the bottom")


class Theme(Model):
    """A palette and a keyvisual; every colour says where it is used."""

    id: Slug
    label: Text = Field(description="what staff see when they choose a theme")
    background: Gradient
    keyvisual: Text = Field(description="SVG file under assets/themes/, the campaign's picture")
    ink: Color = Field(description="the headline and the person's name, on the background")
    soft: Color = Field(description="secondary lines on the background")
    accent: Color = Field(description="brand, count and the tag badge")
    on_accent: Color = Field(description="text on the accent colour")
    card: Color = Field(description="fill of the pick cards")
    card_edge: Color = Field(description="outline of the cards")
    card_ink: Color = Field(description="labels on cards")
    card_soft: Color = Field(description="descriptions on cards")
    panel: Color = Field(description="fill of the call-to-action panel around the QR code")
    panel_edge: Color = Field(description="outline of that panel")
    panel_ink: Color = Field(description="the call to action")
    panel_soft: Color = Field(description="the smaller line under it")
    qr_ink: Color = Field(description="the QR code's dark modules")

    @property
    def keyvisual_path(self) -> str:
        return f"themes/{self.keyvisual}"

    def role(self, name: str) -> str:
        """Return the colour of a role, like 'ink' or 'panel_soft'."""
        return getattr(self, name)


def luminance(color: str) -> float:
    """Relative luminance of "#RRGGBB" (WCAG 2)."""

    def channel(value: int) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (int(color[i : i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def contrast(a: str, b: str) -> float:
    """Contrast ratio of two colours, 1 to 21."""
    high, low = sorted((luminance(a[:7]), luminance(b[:7])), reverse=True)
    return (high + 0.05) / (low + 0.05)


# (text role, what it sits on, minimum ratio, what staff read)
TEXT_PAIRS = (
    ("ink", "background", MIN_TEXT_CONTRAST, "标题和名字"),
    ("soft", "background", MIN_TEXT_CONTRAST, "背景上的小字"),
    ("accent", "background", MIN_LARGE_TEXT_CONTRAST, "品牌和数量（大字）"),
    ("on_accent", "accent", MIN_TEXT_CONTRAST, "标签上的字"),
    ("card_ink", "card", MIN_TEXT_CONTRAST, "卡片上的选项名"),
    ("card_soft", "card", MIN_TEXT_CONTRAST, "卡片上的配文"),
    ("panel_ink", "panel", MIN_TEXT_CONTRAST, "二维码旁的引导语"),
    ("panel_soft", "panel", MIN_TEXT_CONTRAST, "二维码旁的小字"),
    ("qr_ink", "panel", MIN_TEXT_CONTRAST, "二维码"),
)


def check(theme: Theme, doc: yamldoc.Document, assets: Assets) -> None:
    """Add contrast and keyvisual problems of ``theme`` to ``doc``."""
    stem = Path(doc.file).stem
    if theme.id != stem:
        doc.add(("id",), f"id '{theme.id}' must match the file name '{stem}.yaml'")
    backgrounds = {"top": theme.background.top, "bottom": theme.background.bottom}
    for role, under, minimum, shown in TEXT_PAIRS:
        grounds = backgrounds if under == "background" else {under: theme.role(under)}
        for ground in grounds.values():
            ratio = contrast(theme.role(role), ground)
            if ratio < minimum:
                doc.add(
                    (role,),
                    f"{shown}的颜色 {theme.role(role)} 和底色 {ground} 对比度只有 {ratio:.2f}:1，"
                    f"至少要 {minimum}:1，换一个更深或更浅的颜色吧",
                )
    for surface, edge, shown in (
        ("card", "card_edge", "卡片"),
        ("panel", "panel_edge", "二维码面板"),
    ):
        for ground in backgrounds.values():
            ratio = max(contrast(theme.role(surface), ground), contrast(theme.role(edge), ground))
            if ratio < MIN_SURFACE_CONTRAST:
                doc.add(
                    (edge,),
                    f"{shown}和背景 {ground} 几乎分不出来（{ratio:.2f}:1），"
                    f"给{shown}换个颜色或加一圈深一点的边（至少 {MIN_SURFACE_CONTRAST}:1）",
                )
    try:
        check_icon(theme.keyvisual_path, assets.read(theme.keyvisual_path))
    except AssetError as problem:
        doc.add(("keyvisual",), str(problem))


def parse(text: str | bytes, file: str, assets: Assets) -> tuple[Theme | None, yamldoc.Document]:
    doc = yamldoc.parse(text, file)
    theme = yamldoc.validate(doc, Theme)
    if theme is not None:
        check(theme, doc, assets)
    return theme, doc
