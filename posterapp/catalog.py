"""The campaign's choice catalog: its model, loading and validation.

A catalog is a YAML file under ``choices/`` written by campaign staff. Loading collects every
problem at once (syntax, unknown keys, wrong types, duplicate ids, unknown categories or
regions, icon files, pick limits) with its file, line and key path. Checks that need the
layouts and the fonts (does every label fit its slot, can every character be drawn) live in
``posterapp.render.proof``; ``posterapp.versions`` runs them all.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, TypeVar
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, PrivateAttr, ValidationError

from . import yamldoc
from .assets import IMAGE_SUFFIXES, AssetError, Assets, check_icon
from .errors import Problem
from .i18n import _

NATIONWIDE = "nationwide"
SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
COLOR = re.compile(r"#[0-9A-Fa-f]{6}(?:[0-9A-Fa-f]{2})?")


def _slug(value: str) -> str:
    if not SLUG.fullmatch(value):
        raise ValueError(
            _(
                "「%(value)s」不能当编号：只能用小写英文字母、数字和单个连字符，"
                "比如 wuhan-hot-dry-noodles",
                value=value,
            )
        )
    return value


def _color(value: str) -> str:
    if not COLOR.fullmatch(value):
        raise ValueError(
            _(
                '「%(value)s」不是颜色：写成带引号的 "#RRGGBB"，比如 "#C0392B"',
                value=value,
            )
        )
    return value.upper()


def _text(value: str) -> str:
    if not value.strip():
        raise ValueError(_("不能是空的"))
    if value != value.strip():
        raise ValueError(_("开头和结尾不能有空格"))
    if any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise ValueError(_("只能写一行，不能有换行或控制字符"))
    return value


def _link(value: str) -> str:
    if not re.fullmatch(r"https?://[^\s/]+\S*", value):
        raise ValueError(_("「%(value)s」不是网址：要以 https:// 或 http:// 开头", value=value))
    return value


Slug = Annotated[str, AfterValidator(_slug)]
Color = Annotated[str, AfterValidator(_color)]
Text = Annotated[str, AfterValidator(_text)]
Link = Annotated[str, AfterValidator(_link)]


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


M = TypeVar("M", bound=Model)


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


class Variant(Model):
    """One arm of an experiment: how its posters differ (their layout rules), and its share."""

    id: Slug = Field(description="stable id; results are kept under it")
    weight: float = Field(1.0, gt=0, description="share of new posters, relative to the others")
    theme: Slug | None = Field(None, description="the theme of this variant's posters")
    layout_rules: LayoutRules | None = Field(
        None, description="layout rules for this variant's posters (none: the campaign's)"
    )


class Experiment(Model):
    """An experiment on what spreads: new posters are split between variants by their id."""

    id: Slug = Field(description="stable id; posters keep it, so results outlive the experiment")
    label: Text = Field(description="what staff see on the numbers page")
    variants: list[Variant] = Field(min_length=2, description="two or more variants")


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
    link_domains: list[Text] = Field(
        default_factory=list,
        description="the web domains the choices' service links may go to (and their subdomains)",
    )
    layout_rules: LayoutRules
    theme: Slug | None = Field(None, description="the look: a theme under assets/themes/")
    life_tags: list[LifeTag] = Field(
        default_factory=list, description="tried in order; the first that matches is shown"
    )
    experiment: Experiment | None = Field(
        None, description="an experiment running now; remove it to end it (results stay)"
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


class Offer(Model):
    """An offer shown to people whose picks include its category (为你挑选的优惠)."""

    id: Slug = Field(description="stable id; clicks are counted under it")
    category: Slug = Field(description="shown when a pick of this category is on the poster")
    title: Text = Field(max_length=24, description="what the offer is, in a few words")
    link: Link = Field(description="the offer's page: https, on one of campaign.link_domains")
    until: dt.date = Field(description="the last day it is shown, like 2026-12-31")


class Catalog(Model):
    """The whole catalog: campaign, categories, regions, choices and offers."""

    campaign: Campaign
    categories: list[Category] = Field(min_length=1)
    regions: list[Region] = Field(default_factory=list)
    choices: list[Choice] = Field(min_length=1)
    offers: list[Offer] = Field(default_factory=list)

    _choices: dict[str, Choice] = PrivateAttr(default_factory=dict)
    _categories: dict[str, Category] = PrivateAttr(default_factory=dict)

    def model_post_init(self, context: Any) -> None:  # pydantic's signature
        self._choices.update((c.id, c) for c in self.choices)
        self._categories.update((c.id, c) for c in self.categories)

    def choice(self, choice_id: str) -> Choice:
        return self._choices[choice_id]

    def has_choice(self, choice_id: str) -> bool:
        return choice_id in self._choices

    def category(self, category_id: str) -> Category:
        return self._categories[category_id]


def life_tag(catalog: Catalog, picks: Sequence[str]) -> str:
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


def offers_for(catalog: Catalog, picks: Iterable[str], today: dt.date) -> list[Offer]:
    """Return the offers for a poster's picks: their categories, still valid today, in order."""
    wanted = {catalog.choice(p).category for p in picks if catalog.has_choice(p)}
    return [o for o in catalog.offers if o.category in wanted and o.until >= today]


