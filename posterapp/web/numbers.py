"""The campaign's numbers for staff: figures, charts and a CSV export."""

from __future__ import annotations

from flask import Blueprint, Response, render_template

from . import studio
from .auth import require_staff

bp = Blueprint("numbers", __name__, url_prefix="/admin")
bp.before_request(require_staff)


def current_figures() -> dict:
    from .. import stats

    site = studio()
    return stats.figures(site.store, site.active.catalog)


@bp.get("")
@bp.get("/")
def dashboard():
    from .. import charts

    figures = current_figures()
    top = [(c["label"], c["count"]) for c in figures["top_choices"]]
    pairs = [(" + ".join(p["labels"]), p["count"]) for p in figures["top_pairs"]]
    drawn = {
        "top": charts.bar_chart(top, "最多人选的美好小事"),
        "pairs": charts.bar_chart(pairs, "常被一起选的组合", color="#2F6BFF"),
        "category": charts.bar_chart(
            [(c["label"], c["count"]) for c in figures["by_category"]], "按分类", color="#8E44AD"
        ),
        "city": charts.bar_chart(
            [(c["label"], c["count"]) for c in figures["by_city"]], "按城市", color="#16A085"
        ),
        "days": charts.column_chart(
            [(d["day"][5:], d["posters"]) for d in figures["by_day"]], "每天新海报"
        ),
        "hours": charts.column_chart(
            [(f"{h}", n) for h, n in enumerate(figures["by_hour"])], "一天中各时段的新海报"
        ),
    }
    return render_template("admin/numbers.html", figures=figures, charts=drawn)


@bp.get("/numbers.csv")
def export_csv():
    from .. import stats

    body = stats.to_csv(current_figures())
    return Response(
        body,
        mimetype="text/csv",
        headers={"Content-Disposition": 'attachment; filename="posterapp-numbers.csv"'},
    )


@bp.get("/api/numbers")
def numbers_json():
    from flask import jsonify

    return jsonify(current_figures())
