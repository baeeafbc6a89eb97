"""Turn what a person asked for (picks, a name, a layout, a URL) into a valid Poster.

Everything here is untrusted input: each check raises a SelectionError naming the field,
and telling the person, in their language, what is wrong and what to do instead.
"""

from __future__ import annotations

import functools
import json
import re
import unicodedata
from collections import Counter
from pathlib import Path

from . import layouts
from .catalog import LayoutRules
from .errors import SelectionError, UndrawableText
from .i18n import _, join, ngettext
from .model import Poster
from .render import fonts
from .versions import CatalogVersion

MAX_URL = 512
# A typed name is bounded three ways before any per-character work, because "one character"
# (a grapheme cluster) can hide thousands of code points joined by ZWJ.
MAX_NAME_BYTES = 512  # UTF-8 bytes, checked first
MAX_NAME_CODEPOINTS = 64
MAX_CLUSTER_CODEPOINTS = 10  # the longest emoji sequence (👩🏽‍❤️‍💋‍👨🏿) has 10
# More values than the campaign allows (plus this many) are refused before any per-pick work.
PICKS_MARGIN = 8


@functools.lru_cache(maxsize=1024)  # the blocklist's words are folded on every request
def fold(text: str) -> str:
    """Fold text for comparison: NFKC, case, spaces, and look-alike characters (⽣ → 生)."""
    text = unicodedata.normalize("NFKC", text).casefold().replace(" ", "")
    return "".join(_fold_char(c) for c in text)


# Unicode's confusables pair each look-alike with its twins; the lowest code point among them
# stands for the group, so 生 and the Kangxi radical ⽣ fold to the same thing. The pairs that
# fold come from confusable_homoglyphs, written out by tools/look_alikes.py.
LOOK_ALIKES: dict[str, str] = json.loads(
    (Path(__file__).resolve().parent / "look_alikes.json").read_bytes()
)


def _fold_char(char: str) -> str:
    if char.isascii() and char.isalnum():
        return char
    return LOOK_ALIKES.get(char, char)


def clean_name(version: CatalogVersion, raw: str | None) -> str:
    """Normalise a user-typed name and check it; return '' for no name."""
    campaign = version.catalog.campaign
    if raw is None:
        return ""
    if not isinstance(raw, str):
        raise SelectionError(_("名字要用文字写哦，重新输入一下吧"), field="name")
    limit = campaign.name_max_length
    if len(raw) > MAX_NAME_CODEPOINTS or len(raw.encode("utf-8", "surrogatepass")) > MAX_NAME_BYTES:
        raise SelectionError(
            _("名字太长了，最多 %(limit)s 个字，再短一点吧", limit=limit), field="name"
        )
    name = unicodedata.normalize("NFC", raw).strip()
    bad = sorted(
        {
            c
            for c in name
            if unicodedata.category(c) in {"Cc", "Cf", "Co", "Cs", "Zl", "Zp"}
            and c not in (fonts.ZWJ, fonts.VS16)
        }
    )
    if bad:
        raise SelectionError(_("名字里藏着看不见的字符，删掉名字重新输入一遍吧"), field="name")
    name = re.sub(r"\s+", " ", name)
    clusters = fonts.clusters(name)
    if any(cluster[0] in (fonts.ZWJ, fonts.VS16) for cluster in clusters):
        raise SelectionError(_("名字里有一个看不见的连接符，删掉名字重新输入一遍吧"), field="name")
    for cluster in clusters:
        if len(cluster) > MAX_CLUSTER_CODEPOINTS:
            raise SelectionError(
                _(
                    "名字里有一个表情由 %(parts)s 个部分拼成，太复杂了，换一个简单的吧",
                    parts=len(cluster),
                ),
                field="name",
            )
        joined = fonts.ZWJ in cluster or fonts.VS16 in cluster
        if joined and ord(cluster[0]) not in fonts.emoji_codepoints():
            raise SelectionError(
                _("「%(char)s」后面跟着一个看不见的连接符，删掉它再试一次吧", char=cluster[0]),
                field="name",
            )
    if len(clusters) > campaign.name_max_length:
        raise SelectionError(
            _(
                "名字最多 %(limit)s 个字，再短一点吧（现在 %(count)s 个字）",
                limit=campaign.name_max_length,
                count=len(clusters),
            ),
            field="name",
        )
    folded = fold(name)
    for word in campaign.name_blocklist:
        if fold(word) in folded:
            raise SelectionError(
                _("名字里不能有「%(word)s」这样的词，换一个吧", word=word), field="name"
            )
    missing = fonts.undrawable(name)
    if missing:
        raise UndrawableText(missing, field="name")
    return name