def is_image_path(icon: str) -> bool:
    return "/" in icon or "\\" in icon or Path(icon).suffix.lower() in IMAGE_SUFFIXES


def parse(text: str | bytes, file: str, assets: Assets) -> tuple[Catalog | None, yamldoc.Document]:
    """Parse and check a catalog; return it (None if unusable) and its document of problems."""
    doc = yamldoc.parse(text, file)
    catalog = yamldoc.validate(doc, Catalog)
    if catalog is not None:
        doc.parts = Parts.of(catalog)
    elif isinstance(doc.data, dict):
        # Some part is malformed: still check the parts that are fine, so one typo does not
        # hide a duplicate id or an unknown region until the next run.
        doc.parts = Parts.salvage(doc.data)
    if doc.parts is not None:
        check(doc, assets, doc.parts)
        look_twice(doc, doc.parts)
    return catalog, doc


@dataclass
class Parts:
    """The well-formed parts of a catalog, each list item under its index in the file."""

    campaign: Campaign | None
    categories: dict[int, Category]
    regions: dict[int, Region]
    choices: dict[int, Choice]
    offers: dict[int, Offer]
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
            dict(enumerate(catalog.offers)),
            len(catalog.choices),
            {c.id for c in catalog.categories},
            {r.id for r in catalog.regions},
        )

    @classmethod
    def salvage(cls, data: dict) -> Parts:
        """Validate each part on its own and keep those that pass (their errors are known)."""

        def items(key: str, model: type[M]) -> dict[int, M]:
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
            items("offers", Offer),
            len(choices) if isinstance(choices, list) else 0,
            ids("categories"),
            ids("regions"),
        )


def _quietly(model: type[M], value: object) -> M | None:
    try:
        return model.model_validate(value)
    except ValidationError:
        return None


def _check_link(
    doc: yamldoc.Document, path: yamldoc.Path, link: str, domains: list[str] | None
) -> None:
    """A service link must be https and go to one of the campaign's own domains."""
    parts = urlsplit(link)
    host = (parts.hostname or "").lower()
    if parts.scheme != "https":
        doc.add(
            path,
            _("链接要用 https:// 开头（现在是「%(link)s」），不安全的链接不能放进活动", link=link),
        )
    elif domains is not None and not any(host == d or host.endswith("." + d) for d in domains):
        doc.add(
            path,
            _(
                "链接去的「%(host)s」不在 campaign.link_domains 里；"
                "只能链到活动自己的网站：%(known)s",
                host=host,
                known="、".join(domains) or _("（还没有写 link_domains）"),
            ),
        )


