"""Turn what a person asked for (picks, a name, a layout, a URL) into a valid Poster.

Everything here is untrusted input: each check raises a SelectionError naming the field,
what is wrong and what is allowed.
"""

from __future__ import annotations

import re
import unicodedata

from . import layouts
from .errors import SelectionError, UndrawableText
from .render import fonts
from .render.poster import Poster
from .versions import CatalogVersion

MAX_URL = 512


def clean_name(version: CatalogVersion, raw: str | None) -> str:
    """Normalise a user-typed name and check it; return '' for no name."""
    campaign = version.catalog.campaign
    if raw is None:
        return ""
    if not isinstance(raw, str):
        raise SelectionError("name must be text", field="name")
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
    if any(cluster[0] in (fonts.ZWJ, fonts.VS16) for cluster in fonts.clusters(name)):
        raise SelectionError(
            "name has a joining or emoji-style mark with nothing before it; type it again",
            field="name",
        )
    if len(fonts.clusters(name)) > campaign.name_max_length:
        raise SelectionError(
            f"name is {len(fonts.clusters(name))} characters long; at most "
            f"{campaign.name_max_length} are allowed",
            field="name",
        )
    folded = name.casefold().replace(" ", "")
    for word in campaign.name_blocklist:
        if word.casefold() in folded:
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
    unknown = [p for p in picks if not catalog.has_choice(p)]
    if unknown:
        shown = ", ".join(repr(p[:40]) for p in unknown[:5])
        raise SelectionError(
            f"unknown choice id{'s' if len(unknown) > 1 else ''}: {shown}", field="choices"
        )
    repeated = sorted({p for p in picks if picks.count(p) > 1})
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
