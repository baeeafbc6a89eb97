"""For operators and load balancers: health, metrics, and counting every response."""

from __future__ import annotations

import hmac
import ipaddress

from flask import Blueprint, Response, abort, current_app, jsonify, request

from .. import metrics
from . import studio

bp = Blueprint("ops", __name__)


@bp.get("/healthz")
def healthz():
    site = studio()
    site.store.ping()
    return jsonify({"status": "ok", "catalog_version": site.active.version})


# Headers a proxy adds when it forwards someone else's request.
FORWARDED = ("Forwarded", "X-Forwarded-For", "X-Real-IP")


@bp.get("/metrics")
def prometheus():
    """Serve the figures to the scraper: with the token if one is set, else to this machine."""
    token = str(current_app.config.get("METRICS_TOKEN") or "")
    if token:
        given = request.headers.get("Authorization", "")
        if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
            return Response(
                "读取 /metrics 需要请求头 Authorization: Bearer <POSTERAPP_METRICS_TOKEN 的值>\n",
                status=401,
                content_type="text/plain; charset=utf-8",
                headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
            )
    elif not from_this_machine():
        abort(404)  # as if there were nothing here: it is not for the public
    body, content_type = metrics.exposition()
    return Response(body, content_type=content_type, headers={"Cache-Control": "no-store"})


def from_this_machine() -> bool:
    """Tell whether the request came from a loopback address, and not through a proxy.

    A proxy on this machine makes every visitor look local; what it forwards carries one of
    the FORWARDED headers (and behind trusted proxies remote_addr is the visitor's already).
    """
    try:
        address = ipaddress.ip_address(request.remote_addr or "")
    except ValueError:
        return False
    if any(header in request.headers for header in FORWARDED):
        return False
    return address.is_loopback or (
        isinstance(address, ipaddress.IPv6Address)
        and address.ipv4_mapped is not None
        and address.ipv4_mapped.is_loopback
    )


@bp.after_app_request
def count(response):
    metrics.REQUESTS.labels(request.method, str(response.status_code)).inc()
    if response.status_code >= 500:
        metrics.ERRORS.labels(str(response.status_code)).inc()
    return response
