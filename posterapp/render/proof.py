"""Proofreading a catalog against the layouts and fonts, before anyone sees a poster.

These checks need the fonts and the text setter, so they live beside the renderer: every
character must be drawable (no tofu), every emoji icon must be one emoji, and every label,
campaign text and the longest allowed name must fit its place in every layout it can reach.
"""

from __future__ import annotations

from ..catalog import Catalog, Parts
from ..i18n import _
from ..layouts import CAMPAIGN_PLACEHOLDERS, DEFAULT_TEXTS, Layout, fill, in_order
from ..yamldoc import Document
from . import fonts, text

# The widest ordinary character: a name of N of these is the longest name can get.
WIDE = "鑫"


def undrawable_message(chars: list[str]) -> str:
    shown = " ".join(f"'{c}' (U+{ord(c):04X})" for c in chars)
    return _("有海报字体写不出来的字：%(chars)s；换掉或删掉它们", chars=shown)


def _glyphs(doc: Document, path, value: str | None) -> None:
    missing = fonts.undrawable(value or "")
    if missing:
        doc.add(path, undrawable_message(missing))


def check_layout(layout: Layout, doc: Document) -> None:
    """Check that a layout's own texts can be drawn."""
    for key, element in layout.texts().items():
        for attr in ("text", "if_no_name"):
            _glyphs(doc, (key, attr), getattr(element, attr))


def check_catalog(catalog: Catalog, layouts: dict[str, Layout], doc: Document) -> None:
    """Add to ``doc`` every character, emoji and fit problem of ``catalog`` in ``layouts``."""
    check_parts(Parts.of(catalog), layouts, doc)


def check_parts(parts: Parts, layouts: dict[str, Layout], doc: Document) -> None:
    """Proofread the well-formed parts of a catalog, even when other parts have problems.

    Staff see every problem at once: a label too long for its card is reported beside a typo
    elsewhere, not only after the typo is fixed.
    """
    campaign = parts.campaign
    if campaign is not None:
        for key in CAMPAIGN_PLACEHOLDERS:
            _glyphs(doc, ("campaign", key), getattr(campaign, key))
    for i, category in parts.categories.items():
        _glyphs(doc, ("categories", i, "label"), category.label)
    for i, region in parts.regions.items():
        _glyphs(doc, ("regions", i, "label"), region.label)
    drawable = {}
    for i, choice in parts.choices.items():
        before = len(doc.problems)
        _glyphs(doc, ("choices", i, "label"), choice.label)
        _glyphs(doc, ("choices", i, "description"), choice.description)
        if not choice.icon_is_image:
            _check_emoji(doc, ("choices", i, "icon"), choice.icon)
        if len(doc.problems) == before:
            drawable[i] = choice
    if campaign is not None:
        targets = reachable_by(campaign, layouts)
    else:  # the campaign has its own problems: check the labels against every layout
        targets = in_order(layouts.values())
    for layout in targets:
        if campaign is not None:
            _check_campaign_fit(campaign, layout, doc)
        _check_labels_fit(drawable, layout, doc)


def _check_emoji(doc: Document, path, icon: str) -> None:
    clusters = fonts.clusters(icon)
    if len(clusters) != 1 or not fonts.is_emoji_cluster(clusters[0]):
        doc.add(
            path,
            _(
                '图标「%(icon)s」要么是一个 emoji（放进引号，比如 "🍜"），'
                "要么是图片路径，比如 icons/noodles.png",
                icon=icon,
            ),
        )
    else:
        _glyphs(doc, path, icon)


def reachable(catalog: Catalog, layouts: dict[str, Layout]) -> list[Layout]:
    """Return the layouts a poster of this catalog can end up in."""
    return reachable_by(catalog.campaign, layouts)


def reachable_by(campaign, layouts: dict[str, Layout]) -> list[Layout]:
    """Return the layouts a poster of this campaign's rules and pick limits can end up in."""
    rules = campaign.layout_rules
    if rules.user_choice:
        wanted = set(layouts)
    else:
        wanted = {r.layout for r in rules.rules} | {rules.default}
    low, high = campaign.min_picks, campaign.max_picks
    found = [
        layouts[k]
        for k in wanted
        if k in layouts and layouts[k].min_picks <= high and layouts[k].max_picks >= low
    ]
    return in_order(found)


def _too_long(style, content: str) -> bool:
    return text.fit_style(content, style).truncated


def _capacity(style) -> int:
    """Roughly how many Chinese characters fit a style's box at its smallest size."""
    per_line = max(1, style.box[2] // style.smallest)
    return per_line * style.max_lines


def _check_campaign_fit(campaign, layout: Layout, doc: Document) -> None:
    for key, element in layout.texts().items():
        template = element.text or DEFAULT_TEXTS[key]
        for field in CAMPAIGN_PLACEHOLDERS:
            if "{" + field + "}" in template:
                values = {field: getattr(campaign, field), "count": str(campaign.max_picks)}
                filled = fill(template, values)
                if _too_long(element, filled):
                    doc.add(
                        ("campaign", field),
                        _(
                            "在「%(layout)s」排版里放不下，字号缩到 %(px)s px 也不行；"
                            "请控制在大约 %(most)s 个字以内",
                            layout=layout.label,
                            px=element.smallest,
                            most=_capacity(element),
                        ),
                    )
        if "{name}" in template:
            worst = fill(template, {"name": WIDE * campaign.name_max_length})
            if _too_long(element, worst):
                doc.add(
                    ("campaign", "name_max_length"),
                    _(
                        "%(count)s 个字的名字在「%(layout)s」排版里放不下；"
                        "最多只能允许大约 %(most)s 个字",
                        count=campaign.name_max_length,
                        layout=layout.label,
                        most=_capacity(element),
                    ),
                )


def _check_labels_fit(choices: dict, layout: Layout, doc: Document) -> None:
    slots = layout.slots
    for i, choice in choices.items():
        if _too_long(slots.label, choice.label):
            doc.add(
                ("choices", i, "label"),
                _(
                    "名称在「%(layout)s」排版的卡片里放不下（字号缩到 %(px)s px、"
                    "排 %(lines)s 行也不行）；请缩短到大约 %(most)s 个字以内",
                    layout=layout.label,
                    px=slots.label.smallest,
                    lines=slots.label.max_lines,
                    most=_capacity(slots.label),
                ),
            )


def break_warnings(catalog: Catalog, layouts: dict[str, Layout]) -> list[str]:
    """Return, in plain Chinese, each label that can only break inside a word in some layout."""
    found = []
    for layout in reachable(catalog, layouts):
        style = layout.slots.label
        for i, choice in enumerate(catalog.choices):
            lines = text.fit_style(choice.label, style).lines
            split = text.broken_word(choice.label, lines)
            if split:
                found.append(
                    f"choices[{i}].label：「{choice.label}」在「{layout.label}」排版里只能从词中间"
                    f"换行（{split}），可以缩短几个字，或换个说法"
                )
    return found
