"""Proofreading a catalog against the layouts and fonts, before anyone sees a poster.

These checks need the fonts and the text setter, so they live beside the renderer: every
character must be drawable (no tofu), every emoji icon must be one emoji, and every label,
campaign text and the longest allowed name must fit its place in every layout it can reach.
"""

from __future__ import annotations

from ..catalog import Catalog
from ..layouts import DEFAULT_TEXTS, Layout
from ..yamldoc import Document
from . import fonts, text

# The widest ordinary character: a name of N of these is the longest name can get.
WIDE = "鑫"


def undrawable_message(chars: list[str]) -> str:
    shown = " ".join(f"'{c}' (U+{ord(c):04X})" for c in chars)
    return f"has characters no poster font can draw: {shown}; replace or remove them"


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
    campaign = catalog.campaign
    for key in ("title", "slogan", "brand", "footer"):
        _glyphs(doc, ("campaign", key), getattr(campaign, key))
    for i, category in enumerate(catalog.categories):
        _glyphs(doc, ("categories", i, "label"), category.label)
    for i, region in enumerate(catalog.regions):
        _glyphs(doc, ("regions", i, "label"), region.label)
    for i, choice in enumerate(catalog.choices):
        _glyphs(doc, ("choices", i, "label"), choice.label)
        _glyphs(doc, ("choices", i, "description"), choice.description)
        if not choice.icon_is_image:
            _check_emoji(doc, ("choices", i, "icon"), choice.icon)
    if doc.problems:
        return
    for layout in reachable(catalog, layouts):
        _check_fit(catalog, layout, doc)


def _check_emoji(doc: Document, path, icon: str) -> None:
    clusters = fonts.clusters(icon)
    if len(clusters) != 1 or not fonts.is_emoji_cluster(clusters[0]):
        doc.add(
            path,
            f"icon {icon!r} must be exactly one emoji, or an image path like icons/noodles.png",
        )
    else:
        _glyphs(doc, path, icon)


def reachable(catalog: Catalog, layouts: dict[str, Layout]) -> list[Layout]:
    """Return the layouts a poster of this catalog can end up in."""
    rules = catalog.campaign.layout_rules
    if rules.user_choice:
        wanted = set(layouts)
    else:
        wanted = {r.layout for r in rules.rules} | {rules.default}
    low, high = catalog.campaign.min_picks, catalog.campaign.max_picks
    found = [
        layouts[k]
        for k in wanted
        if k in layouts and layouts[k].min_picks <= high and layouts[k].max_picks >= low
    ]
    return sorted(found, key=lambda lay: (lay.min_picks, lay.max_picks, lay.id))


def _too_long(style, content: str) -> bool:
    return text.fit_style(content, style).truncated


def _capacity(style) -> int:
    """Roughly how many Chinese characters fit a style's box at its smallest size."""
    per_line = max(1, style.box[2] // style.smallest)
    return per_line * style.max_lines


def _check_fit(catalog: Catalog, layout: Layout, doc: Document) -> None:
    campaign = catalog.campaign
    where = f"in layout '{layout.id}'"
    for key, element in layout.texts().items():
        template = element.text or DEFAULT_TEXTS[key]
        for field in ("title", "slogan", "brand", "footer"):
            if "{" + field + "}" in template:
                filled = template.replace("{" + field + "}", getattr(campaign, field))
                filled = filled.replace("{count}", str(campaign.max_picks))
                if _too_long(element, filled):
                    doc.add(
                        ("campaign", field),
                        f"does not fit the {key} line {where} even "
                        f"at {element.smallest} px; keep it under about "
                        f"{_capacity(element)} characters",
                    )
        if "{name}" in template:
            worst = template.replace("{name}", WIDE * campaign.name_max_length)
            if _too_long(element, worst):
                doc.add(
                    ("campaign", "name_max_length"),
                    f"a name of "
                    f"{campaign.name_max_length} characters does not fit the name line "
                    f"{where}; allow at most about {_capacity(element)} characters",
                )
    slots = layout.slots
    for i, choice in enumerate(catalog.choices):
        if _too_long(slots.label, choice.label):
            doc.add(
                ("choices", i, "label"),
                f"'{choice.label}' does not fit its card {where} "
                f"even at {slots.label.smallest} px in {slots.label.max_lines} line(s); "
                f"keep labels under about {_capacity(slots.label)} characters",
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
