"""The campaign's numbers: how far the posters travelled and what people picked.

``figures`` counts everything with SQL aggregates in one database snapshot and returns a
JSON-ready dict; ``to_csv`` and ``to_text`` present it for spreadsheets and terminals.
Choice, category and city labels come from the catalog given, so they read as staff wrote them.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import io
import unicodedata
from collections import Counter
from collections.abc import Iterator
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from .catalog import NATIONWIDE, Catalog
from .store import Store, events, poster_choices, posters

OTHER = "other"
OTHER_LABEL = "其他"
NATIONWIDE_LABEL = "全国"
# Every time zone in use today is a whole number of quarter hours from UTC, so counting
# posters per UTC quarter hour is enough to place each one in its local day and hour.
QUARTER_HOUR = 15 * 60
SCALARS = ("posters", "share_views", "scans", "referral_posters", "k_factor", "generations")


def figures(store: Store, catalog: Catalog, timezone: str = "Asia/Shanghai", top: int = 10) -> dict:
    """Count the campaign's figures; days and hours are those of ``timezone``."""
    zone = ZoneInfo(timezone)
    with _snapshot(store) as db:
        made, referred = db.execute(
            sa.select(sa.func.count(), sa.func.count(posters.c.ref)).select_from(posters)
        ).one()
        kinds = dict(
            db.execute(
                sa.select(events.c.kind, sa.func.count())
                .where(events.c.kind.in_(("share_view", "scan")))
                .group_by(events.c.kind)
            ).all()
        )
        generations = db.scalar(sa.select(sa.func.max(_chains().c.depth))) or 0
        picks = db.execute(
            sa.select(poster_choices.c.choice_id, sa.func.count()).group_by(
                poster_choices.c.choice_id
            )
        ).all()
        pairs = db.execute(_pairs()).all()
        # Grouping on a subquery's column: PostgreSQL cannot match an expression with bound
        # parameters in the select list to the same expression in GROUP BY.
        quarters = sa.select(_quarter_hour(db.dialect.name).label("quarter")).subquery()
        timeline = db.execute(
            sa.select(quarters.c.quarter, sa.func.count()).group_by(quarters.c.quarter)
        ).all()

    by_day, by_hour = _calendar(timeline, zone)
    return {
        "posters": made,
        "share_views": kinds.get("share_view", 0),
        "scans": kinds.get("scan", 0),
        "referral_posters": referred,
        "k_factor": round(referred / made, 3) if made else 0.0,
        "generations": generations,
        "top_choices": [
            {"id": choice_id, "label": _choice_label(catalog, choice_id), "count": n}
            for choice_id, n in _ranked(picks)[:top]
        ],
        "top_pairs": [
            {
                "ids": [a, b],
                "labels": [_choice_label(catalog, a), _choice_label(catalog, b)],
                "count": n,
            }
            for (a, b), n in _ranked([(tuple(sorted((a, b))), n) for a, b, n in pairs])[:top]
        ],
        "by_category": _tally(
            picks, catalog, "category", {c.id: c.label for c in catalog.categories}
        ),
        "by_city": _tally(
            picks,
            catalog,
            "region",
            {NATIONWIDE: NATIONWIDE_LABEL} | {r.id: r.label for r in catalog.regions},
        ),
        "by_day": by_day,
        "by_hour": by_hour,
        "timezone": timezone,
        "generated_at": dt.datetime.now(zone).isoformat(timespec="seconds"),
    }


@contextlib.contextmanager
def _snapshot(store: Store) -> Iterator[sa.Connection]:
    """Open a connection whose queries all read the same committed state of the database."""
    with store.engine.connect() as db:
        if db.dialect.name == "postgresql":
            db.execution_options(isolation_level="REPEATABLE READ")
        elif db.dialect.name == "sqlite":
            # pysqlite starts no transaction for SELECTs, so each query would see newer rows
            # and, mid-campaign, K would not match the posters counted beside it.
            db.exec_driver_sql("BEGIN")
        yield db


def _chains() -> sa.CTE:
    """Return each poster with its generation: 1 for posters made without a referral."""
    chain = (
        sa.select(posters.c.id, sa.literal(1, sa.Integer).label("depth"))
        .where(posters.c.ref.is_(None))
        .cte("chain", recursive=True)
    )
    return chain.union_all(
        sa.select(posters.c.id, chain.c.depth + 1).join(chain, posters.c.ref == chain.c.id)
    )


def _pairs() -> sa.Select:
    """Count the posters on which each two choices were picked together."""
    first, second = poster_choices.alias("pick_a"), poster_choices.alias("pick_b")
    # A poster never repeats a pick (selection refuses it), so each pair is counted once.
    return (
        sa.select(first.c.choice_id, second.c.choice_id, sa.func.count())
        .join(
            second,
            sa.and_(
                second.c.poster_id == first.c.poster_id, first.c.choice_id < second.c.choice_id
            ),
        )
        .group_by(first.c.choice_id, second.c.choice_id)
    )


def _quarter_hour(dialect: str) -> sa.ColumnElement[int]:
    """Return SQL for the UTC quarter hour a poster was made in, counted from the epoch."""
    epoch = sa.extract("epoch", posters.c.created_at)  # SQLite stores UTC without an offset
    if dialect == "sqlite":
        return epoch // QUARTER_HOUR  # whole seconds: integer division rounds down
    # PostgreSQL's EXTRACT has fractions of a second: round down explicitly.
    return sa.cast(sa.func.floor(epoch / QUARTER_HOUR), sa.BigInteger)


