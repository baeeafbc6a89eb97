"""For operators and load balancers: health, metrics, and counting every response."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request

from .. import metrics
from . import studio

bp = Blueprint("ops", __name__)


@bp.get("/healthz")
def healthz():
    site = studio()
    site.store.ping()
    return jsonify({"status": "ok", "catalog_version": site.active.version})


@bp.get("/metrics")
def prometheus():
    body, content_type = metrics.exposition()
    return Response(body, content_type=content_type)


@bp.after_app_request
def count(response):
    metrics.REQUESTS.labels(request.method, str(response.status_code)).inc()
    if response.status_code >= 500:
        metrics.ERRORS.labels(str(response.status_code)).inc()
    return response
