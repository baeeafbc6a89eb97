"""The picker: the page where a person chooses, names and makes their poster."""

from __future__ import annotations

import io
import mimetypes
from itertools import chain, zip_longest

from flask import Blueprint, Response, abort, jsonify, redirect, render_template, request

from .. import i18n, urls
from ..catalog import NATIONWIDE
from ..errors import SelectionError
from ..i18n import gettext as _
from ..posters import time_budget
from ..render import fonts
from ..render.poster import render_small
from ..render.qr import PLACEHOLDER_URL
from ..selection import make_poster
from ..versions import CatalogVersion
from . import studio
from .images import IMMUTABLE

PREVIEW_REDUCE = 4  # 1080×1920 → 270×480: the width a poster gets in a WeChat feed
THUMB_REDUCE = 6  # 180×320 for the layout thumbnails (shown ~90 CSS px wide)
MAX_PREVIEW_QUERY = 2048
# Every visitor's step two asks for the same few thumbnails: each is drawn once per process.
THUMBNAILS: dict[tuple[str, str], bytes] = {}
MAX_THUMBNAILS = 64

bp = Blueprint("picker", __name__)


def N_(message: str) -> str:
    """Mark words for pybabel that are translated later, when a page is made (script_words)."""
    return message


# What picker.js says. The script writes them in Chinese and looks each one up in the table
# the page carries (script_words), so they are translated like the page's own words.
PICKER_SCRIPT_WORDS = (
    N_("再选 %(count)s 项就能生成"),
    N_("已选满 %(count)s 项"),
    N_("还可以再选 %(count)s 项"),
    N_("%(city)s · 本地精选"),
    N_("名字最多 %(max)s 个字，现在是 %(count)s 个，再短一点吧"),
    N_("生成我的海报"),
    N_("正在生成你的海报…"),
    N_("人有点多，%(seconds)s 秒后重试"),
    N_("马上重试"),
    N_("网络不太稳，再点一次试试"),
    N_("出了点小问题，请再试一次"),
)


def script_words(messages) -> dict[str, str]:
    """Return a script's words in the person's language, keyed by their Chinese source.

    Only words that differ from the source go in: a Chinese page carries an empty table and
    its script says exactly what its source says. Placeholders stay for the script to fill.
    """
    table = {message: i18n.gettext(message) for message in messages}
    return {source: text for source, text in table.items() if text != source}


@bp.app_context_processor
def page_language():
    """Tell templates the language of the words (<html lang>): zh-CN, or en if preferred."""
    return {"html_lang": "en" if i18n.current_locale() == "en" else "zh-CN"}


def page(error: SelectionError | None = None, status: int = 200):
    """Render the picker, keeping what the person already chose when there was an error."""
    site = studio()
    version = site.active
    catalog = version.catalog
    form = request.form if request.method == "POST" else request.args
    ref = form.get("ref", "")
    referrer = site.store.get_poster(ref) if ref else None
    city = form.get("city", "")
    regions = {r.id: r.label for r in catalog.regions}
    if city not in regions:
        city = ""
    chosen = set(form.getlist("choices"))
    sections = []
    if city:
        local = [c for c in catalog.choices if c.region == city]
        label = _("%(city)s · 本地精选", city=regions[city])
        sections.append({"id": "local", "label": label, "choices": local})
    for category in catalog.categories:
        items = [
            c
            for c in catalog.choices
            if c.category == category.id and (not city or c.region != city)
        ]
        sections.append({"id": category.id, "label": category.label, "choices": items})
    layouts = version.layouts_in_order
    picks = [c for c in form.getlist("choices") if catalog.has_choice(c)]
    return (
        render_template(
            "picker.html",
            version=version,
            campaign=catalog.campaign,
            categories={c.id: c for c in catalog.categories},
            regions=regions,
            city=city,
            sections=sections,
            chosen=chosen,
            name=form.get("name", ""),
            name_length=len(fonts.clusters(form.get("name", ""))),
            layout=form.get("layout", ""),
            layouts=layouts if catalog.campaign.layout_rules.user_choice else [],
            referrer=referrer,
            error=error,
            script_words=script_words(PICKER_SCRIPT_WORDS),
            nationwide=NATIONWIDE,
            # After an error the preview leaves out what was refused, so it still draws.
            preview=None
            if error and error.field not in ("name", "layout")
            else urls.preview(
                version.version,
                picks,
                "" if error else form.get("name", ""),
                "" if error else form.get("layout", ""),
            ),
        ),
        status,
    )


