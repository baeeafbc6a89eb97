"""The campaign's numbers for staff: figures, charts and a CSV export."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, render_template

from .. import charts, stats
from . import studio
from .auth import require_staff

bp = Blueprint("numbers", __name__, url_prefix="/admin")
bp.before_request(require_staff)


def current_figures() -> dict:
    site = studio()
    return stats.figures(site.store, site.active.catalog)


@bp.get("")
@bp.get("/")
def dashboard():
    figures = current_figures()
    return render_template(
        "admin/numbers.html", figures=figures, charts=charts.campaign_charts(figures)
    )


@bp.get("/numbers.csv")
def export_csv():
    body = stats.to_csv(current_figures())
    return Response(
        body,
        mimetype="text/csv",
        headers={"Content-Disposition": 'attachment; filename="posterapp-numbers.csv"'},
    )


@bp.get("/api/numbers")
def numbers_json():
    return jsonify(current_figures())