def check(doc: yamldoc.Document, assets: Assets, parts: Parts) -> None:
    """Add to ``doc`` the problems that span several parts of the catalog."""
    _check_unique(doc, "categories", {i: c.id for i, c in parts.categories.items()})
    _check_unique(doc, "regions", {i: r.id for i, r in parts.regions.items()})
    _check_unique(doc, "choices", {i: c.id for i, c in parts.choices.items()})
    categories = parts.category_ids
    regions = parts.region_ids | {NATIONWIDE}
    campaign = parts.campaign
    # Without a readable campaign the allowed domains are unknown: only https is checked.
    domains = [d.lower().strip(".") for d in campaign.link_domains] if campaign else None
    _check_unique(doc, "offers", {i: o.id for i, o in parts.offers.items()})
    for key, entries in (("offers", parts.offers), ("choices", parts.choices)):
        for i, entry in entries.items():
            if entry.link:
                _check_link(doc, (key, i, "link"), entry.link, domains)
            if categories and entry.category not in categories:
                doc.add(
                    (key, i, "category"),
                    _(
                        "没有「%(value)s」这个分类；可用的分类：%(known)s",
                        value=entry.category,
                        known=", ".join(sorted(categories)),
                    ),
                )
    for i, choice in parts.choices.items():
        if choice.region not in regions:
            doc.add(
                ("choices", i, "region"),
                _(
                    "没有「%(value)s」这个地区；全国通用写 %(nationwide)s，或者用这些：%(known)s",
                    value=choice.region,
                    nationwide=NATIONWIDE,
                    known=", ".join(sorted(regions - {NATIONWIDE})),
                ),
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
            _(
                "最少选 %(low)s 项比最多选 %(high)s 项还多（min_picks 大于 max_picks）",
                low=campaign.min_picks,
                high=campaign.max_picks,
            ),
        )
    if campaign.max_picks > parts.choice_count:
        doc.add(
            ("campaign", "max_picks"),
            _(
                "最多能选 %(high)s 项（max_picks），但目录里只有 %(count)s 个选项",
                high=campaign.max_picks,
                count=parts.choice_count,
            ),
        )
    for i, tag in enumerate(campaign.life_tags):
        for j, category in enumerate(tag.categories):
            if categories and category not in categories:
                doc.add(
                    ("campaign", "life_tags", i, "categories", j),
                    _(
                        "生活标签「%(tag)s」用到了不存在的分类「%(value)s」；可用的分类：%(known)s",
                        tag=tag.label,
                        value=category,
                        known=", ".join(sorted(categories)),
                    ),
                )
    if campaign.life_tags and campaign.life_tag_default is None:
        doc.add(
            ("campaign", "life_tag_default"),
            _("有生活标签规则时，还要写一个 life_tag_default，给不符合任何规则的人用"),
        )
    for i, rule in enumerate(campaign.layout_rules.rules):
        if rule.min_picks > rule.max_picks:
            doc.add(
                ("campaign", "layout_rules", "rules", i, "min_picks"),
                _(
                    "这条排版规则的 min_picks（%(low)s）大于 max_picks（%(high)s）",
                    low=rule.min_picks,
                    high=rule.max_picks,
                ),
            )
        if rule.category is not None and categories and rule.category not in categories:
            doc.add(
                ("campaign", "layout_rules", "rules", i, "category"),
                _("排版规则用到了不存在的分类「%(value)s」", value=rule.category),
            )


def _check_unique(doc: yamldoc.Document, key: str, ids: dict[int, str]) -> None:
    first: dict[str, int] = {}
    for i, item_id in ids.items():
        if item_id in first:
            line = doc.line_of((key, first[item_id], "id"))
            doc.add(
                (key, i, "id"),
                _(
                    "编号 %(id)s 重复了（第 %(line)s 行已经用过）；每个编号都要不一样",
                    id=item_id,
                    line=line,
                ),
            )
        else:
            first[item_id] = i


