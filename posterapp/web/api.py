"""The JSON API: the catalog, making posters, reading them back, and its OpenAPI document."""

from __future__ import annotations

import json

from flask import Blueprint, jsonify, request

from .. import urls
from ..errors import PosterNotFound, RequestError, SelectionError, UnsupportedMediaType
from ..i18n import _, join
from ..store import PosterRecord
from . import openapi, studio
from .inputs import field_label

bp = Blueprint("api", __name__, url_prefix="/api")
FIELDS = ("choices", "name", "layout", "ref", "city")


def catalog_json(version) -> dict:
    """Describe the active catalog for clients: campaign, categories, regions, choices, layouts."""
    catalog, campaign = version.catalog, version.catalog.campaign
    rules = campaign.layout_rules
    return {
        "campaign": {
            "id": campaign.id,
            "title": campaign.title,
            "slogan": campaign.slogan,
            "brand": campaign.brand,
            "footer": campaign.footer,
            "version": version.version,
            "min_picks": campaign.min_picks,
            "max_picks": campaign.max_picks,
            "name_max_length": campaign.name_max_length,
            "layout_choice": rules.user_choice,
        },
        "categories": [c.model_dump(mode="json") for c in catalog.categories],
        "regions": [r.model_dump(mode="json") for r in catalog.regions],
        "choices": [
            {**c.model_dump(mode="json", exclude_none=True), **icon_fields(version, c)}
            for c in catalog.choices
        ],
        "layouts": [
            {
                "id": lay.id,
                "label": lay.label,
                "min_picks": lay.min_picks,
                "max_picks": lay.max_picks,
            }
            for lay in version.layouts_in_order
        ],
    }


def icon_fields(version, choice) -> dict:
    if choice.icon_is_image:
        return {"icon_url": studio().url(urls.catalog_asset(version.version, choice.icon))}
    return {}


def links(record: PosterRecord) -> dict:
    site = studio()
    return {
        "id": record.id,
        "image_url": site.url(urls.poster_image(record.id)),
        "share_url": site.url(urls.share_page(record.id)),
        "card_url": site.url(urls.card_image(record.id)),
    }


def _no_duplicates(pairs):
    seen = {}
    for key, value in pairs:
        if key in seen:
            raise RequestError(_("「%(field)s」发了两次，只发一次就好", field=str(key)[:40]))
        seen[key] = value
    return seen


def _has_lone_surrogate(value) -> bool:
    """Tell whether JSON data holds a lone UTF-16 surrogate (\\ud800), which no text can be."""
    if isinstance(value, str):
        return any("\ud800" <= char <= "\udfff" for char in value)
    if isinstance(value, dict):
        return any(_has_lone_surrogate(k) or _has_lone_surrogate(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_lone_surrogate(item) for item in value)
    return False


def read_body() -> dict:
    """Parse the JSON object of a request, or raise an error that says what to send."""
    if not request.is_json:
        raise UnsupportedMediaType(
            _(
                "请用 JSON 格式发送，并带上请求头「%(header)s」",
                header="Content-Type: application/json",
            )
        )
    try:
        body = json.loads(request.get_data(), object_pairs_hook=_no_duplicates)
    except json.JSONDecodeError as exc:
        where = {"line": exc.lineno, "column": exc.colno}
        raise RequestError(
            _("发来的内容不是有效的 JSON，请检查第 %(line)s 行第 %(column)s 个字符附近", **where)
        ) from None
    except (ValueError, RecursionError):
        raise RequestError(_("发来的 JSON 嵌套得太深了，请简化后再发")) from None
    if not isinstance(body, dict):
        raise RequestError(
            _(
                "发来的 JSON 要是一个对象，比如「%(example)s」",
                example='{"choices": ["travel-fund"]}',
            )
        )
    for key, value in body.items():
        if _has_lone_surrogate(key) or _has_lone_surrogate(value):
            field = "body" if _has_lone_surrogate(key) else key
            raise SelectionError(
                _("%(label)s里有无法识别的字符，请重新输入一遍吧", label=field_label(field)),
                field=field,
            )
    for key in body:
        if key not in FIELDS:
            raise SelectionError(
                _(
                    "不认识「%(field)s」这一项，可以发送的有%(fields)s",
                    field=key[:40],
                    fields=join(FIELDS),
                ),
                field=key[:40],
            )
    return body


def _optional_text(body: dict, field: str) -> str | None:
    value = body.get(field)
    if value is not None and not isinstance(value, str):
        raise SelectionError(
            _("%(label)s要填文字，或者不填", label=field_label(field)), field=field
        )
    return value or None


@bp.get("/catalog")
def catalog():
    return jsonify(catalog_json(studio().active))


@bp.post("/posters")
def create_poster():
    body = read_body()
    if "choices" not in body:
        raise SelectionError(_("还没有收到你挑的美好小事，挑好后再试一次吧"), field="choices")
    record = studio().create(
        body["choices"],
        name=_optional_text(body, "name"),
        layout=_optional_text(body, "layout"),
        ref=_optional_text(body, "ref"),
        city=_optional_text(body, "city"),
    )
    made = links(record)
    return jsonify(made), 201, {"Location": made["share_url"]}


@bp.get("/posters/<poster_id>")
def poster(poster_id: str):
    record = studio().store.get_poster(poster_id)
    if record is None:
        raise PosterNotFound(poster_id)
    return jsonify(
        {
            **links(record),
            "choices": list(record.choices),
            "name": record.name,
            "layout": record.layout,
            "catalog_version": record.catalog_version,
            "ref": record.ref,
            "created_at": record.created_at.isoformat(),
        }
    )


@bp.get("/openapi.json")
def openapi_document():
    return jsonify(openapi.document(studio().public_url))
