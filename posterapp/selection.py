"""Turn what a person asked for (picks, a name, a layout, a URL) into a valid Poster.

Everything here is untrusted input: each check raises a SelectionError naming the field,
what is wrong and what is allowed.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter

from confusable_homoglyphs.confusables import is_confusable

from . import layouts
from .errors import SelectionError, UndrawableText
from .render import fonts
from .render.poster import Poster
from .versions import CatalogVersion

MAX_URL = 512
# A typed name is bounded three ways before any per-character work, because "one character"
# (a grapheme cluster) can hide thousands of code points joined by ZWJ.
MAX_NAME_BYTES = 512  # UTF-8 bytes, checked first
MAX_NAME_CODEPOINTS = 64
MAX_CLUSTER_CODEPOINTS = 10  # the longest emoji sequence (👩🏽‍❤️‍💋‍👨🏿) has 10
# More values than the campaign allows (plus this many) are refused before any per-pick work.
PICKS_MARGIN = 8


def fold(text: str) -> str:
    """Fold text for comparison: NFKC, case, spaces, and look-alike characters (⽣ → 生)."""
    text = unicodedata.normalize("NFKC", text).casefold().replace(" ", "")
    return "".join(_fold_char(c) for c in text)


def _fold_char(char: str) -> str:
    # Unicode's confusables pair each look-alike with its twins; the lowest code point among
    # them stands for the group, so 生 and the Kangxi radical ⽣ fold to the same thing.
    if char.isascii() and char.isalnum():
        return char
    found = is_confusable(char, greedy=True)
    if not found:
        return char
    twins = [h["c"] for entry in found for h in entry["homoglyphs"] if len(h["c"]) == 1]
    return min([char, *twins], key=ord)


def clean_name(version: CatalogVersion, raw: str | None) -> str:
    """Normalise a user-typed name and check it; return '' for no name."""
    campaign = version.catalog.campaign
    if raw is None:
        return ""
    if not isinstance(raw, str):
        raise SelectionError("name must be text", field="name")
    limit = campaign.name_max_length
    if len(raw) > MAX_NAME_CODEPOINTS or len(raw.encode("utf-8", "surrogatepass")) > MAX_NAME_BYTES:
        raise SelectionError(f"名字太长了，最多 {limit} 个字，再短一点吧", field="name")
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
        shown = ", ".join(f"U+{ord(c):04X}" for c in bad)
        raise SelectionError(
            f"name contains invisible or control characters ({shown}); type it again without them",
            field="name",
        )
    name = re.sub(r"\s+", " ", name)
    clusters = fonts.clusters(name)
    if any(cluster[0] in (fonts.ZWJ, fonts.VS16) for cluster in clusters):
        raise SelectionError(
            "name has a joining or emoji-style mark with nothing before it; type it again",
            field="name",
        )
    for cluster in clusters:
        if len(cluster) > MAX_CLUSTER_CODEPOINTS:
            raise SelectionError(
                f"名字里有一个表情由 {len(cluster)} 个部分拼成，太复杂了，换一个简单的吧",
                field="name",
            )
        joined = fonts.ZWJ in cluster or fonts.VS16 in cluster
        if joined and ord(cluster[0]) not in fonts.emoji_codepoints():
            raise SelectionError(
                f"「{cluster[0]}」后面跟着一个看不见的连接符，删掉它再试一次吧", field="name"
            )
    if len(clusters) > campaign.name_max_length:
        raise SelectionError(
            f"name is {len(clusters)} characters long; at most "
            f"{campaign.name_max_length} are allowed",
            field="name",
        )
    folded = fold(name)
    for word in campaign.name_blocklist:
        if fold(word) in folded:
            raise SelectionError(
                f"name may not contain '{word}'; please choose another name", field="name"
            )
    missing = fonts.undrawable(name)
    if missing:
        raise UndrawableText("name", missing, field="name")
    return name


def clean_picks(version: CatalogVersion, picks) -> tuple[str, ...]:
    """Check the chosen ids: known, not repeated, within the campaign's limits."""
    catalog, campaign = version.catalog, version.catalog.campaign
    if not isinstance(picks, list | tuple) or not all(isinstance(p, str) for p in picks):
        raise SelectionError("choices must be a list of choice ids", field="choices")
    if len(picks) > campaign.max_picks + PICKS_MARGIN:
        raise SelectionError(
            f"最多选 {campaign.max_picks} 项哦，这次收到了 {len(picks)} 项", field="choices"
        )
    unknown = [p for p in picks if not catalog.has_choice(p)]
    if unknown:
        shown = ", ".join(repr(p[:40]) for p in unknown[:5])
        raise SelectionError(
            f"unknown choice id{'s' if len(unknown) > 1 else ''}: {shown}", field="choices"
        )
    repeated = sorted(p for p, times in Counter(picks).items() if times > 1)
    if repeated:
        raise SelectionError(
            f"each choice may be picked once; repeated: {', '.join(repeated)}", field="choices"
        )
    if not campaign.min_picks <= len(picks) <= campaign.max_picks:
        raise SelectionError(
            f"pick between {campaign.min_picks} and {campaign.max_picks} "
            f"choices; you picked {len(picks)}",
            field="choices",
        )
    return tuple(picks)


def clean_url(url) -> str:
    if not isinstance(url, str) or not re.fullmatch(r"https?://[^\s/]+\S*", url):
        raise SelectionError("url must be an http:// or https:// address", field="url")
    if len(url) > MAX_URL:
        raise SelectionError(
            f"url is {len(url)} characters; at most {MAX_URL} fit a QR code that still scans",
            field="url",
        )
    return url


def make_poster(
    version: CatalogVersion, picks, name: str | None, url: str, layout: str | None = None
) -> Poster:
    """Validate a request and return the Poster to render."""
    picks = clean_picks(version, picks)
    chosen = layouts.choose(version.catalog, version.layouts, list(picks), layout or None)
    return Poster(picks=picks, name=clean_name(version, name), url=clean_url(url), layout=chosen.id)