# Contrast a category colour needs on the white cards it is drawn on (large text: 3:1).
MIN_CONTRAST = 3.0
# Keys whose values are printed, so a " #" that YAML reads as a comment loses words.
PRINTED = {"label", "description", "title", "slogan", "brand", "footer", "life_tag_default"}


def look_twice(doc: yamldoc.Document, parts: Parts) -> None:
    """Add warnings: things that are allowed but are probably not what was meant."""
    from .themes import contrast  # noqa: PLC0415 - themes imports the catalog's types

    for i, category in parts.categories.items():
        ratio = contrast(category.color, "#FFFFFF")
        if ratio < MIN_CONTRAST:
            doc.warn(
                ("categories", i, "color"),
                _(
                    "颜色 %(color)s 在白底上太浅了（对比度 %(ratio)s:1，至少要 3:1），"
                    "海报上会看不清；换一个深一点的颜色",
                    color=category.color,
                    ratio=f"{ratio:.1f}",
                ),
            )
    lines = doc.text.split("\n")
    for path, number in doc.lines.items():
        if not path or path[-1] not in PRINTED or not 1 <= number <= len(lines):
            continue
        value = _value_after_key(lines[number - 1], str(path[-1]))
        if value is None or value[:1] in ("'", '"', "|", ">"):
            continue
        cut = value.find(" #")
        if cut >= 0 and value[:cut].strip():
            lost = value[cut:].strip()
            kept = value[:cut].strip()
            doc.warn(
                path,
                _(
                    "「%(lost)s」被 YAML 当成了注释，不会出现在海报上；要保留它，"
                    '就把整个值放进引号：%(key)s: "%(whole)s"',
                    lost=lost,
                    key=path[-1],
                    whole=f"{kept} {lost}",
                ),
            )


def _value_after_key(line: str, key: str) -> str | None:
    found = re.match(rf"^\s*(?:- )?{re.escape(key)}:\s+(.*)$", line)
    return found.group(1) if found else None


def compare_with_live(doc: yamldoc.Document, live: Catalog) -> None:
    """Warn about ids changed since the live catalog: posters and links made use the old ones."""
    parts = doc.parts
    if parts is None:
        return
    campaign = parts.campaign
    if campaign is not None and campaign.id != live.campaign.id:
        doc.warn(
            ("campaign", "id"),
            _(
                "活动编号从 %(old)s 改成了 %(new)s：已经发出去的海报和统计都记在旧编号下，"
                "除非要开始一场新活动，请改回 %(old)s",
                old=live.campaign.id,
                new=campaign.id,
            ),
        )
    ids = {c.id for c in parts.choices.values()}
    gone = [c for c in live.choices if c.id not in ids]
    by_label = {c.label: c for c in gone}
    by_index = {i: c for i, c in enumerate(live.choices) if c.id not in ids}
    for i, choice in parts.choices.items():
        if live.has_choice(choice.id):
            continue
        old = by_label.get(choice.label) or by_index.get(i)
        if old is None:
            continue
        doc.warn(
            ("choices", i, "id"),
            _(
                "上线的选项「%(label)s」的编号从 %(old)s 改成了 %(new)s：已经做好的海报和统计"
                "都用旧编号，改了以后它们就对不上这个选项了；除非确实要换成另一个选项，"
                "请改回 %(old)s",
                label=old.label,
                old=old.id,
                new=choice.id,
            ),
        )


def warnings(text: str, live: Catalog | None, assets: Assets) -> list[Problem]:
    """Return the warnings for catalog ``text``, comparing ids with the ``live`` catalog."""
    _catalog, doc = parse(text, "catalog.yaml", assets)
    if live is not None:
        compare_with_live(doc, live)
    return sorted(doc.warnings)
