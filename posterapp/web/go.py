"""Tracked links from a poster to the services behind its picks (聚变: conversion).

``/go/<poster>/<choice>`` counts the tap and redirects to the link the choice had in the
catalog version the poster was made with, with campaign parameters added. Only a choice on
that poster, with a link, goes anywhere: every other address is a 404, so this can never be
used to send people to a site of someone else's choosing.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from flask import Blueprint, abort, redirect

from ..catalog import offers_for
from ..store import OFFER
from . import studio
from .share import find, today

bp = Blueprint("go", __name__)


def with_campaign(link: str, campaign_id: str, choice_id: str) -> str:
    """Add utm_source, utm_campaign and utm_content to ``link``, keeping its own query."""
    parts = urlsplit(link)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
             if not k.startswith("utm_")]  # fmt: skip
    query += [
        ("utm_source", "posterapp"),
        ("utm_campaign", campaign_id),
        ("utm_content", choice_id),
    ]
    return urlunsplit(parts._replace(query=urlencode(query)))


# The paths are built in posterapp/urls.py; tests/test_urls.py checks they reach these routes.
@bp.get("/go/<poster_id>/<choice_id>")
def go(poster_id: str, choice_id: str):
    record = find(poster_id)
    if choice_id not in record.choices:
        abort(404)
    site = studio()
    catalog = site.version_of(record).catalog
    link = catalog.choice(choice_id).link
    if not link:
        abort(404)
    site.store.record_click(record.id, choice_id)
    return redirect(with_campaign(link, catalog.campaign.id, choice_id), code=302)


@bp.get("/go/<poster_id>/offer/<offer_id>")
def go_offer(poster_id: str, offer_id: str):
    """Count a tap on an offer shown with this poster, and open it; only its own, still valid."""
    record = find(poster_id)
    site = studio()
    catalog = site.version_of(record).catalog
    offer = next(
        (o for o in offers_for(catalog, record.choices, today()) if o.id == offer_id), None
    )
    if offer is None:
        abort(404)
    site.store.record_click(record.id, OFFER + offer.id)
    return redirect(with_campaign(offer.link, catalog.campaign.id, OFFER + offer.id), code=302)