def clean_picks(version: CatalogVersion, picks: object) -> tuple[str, ...]:
    """Check the chosen ids: known, not repeated, within the campaign's limits."""
    catalog, campaign = version.catalog, version.catalog.campaign
    if not isinstance(picks, list | tuple) or not all(isinstance(p, str) for p in picks):
        raise SelectionError(_("没有收到你挑的美好小事，请重新挑选一下吧"), field="choices")
    if len(picks) > campaign.max_picks + PICKS_MARGIN:
        raise SelectionError(
            _(
                "最多选 %(max)s 项哦，这次收到了 %(count)s 项",
                max=campaign.max_picks,
                count=len(picks),
            ),
            field="choices",
        )
    unknown = list(dict.fromkeys(p for p in picks if not catalog.has_choice(p)))
    if unknown:
        # Ids, not labels: an unknown id has no label. Quoted, so they read as names.
        shown = join(p[:40] for p in unknown[:5])
        raise SelectionError(
            ngettext(
                "清单里没有%(ids)s这一项，可能已经下架了，请重新挑选吧",
                "清单里没有%(ids)s这几项，可能已经下架了，请重新挑选吧",
                len(unknown),
                ids=shown,
            ),
            field="choices",
        )
    repeated = sorted(p for p, times in Counter(picks).items() if times > 1)
    if repeated:
        labels = join(catalog.choice(p).label for p in repeated)
        raise SelectionError(
            _("%(labels)s选了不止一次，每项只要选一次就好", labels=labels), field="choices"
        )
    if len(picks) < campaign.min_picks:
        raise SelectionError(
            _("至少挑 %(min)s 项美好小事吧", min=campaign.min_picks), field="choices"
        )
    if len(picks) > campaign.max_picks:
        raise SelectionError(too_many(campaign.max_picks, len(picks)), field="choices")
    return tuple(picks)


def too_many(most: int, count: int) -> str:
    return _(
        "最多选 %(max)s 项哦，去掉 %(extra)s 项再试试吧（现在选了 %(count)s 项）",
        max=most,
        extra=count - most,
        count=count,
    )


def clean_url(url: object) -> str:
    if not isinstance(url, str) or not re.fullmatch(r"https?://[^\s/]+\S*", url):
        raise SelectionError(_("二维码里的网址要以 http:// 或 https:// 开头"), field="url")
    if len(url) > MAX_URL:
        raise SelectionError(
            _(
                "二维码里的网址太长了（%(length)s 个字符），最多 %(max)s 个字符，扫码才认得出",
                length=len(url),
                max=MAX_URL,
            ),
            field="url",
        )
    return url


def make_poster(
    version: CatalogVersion,
    picks: object,
    name: str | None,
    url: str,
    layout: str | None = None,
    rules: LayoutRules | None = None,
) -> Poster:
    """Validate a request and return the Poster to render.

    ``rules`` replace the campaign's layout rules (an experiment's variant).
    """
    picks = clean_picks(version, picks)
    catalog = version.catalog
    if rules is not None:
        campaign = catalog.campaign.model_copy(update={"layout_rules": rules})
        catalog = catalog.model_copy(update={"campaign": campaign})
    chosen = layouts.choose(catalog, version.layouts, list(picks), layout or None)
    return Poster(picks=picks, name=clean_name(version, name), url=clean_url(url), layout=chosen.id)