# The paths are built in posterapp/urls.py; tests/test_urls.py checks they reach these routes.
@bp.get("/")
def picker():
    return page()


@bp.post("/")
def make():
    """Make the poster from the form, then open its share page."""
    form = request.form
    ref = form.get("ref") or None
    site = studio()
    if ref and site.store.get_poster(ref) is None:
        ref = None  # a stale or mistyped referral link must not stop anyone making a poster
    try:
        record = site.create(
            form.getlist("choices"),
            name=form.get("name", ""),
            layout=form.get("layout") or None,
            ref=ref,
            city=form.get("city") or None,
        )
    except SelectionError as error:
        return page(error, 422)
    return redirect(urls.share_page(record.id, just_made=True), code=303)


def jpeg(image) -> bytes:
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=82)
    return out.getvalue()


def send_jpeg(image, cache_control: str) -> Response:
    response = Response(jpeg(image), mimetype="image/jpeg")
    response.headers["Cache-Control"] = cache_control
    return response


@bp.get("/preview.jpg")
def preview():
    """A small picture of the poster these picks, name and layout would make; nothing is stored.

    It checks exactly what making the poster checks, and answers 422 with the message (and
    the field it is about) when the real thing would be refused.
    """
    if len(request.query_string) > MAX_PREVIEW_QUERY:
        return jsonify(
            {"error": {"code": "too_long", "message": _("选的内容太多了，请刷新页面再试")}}
        ), 400
    site = studio()
    version = site.active
    args = request.args
    picks = [p for p in args.get("choices", "").split(",") if p]
    try:
        poster = make_poster(version, picks, args.get("name", ""), PLACEHOLDER_URL,
                             args.get("layout") or None)  # fmt: skip
        with time_budget(site.render_budget):
            image = render_small(version, poster, PREVIEW_REDUCE)
    except SelectionError as error:
        response = jsonify(error.to_dict())
        response.status_code = error.status_code
        response.headers["Cache-Control"] = "no-store"
        return response
    # The same query on the same catalog version always draws the same picture.
    fresh = args.get("v") == version.version
    return send_jpeg(image, "public, max-age=86400" if fresh else "no-cache")


def sample_picks(version: CatalogVersion, count: int) -> list[str]:
    """Choices for a layout's thumbnail: one from each category in turn."""
    catalog = version.catalog
    by_category = [[c.id for c in catalog.choices if c.category == cat.id]
                   for cat in catalog.categories]  # fmt: skip
    mixed = [c for c in chain.from_iterable(zip_longest(*by_category)) if c]
    return mixed[:count]


@bp.get("/layouts/<version_id>/<layout_id>.jpg")
def layout_thumbnail(version_id: str, layout_id: str):
    """A thumbnail of a layout with sample picks (immutable: the version names its content)."""
    key = (version_id, layout_id)
    if key not in THUMBNAILS:
        version = studio().store.load_version(version_id)
        layout = version.layouts.get(layout_id)
        if layout is None:
            abort(404)
        count = max(layout.min_picks, min(layout.max_picks, 9))
        picks = sample_picks(version, count)
        poster = make_poster(version, picks, "小满", PLACEHOLDER_URL, layout.id)
        with time_budget(studio().render_budget):
            image = render_small(version, poster, THUMB_REDUCE)
        if len(THUMBNAILS) >= MAX_THUMBNAILS:  # a bound, should many versions be browsed
            THUMBNAILS.clear()
        THUMBNAILS[key] = jpeg(image)
    response = Response(THUMBNAILS[key], mimetype="image/jpeg")
    response.headers["Cache-Control"] = IMMUTABLE
    return response


@bp.get("/assets/<version_id>/<path:path>")
def catalog_asset(version_id: str, path: str):
    """Serve an image icon of a catalog version (immutable: the version names its content)."""
    version = studio().store.load_version(version_id)
    if path not in version.assets:
        abort(404)
    mimetype = mimetypes.guess_type(path)[0] or "application/octet-stream"
    response = Response(version.asset(path), mimetype=mimetype)
    response.headers["Cache-Control"] = IMMUTABLE
    return response