def _calendar(timeline, zone: ZoneInfo) -> tuple[list[dict], list[int]]:
    """Spread quarter-hour counts over local days (every day, empty ones too) and hours."""
    per_day: Counter[dt.date] = Counter()
    by_hour = [0] * 24
    for quarter, n in timeline:
        local = dt.datetime.fromtimestamp(int(quarter) * QUARTER_HOUR, zone)
        per_day[local.date()] += n
        by_hour[local.hour] += n
    by_day = []
    if per_day:
        day, last = min(per_day), max(per_day)
        while day <= last:
            by_day.append({"day": day.isoformat(), "posters": per_day[day]})
            day += dt.timedelta(days=1)
    return by_day, by_hour


def _ranked(counts):
    """Sort (key, count) pairs most first, ties by key.

    Sorting here rather than in SQL keeps ties in the same order on every database, whatever
    its collation.
    """
    return sorted(counts, key=lambda item: (-item[1], item[0]))


def _choice_label(catalog: Catalog, choice_id: str) -> str:
    # Posters keep the ids of choices later removed from the catalog: show the id for those.
    return catalog.choice(choice_id).label if catalog.has_choice(choice_id) else choice_id


def _tally(picks, catalog: Catalog, field: str, labels: dict[str, str]) -> list[dict]:
    """Add up picks per category or region; every one the catalog lists, picked or not."""
    counts = Counter(dict.fromkeys(labels, 0))
    for choice_id, n in picks:
        known = catalog.has_choice(choice_id)
        counts[getattr(catalog.choice(choice_id), field) if known else OTHER] += n
    return [
        {"id": key, "label": labels.get(key, OTHER_LABEL), "count": n}
        for key, n in _ranked(counts.items())
    ]


# Presenting the figures ---------------------------------------------------------------------

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
BAR = 30  # characters of the longest bar in text tables


def to_csv(figures: dict) -> str:
    """Write the figures as CSV sections a spreadsheet opens: scalars first, then each table."""
    out = io.StringIO()
    # The byte order mark makes Excel read the file as UTF-8 instead of the local code page,
    # which would garble every Chinese label.
    out.write("\ufeff")
    writer = csv.writer(out)

    def section(header: tuple[str, ...], rows) -> None:
        writer.writerow(header)
        writer.writerows([_cell(value) for value in row] for row in rows)
        writer.writerow([])

    section(
        ("figure", "value"),
        [(key, figures[key]) for key in (*SCALARS, "timezone", "generated_at")],
    )
    section(
        ("choice_id", "choice", "picks"),
        [(c["id"], c["label"], c["count"]) for c in figures["top_choices"]],
    )
    section(
        ("choice_id_1", "choice_id_2", "choice_1", "choice_2", "posters"),
        [(*p["ids"], *p["labels"], p["count"]) for p in figures["top_pairs"]],
    )
    section(
        ("category_id", "category", "picks"),
        [(c["id"], c["label"], c["count"]) for c in figures["by_category"]],
    )
    section(
        ("city_id", "city", "picks"),
        [(c["id"], c["label"], c["count"]) for c in figures["by_city"]],
    )
    section(("day", "posters"), [(d["day"], d["posters"]) for d in figures["by_day"]])
    section(("hour", "posters"), list(enumerate(figures["by_hour"])))
    return out.getvalue()


def _cell(value) -> str:
    """Return a CSV cell that a spreadsheet shows as text, never runs as a formula."""
    text = str(value)
    # Catalog labels are written by staff: "=HYPERLINK(…)" must not become a live link.
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def to_text(figures: dict) -> str:
    """Summarise the figures as plain text for a terminal."""
    lines = [
        f"Campaign figures ({figures['timezone']}, {figures['generated_at']})",
        "",
        f"  posters made          {figures['posters']:>8,}",
        f"  share page views      {figures['share_views']:>8,}",
        f"  QR code scans         {figures['scans']:>8,}",
        f"  made via a referral   {figures['referral_posters']:>8,}",
        f"  viral coefficient K   {figures['k_factor']:>8.3f}",
        f"  longest chain         {figures['generations']:>8,} generations",
    ]

    def table(title: str, rows: list[tuple[str, int]]) -> None:
        lines.extend(["", title])
        if not rows:
            lines.append("  (none yet)")
        width = max((_display_width(label) for label, _ in rows), default=0)
        most = max((n for _, n in rows), default=0)
        for label, n in rows:
            bar = "█" * round(BAR * n / most) if most else ""
            lines.append(f"  {_pad(label, width)}  {n:>7,}  {bar}".rstrip())

    table("Most picked choices", [(c["label"], c["count"]) for c in figures["top_choices"]])
    table("Picked together", [(" + ".join(p["labels"]), p["count"]) for p in figures["top_pairs"]])
    table("Picks by category", [(c["label"], c["count"]) for c in figures["by_category"]])
    table("Picks by city", [(c["label"], c["count"]) for c in figures["by_city"]])
    table("Posters by day", [(d["day"], d["posters"]) for d in figures["by_day"]])
    table("Posters by hour", [(f"{h:02d}:00", n) for h, n in enumerate(figures["by_hour"])])
    return "\n".join(lines) + "\n"


def _display_width(text: str) -> int:
    # Chinese characters take two columns in a terminal.
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _display_width(text))
