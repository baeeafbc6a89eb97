"""The campaign's choice catalog: its model, loading and validation.

A catalog is a YAML file under ``choices/`` written by campaign staff. Loading collects every
problem at once (syntax, unknown keys, wrong types, duplicate ids, unknown categories or
regions, icon files, pick limits) with its file, line and key path. Checks that need the
layouts and the fonts (does every label fit its slot, can every character be drawn) live in
``posterapp.render.proof``; ``posterapp.versions`` runs them all.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, PrivateAttr, ValidationError

from . import yamldoc
from .assets import IMAGE_SUFFIXES, AssetError, Assets, check_icon

NATIONWIDE = "nationwide"
SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
COLOR = re.compile(r"#[0-9A-Fa-f]{6}(?:[0-9A-Fa-f]{2})?")


def _slug(value: str) -> str:
    if not SLUG.fullmatch(value):
        raise ValueError(
            f"{value!r} is not a valid id: use lowercase letters, digits and "
            "single hyphens, like 'wuhan-hot-dry-noodles'"
        )
    return value


def _color(value: str) -> str:
    if not COLOR.fullmatch(value):
        raise ValueError(
            f'{value!r} is not a colour: write it as "#RRGGBB" (in quotes), like "#C0392B"'
        )
    return value.upper()


def _text(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be empty")
    if value != value.strip():
        raise ValueError("must not start or end with spaces")
    if any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise ValueError("must be a single line without control characters")
    return value


def _link(value: str) -> str:
    if not re.fullmatch(r"https?://[^\s/]+\S*", value):
        raise ValueError(f"{value!r} is not a web link: it must start with https:// or http://")
    return value


Slug = Annotated[str, AfterValidator(_slug)]
Color = Annotated[str, AfterValidator(_color)]
Text = Annotated[str, AfterValidator(_text)]
Link = Annotated[str, AfterValidator(_link)]


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class Rule(Model):
    """One layout rule: the first rule that matches a selection picks its layout."""

    layout: Slug = Field(description="id of a layout under assets/layouts/")
    min_picks: int = Field(1, ge=1, description="the rule applies from this many picks")
    max_picks: int = Field(1000, ge=1, description="… up to this many picks")
    category: Slug | None = Field(None, description="only when this category dominates")
    min_share: float = Field(0.5, gt=0, le=1, description="share of picks the category needs")


class LifeTag(Model):
    """A 生活标签 (life tag): a compliment shown when the picks lean towards some categories."""

    label: Text = Field(max_length=12, description="the tag, like 说走就走的旅行家")
    categories: list[Slug] = Field(min_length=1, description="category ids that count towards it")
    min_share: float = Field(0.4, gt=0, le=1, description="share of picks those categories need")


class LayoutRules(Model):
    """How a selection is mapped to a layout."""

    user_choice: bool = Field(False, description="let the user switch to any layout that fits")
    default: Slug = Field(description="layout used when no rule matches")
    rules: list[Rule] = Field(default_factory=list, description="tried in order")


class Campaign(Model):
    """Campaign metadata shown on every poster."""

    id: Slug = Field(description="stable id of the campaign")
    title: Text = Field(description="the poster's headline")
    slogan: Text = Field(description="the line under the headline")
    brand: Text = Field(description="brand name printed on the poster")
    footer: Text = Field(description="the call to scan, next to the QR code")
    min_picks: int = Field(ge=1, description="fewest choices a user must pick")
    max_picks: int = Field(ge=1, description="most choices a user may pick")
    name_max_length: int = Field(12, ge=1, le=40, description="longest name a user may type")
    name_blocklist: list[Text] = Field(
        default_factory=list, description="words a user's name may not contain"
    )
    layout_rules: LayoutRules
    theme: Slug | None = Field(None, description="the look: a theme under assets/themes/")
    life_tags: list[LifeTag] = Field(
        default_factory=list, description="tried in order; the first that matches is shown"
    )
    life_tag_default: Text | None = Field(
        None, max_length=12, description="the tag when no rule matches"
    )


class Category(Model):
    id: Slug
    label: Text
    color: Color = Field(description="accent colour, readable on white")


class Region(Model):
    id: Slug
    label: Text


class Choice(Model):
    """One of the things a user can pick for their poster."""

    id: Slug = Field(description="stable id; never change it once live")
    label: Text = Field(max_length=40, description="short phrase printed on the poster")
    category: Slug
    region: Slug = Field(NATIONWIDE, description="a region id, or 'nationwide'")
    icon: Text = Field(description="one emoji, or an image path under assets/, like icons/x.png")
    description: Text | None = Field(None, max_length=80)
    link: Link | None = Field(None, description="a service this choice leads to")

    @property
    def icon_is_image(self) -> bool:
        return is_image_path(self.icon)


class Catalog(Model):
    """The whole catalog: campaign, categories, regions and choices."""

    campaign: Campaign
    categories: list[Category] = Field(min_length=1)
    regions: list[Region] = Field(default_factory=list)
    choices: list[Choice] = Field(min_length=1)

    _choices: dict[str, Choice] = PrivateAttr(default_factory=dict)
    _categories: dict[str, Category] = PrivateAttr(default_factory=dict)

    def model_post_init(self, context) -> None:
        self._choices.update((c.id, c) for c in self.choices)
        self._categories.update((c.id, c) for c in self.categories)

    def choice(self, choice_id: str) -> Choice:
        return self._choices[choice_id]

    def has_choice(self, choice_id: str) -> bool:
        return choice_id in self._choices

    def category(self, category_id: str) -> Category:
        return self._categories[category_id]


def life_tag(catalog: Catalog, picks) -> str:
    """Return the 生活标签 for a selection: the first rule its categories satisfy."""
    campaign = catalog.campaign
    if not picks:
        return campaign.life_tag_default or ""
    shares = [catalog.choice(p).category for p in picks]
    for tag in campaign.life_tags:
        share = sum(1 for c in shares if c in tag.categories) / len(shares)
        if share >= tag.min_share:
            return tag.label
    return campaign.life_tag_default or ""


def is_image_path(icon: str) -> bool:
    return "/" in icon or "\\" in icon or Path(icon).suffix.lower() in IMAGE_SUFFIXES


def parse(text: str | bytes, file: str, assets: Assets) -> tuple[Catalog | None, yamldoc.Document]:
    """Parse and check a catalog; return it (None if unusable) and its document of problems."""
    doc = yamldoc.parse(text, file)
    catalog = yamldoc.validate(doc, Catalog)
    if catalog is not None:
        check(doc, assets, Parts.of(catalog))
    elif isinstance(doc.data, dict):
        # Some part is malformed: still check the parts that are fine, so one typo does not
        # hide a duplicate id or an unknown region until the next run.
        check(doc, assets, Parts.salvage(doc.data))
    return catalog, doc


@dataclass
class Parts:
    """The well-formed parts of a catalog, each list item under its index in the file."""

    campaign: Campaign | None
    categories: dict[int, Category]
    regions: dict[int, Region]
    choices: dict[int, Choice]
    choice_count: int
    # Ids choices may refer to, including those of malformed entries, so that one bad
    # category does not make every choice in it "unknown" too.
    category_ids: set[str]
    region_ids: set[str]

    @classmethod
    def of(cls, catalog: Catalog) -> Parts:
        return cls(
            catalog.campaign,
            dict(enumerate(catalog.categories)),
            dict(enumerate(catalog.regions)),
            dict(enumerate(catalog.choices)),
            len(catalog.choices),
            {c.id for c in catalog.categories},
            {r.id for r in catalog.regions},
        )

    @classmethod
    def salvage(cls, data: dict) -> Parts:
        """Validate each part on its own and keep those that pass (their errors are known)."""

        def items(key: str, model: type[Model]) -> dict[int, Model]:
            raw = data.get(key)
            if not isinstance(raw, list):
                return {}
            return {i: found for i, item in enumerate(raw) if (found := _quietly(model, item))}

        def ids(key: str) -> set[str]:
            raw = data.get(key)
            entries = raw if isinstance(raw, list) else []
            return {
                e["id"] for e in entries if isinstance(e, dict) and isinstance(e.get("id"), str)
            }

        choices = data.get("choices")
        return cls(
            _quietly(Campaign, data.get("campaign")),
            items("categories", Category),
            items("regions", Region),
            items("choices", Choice),
            len(choices) if isinstance(choices, list) else 0,
            ids("categories"),
            ids("regions"),
        )


def _quietly(model: type[Model], value) -> Model | None:
    try:
        return model.model_validate(value)
    except ValidationError:
        return None


def check(doc: yamldoc.Document, assets: Assets, parts: Parts) -> None:
    """Add to ``doc`` the problems that span several parts of the catalog."""
    _check_unique(doc, "categories", {i: c.id for i, c in parts.categories.items()})
    _check_unique(doc, "regions", {i: r.id for i, r in parts.regions.items()})
    _check_unique(doc, "choices", {i: c.id for i, c in parts.choices.items()})
    categories = parts.category_ids
    regions = parts.region_ids | {NATIONWIDE}
    for i, choice in parts.choices.items():
        if categories and choice.category not in categories:
            doc.add(
                ("choices", i, "category"),
                f"unknown category '{choice.category}'; "
                f"categories are: {', '.join(sorted(categories))}",
            )
        if choice.region not in regions:
            doc.add(
                ("choices", i, "region"),
                f"unknown region '{choice.region}'; use "
                f"'{NATIONWIDE}' or one of: {', '.join(sorted(regions - {NATIONWIDE}))}",
            )
        if choice.icon_is_image:
            try:
                check_icon(assets.shown(choice.icon), assets.read(choice.icon))
            except AssetError as problem:
                doc.add(("choices", i, "icon"), str(problem))
    campaign = parts.campaign
    if campaign is None:
        return
    if campaign.min_picks > campaign.max_picks:
        doc.add(
            ("campaign", "min_picks"),
            f"min_picks ({campaign.min_picks}) is more than max_picks ({campaign.max_picks})",
        )
    if campaign.max_picks > parts.choice_count:
        doc.add(
            ("campaign", "max_picks"),
            f"max_picks is {campaign.max_picks} but the catalog "
            f"has only {parts.choice_count} choices",
        )
    for i, tag in enumerate(campaign.life_tags):
        for j, category in enumerate(tag.categories):
            if categories and category not in categories:
                doc.add(
                    ("campaign", "life_tags", i, "categories", j),
                    f"生活标签「{tag.label}」用到了不存在的分类 '{category}'；"
                    f"可用的分类：{', '.join(sorted(categories))}",
                )
    if campaign.life_tags and campaign.life_tag_default is None:
        doc.add(
            ("campaign", "life_tag_default"),
            "有生活标签规则时，还要写一个 life_tag_default，给不符合任何规则的人用",
        )
    for i, rule in enumerate(campaign.layout_rules.rules):
        if rule.min_picks > rule.max_picks:
            doc.add(
                ("campaign", "layout_rules", "rules", i, "min_picks"),
                f"min_picks ({rule.min_picks}) is more than max_picks ({rule.max_picks})",
            )
        if rule.category is not None and categories and rule.category not in categories:
            doc.add(
                ("campaign", "layout_rules", "rules", i, "category"),
                f"unknown category '{rule.category}'",
            )


def _check_unique(doc: yamldoc.Document, key: str, ids: dict[int, str]) -> None:
    first: dict[str, int] = {}
    for i, item_id in ids.items():
        if item_id in first:
            line = doc.line_of((key, first[item_id], "id"))
            doc.add(
                (key, i, "id"),
                f"duplicate id '{item_id}' (already used on line {line}); "
                "every id must be different",
            )
        else:
            first[item_id] = i
