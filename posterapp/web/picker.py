"""The picker: the page where a person chooses, names and makes their poster."""

from __future__ import annotations

import mimetypes

from flask import Blueprint, Response, abort, redirect, render_template, request

from ..catalog import NATIONWIDE
from ..errors import SelectionError
from . import studio
from .images import IMMUTABLE

bp = Blueprint("picker", __name__)


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
        sections.append({"id": "local", "label": f"{regions[city]} · 本地精选", "choices": local})
    for category in catalog.categories:
        items = [
            c
            for c in catalog.choices
            if c.category == category.id and (not city or c.region != city)
        ]
        sections.append({"id": category.id, "label": category.label, "choices": items})
    layouts = sorted(version.layouts.values(), key=lambda lay: (lay.min_picks, lay.id))
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
            layout=form.get("layout", ""),
            layouts=layouts if catalog.campaign.layout_rules.user_choice else [],
            referrer=referrer,
            error=error,
            nationwide=NATIONWIDE,
        ),
        status,
    )


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
        )
    except SelectionError as error:
        return page(error, 422)
    return redirect(f"/s/{record.id}?new=1", code=303)


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
