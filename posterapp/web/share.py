"""What friends and platforms see: the poster image, its card, the share page, the scan link."""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, redirect, render_template, request, send_file

from .. import urls
from ..catalog import offers_for
from ..errors import PosterNotFound
from ..i18n import gettext as _
from ..store import PosterRecord
from . import studio
from .images import IMMUTABLE, YEAR
from .picker import N_, script_words

bp = Blueprint("share", __name__)

# What share.js says, looked up in the page's table like picker.js's words (see picker.py).
SHARE_SCRIPT_WORDS = (
    N_("分享没有成功，可以长按图片保存后分享"),
    N_("链接已复制"),
    N_("请长按上面的链接复制"),
)
SHANGHAI = ZoneInfo("Asia/Shanghai")  # an offer's last day is a day in Beijing time


def today() -> dt.date:
    return dt.datetime.now(SHANGHAI).date()


def find(poster_id: str) -> PosterRecord:
    record = studio().store.get_poster(poster_id)
    if record is None:
        raise PosterNotFound(poster_id)
    return record


def send_png(etag: str, path: Callable[[], Path], mimetype: str = "image/png"):
    """Send an image that never changes: cached for a year, 304 before touching the file."""
    if etag in request.if_none_match:  # werkzeug's ETags also match "*"
        response = Response(status=304)
        response.set_etag(etag)
    else:
        response = send_file(path(), mimetype=mimetype, etag=etag, max_age=YEAR)
    response.headers["Cache-Control"] = IMMUTABLE
    return response


# The paths are built in posterapp/urls.py; tests/test_urls.py checks they reach these routes.
@bp.get("/p/<poster_id>.png")
def poster_image(poster_id: str):
    # Cached images never get here (web/images.py sends them); this renders the missing ones.
    record = find(poster_id)
    return send_png(record.id, lambda: studio().image(record))


@bp.get("/p/<poster_id>.webp")
def light_image(poster_id: str):
    """The poster at half size as WebP, as the share page carries it inside itself."""
    record = find(poster_id)
    return send_png(f"{record.id}.light", lambda: studio().light(record), mimetype="image/webp")


@bp.get("/c/<poster_id>.png")
def card_image(poster_id: str):
    record = find(poster_id)
    return send_png(f"{record.id}.card", lambda: studio().card(record))


@bp.get("/q/<poster_id>")  # posters made before ids went upper case
@bp.get("/Q/<poster_id>")
def scan(poster_id: str):
    """The QR code's address: count the scan, then open the share page."""
    record = find(poster_id)
    studio().store.record("scan", record.id)
    # The share page this opens is the same visit: counted once, as the scan.
    return redirect(urls.share_page(record.id, from_scan=True), code=302)


@bp.get("/s/<poster_id>")
def share_page(poster_id: str):
    record = find(poster_id)
    site = studio()
    just_made = request.args.get(urls.JUST_MADE[0]) == urls.JUST_MADE[1]
    from_scan = request.args.get(urls.FROM_SCAN[0]) == urls.FROM_SCAN[1]  # counted as a scan
    if not just_made and not from_scan:  # the maker landing on their own poster is not a view
        site.store.record("share_view", record.id)
    version = site.version_of(record)
    choices = [version.catalog.choice(c) for c in record.choices]
    labels = [choice.label for choice in choices]
    # Each pick that leads to a service, as a tracked link (聚变: web/go.py counts the tap).
    services = [
        {
            "label": choice.label,
            "icon": None if choice.icon_is_image else choice.icon,
            "icon_url": urls.catalog_asset(version.version, choice.icon)
            if choice.icon_is_image
            else None,
            "href": urls.go_choice(record.id, choice.id),
        }
        for choice in choices
        if choice.link
    ]
    campaign_title = version.catalog.campaign.title  # catalog words: as the catalog says them
    if record.name:
        title = _("%(name)s的%(title)s", name=record.name, title=campaign_title)
    else:
        title = _("我的%(title)s", title=campaign_title)
    listed = _("、")
    share_url = site.url(urls.share_page(record.id))
    card_url = site.url(urls.card_image(record.id))
    weibo = "https://service.weibo.com/share/share.php?" + urlencode(
        {
            "url": share_url,
            "title": _("%(title)s：%(picks)s……", title=title, picks=listed.join(labels[:3])),
            "pic": card_url,
        }
    )
    # The light picture travels inside the page: on a 400 ms round trip a request of its own
    # would cost more than its bytes.
    light = site.light(record).read_bytes()
    page = render_template(
        "share.html",
        record=record,
        campaign=version.catalog.campaign,
        title=title,
        description=listed.join(labels),
        image_url=site.url(urls.poster_image(record.id)),
        # The page itself loads the image from wherever it was served, whatever PUBLIC_URL says.
        image_path=urls.poster_image(record.id),
        light_uri="data:image/webp;base64," + base64.b64encode(light).decode(),
        card_url=card_url,
        share_url=share_url,
        weibo_url=weibo,
        make_url=urls.picker(ref=record.id),
        just_made=just_made,
        services=services,
        script_words=script_words(SHARE_SCRIPT_WORDS),
        # 为你挑选的优惠: for the maker, the offers of their picks' categories, still valid.
        offers=[
            {"title": offer.title, "href": urls.go_offer(record.id, offer.id)}
            for offer in offers_for(version.catalog, record.choices, today())
        ]
        if just_made
        else [],
    )
    return Response(page, mimetype="text/html")
