"""The campaign's numbers: how far the posters travelled and what people picked.

``figures`` counts everything with SQL aggregates in one database snapshot and returns a
JSON-ready dict; ``to_csv`` and ``to_text`` present it for spreadsheets and terminals.
Choice, category and city labels come from the catalog version each poster was made with
(the live catalog's words for those it still has), so they read as staff wrote them and a
choice removed later keeps its label and category.
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
from .errors import VersionNotFound
from .experiments import Interval, bootstrap_mean, verdict, wilson
from .i18n import _
from .store import (
    OFFER,
    Store,
    events,
    poster_choices,
    poster_variants,
    posters,
    service_clicks,
)

OTHER = "other"
OTHER_LABEL = "其他"
NATIONWIDE_LABEL = "全国"
UNKNOWN_CITY = "unknown"
UNKNOWN_CITY_LABEL = "没选城市"
# Every time zone in use today is a whole number of quarter hours from UTC, so counting
# posters per UTC quarter hour is enough to place each one in its local day and hour.
QUARTER_HOUR = 15 * 60
SCALARS = (
    "posters",
    "share_views",
    "scans",
    "referral_posters",
    "k_factor",
    "generations",
    "service_clicks",
    "click_through",
)


def figures(store: Store, catalog: Catalog, timezone: str = "Asia/Shanghai", top: int = 10) -> dict:
    """Count the campaign's figures; days and hours are those of ``timezone``.

    Each pick is named and placed (category, city) by the catalog version its poster was
    made with, so removing or moving a choice later does not rewrite what people picked;
    ``catalog`` (the live one) only names categories and cities that still exist.
    """
    zone = ZoneInfo(timezone)
    with _snapshot(store) as db:
        made, referred = db.execute(
            sa.select(sa.func.count(), sa.func.count(posters.c.ref)).select_from(posters)
        ).one()
        kinds: dict[str, int] = dict(
            db.execute(
                sa.select(events.c.kind, sa.func.count())
                .where(events.c.kind.in_(("share_view", "scan")))
                .group_by(events.c.kind)
            ).all()
        )
        generations = db.scalar(sa.select(sa.func.max(_chains().c.depth))) or 0
        picks = db.execute(
            sa.select(posters.c.catalog_version, poster_choices.c.choice_id, sa.func.count())
            .join(posters, posters.c.id == poster_choices.c.poster_id)
            .group_by(posters.c.catalog_version, poster_choices.c.choice_id)
        ).all()
        pairs = db.execute(_pairs()).all()
        clicks = db.execute(
            sa.select(posters.c.catalog_version, service_clicks.c.choice_id, sa.func.count())
            .join(posters, posters.c.id == service_clicks.c.poster_id)
            .group_by(posters.c.catalog_version, service_clicks.c.choice_id)
        ).all()
        chains = _chains()
        clicks_by_generation = db.execute(
            sa.select(chains.c.depth, sa.func.count())
            .join(service_clicks, service_clicks.c.poster_id == chains.c.id)
            .group_by(chains.c.depth)
        ).all()
        cities = db.execute(
            sa.select(posters.c.city, sa.func.count()).group_by(posters.c.city)
        ).all()
        # Grouping on a subquery's column: PostgreSQL cannot match an expression with bound
        # parameters in the select list to the same expression in GROUP BY.
        quarters = sa.select(_quarter_hour(db.dialect.name).label("quarter")).subquery()
        timeline = db.execute(
            sa.select(quarters.c.quarter, sa.func.count()).group_by(quarters.c.quarter)
        ).all()

    names = _Names(store, catalog, sorted({version for version, _, _ in [*picks, *clicks]}))
    per_choice: Counter[str] = Counter()
    per_category: Counter[str] = Counter(dict.fromkeys(names.categories, 0))
    per_region: Counter[str] = Counter(dict.fromkeys(names.regions, 0))
    for version, choice_id, n in picks:
        per_choice[choice_id] += n
        choice = names.choice(version, choice_id)
        per_category[choice.category if choice else OTHER] += n
        per_region[choice.region if choice else OTHER] += n
    per_pair: Counter[tuple[str, str]] = Counter()
    for _version, a, b, n in pairs:
        per_pair[tuple(sorted((a, b)))] += n
    clicked: Counter[str] = Counter()
    clicked_category: Counter[str] = Counter(dict.fromkeys(names.categories, 0))
    offered: Counter[str] = Counter()
    for version, choice_id, n in clicks:
        if choice_id.startswith(OFFER):  # a tap on an offer, not on a pick
            offered[choice_id.removeprefix(OFFER)] += n
            continue
        clicked[choice_id] += n
        choice = names.choice(version, choice_id)
        clicked_category[choice.category if choice else OTHER] += n
    total_clicks = sum(clicked.values()) + sum(offered.values())
    share_views = kinds.get("share_view", 0)
    by_day, by_hour = _calendar(timeline, zone)
    return {
        "posters": made,
        "share_views": kinds.get("share_view", 0),
        "scans": kinds.get("scan", 0),
        "referral_posters": referred,
        "k_factor": round(referred / made, 3) if made else 0.0,
        "generations": generations,
        # 聚变: what the posters led to. Click-through is per share view (people who saw a
        # poster and tapped through to one of its services).
        "service_clicks": total_clicks,
        "click_through": round(total_clicks / share_views, 3) if share_views else 0.0,
        "funnel": [
            {"step": "share_views", "label": "看到分享页", "count": share_views},
            {"step": "scans", "label": "扫码", "count": kinds.get("scan", 0)},
            {"step": "referral_posters", "label": "做了自己的海报", "count": referred},
            {"step": "service_clicks", "label": "点进服务", "count": total_clicks},
        ],
        "clicks_by_choice": [
            {"id": choice_id, "label": names.label(choice_id), "count": n}
            for choice_id, n in _ranked(clicked.items())[:top]
        ],
        "clicks_by_category": _labelled(clicked_category, names.categories),
        "clicks_by_offer": [
            {"id": offer_id, "count": n} for offer_id, n in _ranked(offered.items())
        ],
        "clicks_by_generation": [
            {"generation": int(depth), "count": n} for depth, n in sorted(clicks_by_generation)
        ],
        "top_choices": [
            {"id": choice_id, "label": names.label(choice_id), "count": n}
            for choice_id, n in _ranked(per_choice.items())[:top]
        ],
        "top_pairs": [
            {"ids": [a, b], "labels": [names.label(a), names.label(b)], "count": n}
            for (a, b), n in _ranked(per_pair.items())[:top]
        ],
        "by_category": _labelled(per_category, names.categories),
        "by_city": _people_by_city(cities, names.regions),
        "by_choice_city": _labelled(per_region, names.regions),
        "by_day": by_day,
        "by_hour": by_hour,
        "timezone": timezone,
        "generated_at": dt.datetime.now(zone).isoformat(timespec="seconds"),
        "experiments": experiments(store, catalog),
    }


def experiments(store: Store, catalog: Catalog | None = None) -> list[dict]:
    """Figures per variant of every experiment posters were made in (running or ended).

    Per variant: posters, share views, scans, clicks; click-through (clicks per share view)
    with Wilson's 95 % interval; K (posters made through one of its posters, per poster)
    with a bootstrap interval over its posters; and a plain verdict per figure.
    """
    pv = poster_variants
    friend = posters.alias("friend")
    with _snapshot(store) as db:
        referrals = db.execute(
            sa.select(pv.c.experiment, pv.c.variant, pv.c.poster_id, sa.func.count(friend.c.id))
            .outerjoin(friend, friend.c.ref == pv.c.poster_id)
            .group_by(pv.c.experiment, pv.c.variant, pv.c.poster_id)
        ).all()
        seen = db.execute(
            sa.select(pv.c.experiment, pv.c.variant, events.c.kind, sa.func.count())
            .join(events, events.c.poster_id == pv.c.poster_id)
            .where(events.c.kind.in_(("share_view", "scan")))
            .group_by(pv.c.experiment, pv.c.variant, events.c.kind)
        ).all()
        tapped = db.execute(
            sa.select(pv.c.experiment, pv.c.variant, sa.func.count())
            .join(service_clicks, service_clicks.c.poster_id == pv.c.poster_id)
            .group_by(pv.c.experiment, pv.c.variant)
        ).all()
    brought: dict[tuple[str, str], list[int]] = {}
    for experiment, variant, _poster, n in referrals:
        brought.setdefault((experiment, variant), []).append(n)
    counts = {(e, v, kind): n for e, v, kind, n in seen}
    clicks = {(e, v): n for e, v, n in tapped}
    found: dict[str, dict] = {}
    for (experiment, variant), per_poster in sorted(brought.items()):
        views = counts.get((experiment, variant, "share_view"), 0)
        taps = clicks.get((experiment, variant), 0)
        through = wilson(min(taps, views), views)
        k = bootstrap_mean(per_poster)
        found.setdefault(experiment, {"id": experiment, "variants": []})["variants"].append(
            {
                "id": variant,
                "posters": len(per_poster),
                "share_views": views,
                "scans": counts.get((experiment, variant, "scan"), 0),
                "service_clicks": taps,
                "k_factor": _interval(k),
                "click_through": _interval(through),
            }
        )
    running = catalog.campaign.experiment if catalog is not None else None
    for experiment in found.values():
        arms = experiment["variants"]
        # The running experiment's name as staff wrote it; an ended one keeps its id.
        is_running = running is not None and running.id == experiment["id"]
        experiment["label"] = running.label if running and is_running else experiment["id"]
        experiment["running"] = is_running
        experiment["verdicts"] = [
            verdict({a["id"]: _back(a["k_factor"]) for a in arms}, "裂变系数 K"),
            verdict({a["id"]: _back(a["click_through"]) for a in arms}, "点击率"),
        ]
    return list(found.values())


def _interval(found: Interval) -> dict:
    return {key: round(getattr(found, key), 3) for key in ("value", "low", "high")}


def _back(figure: dict) -> Interval:
    return Interval(figure["value"], figure["low"], figure["high"])


class _Names:
    """Name choices, categories and cities as the catalog versions in use wrote them."""

    def __init__(self, store: Store, live: Catalog, version_ids: list[str]):
        self.catalogs: dict[str, Catalog | None] = {}
        for version_id in version_ids:
            try:
                # load_version is cached for the process: versions never change once stored.
                self.catalogs[version_id] = store.load_version(version_id).catalog
            except VersionNotFound:
                self.catalogs[version_id] = None
        self.live = live
        older = [c for c in self.catalogs.values() if c is not None]
        # The live catalog's words first, then those of versions in use, for what it dropped.
        self.categories = _names(live.categories, *(c.categories for c in older))
        self.regions = {NATIONWIDE: NATIONWIDE_LABEL} | _names(
            live.regions, *(c.regions for c in older)
        )
        self.labels: dict[str, str] = {}
        for found in (*older, live):  # the live label wins for choices it still has
            self.labels.update({c.id: c.label for c in found.choices})

    def choice(self, version_id: str, choice_id: str):
        """Return the choice as the poster's own version had it (else as the live one has it)."""
        for found in (self.catalogs.get(version_id), self.live):
            if found is not None and found.has_choice(choice_id):
                return found.choice(choice_id)
        return None

    def label(self, choice_id: str) -> str:
        return self.labels.get(choice_id, choice_id)


def _names(*groups) -> dict[str, str]:
    found: dict[str, str] = {}
    for group in groups:
        for entry in group:
            found.setdefault(entry.id, entry.label)
    return found


def _labelled(counts: Counter, labels: dict[str, str]) -> list[dict]:
    return [
        {"id": key, "label": labels.get(key, OTHER_LABEL), "count": n}
        for key, n in _ranked(counts.items())
    ]


def _people_by_city(cities, labels: dict[str, str]) -> list[dict]:
    """Count posters by the city their makers chose in the picker (some choose none)."""
    counts: Counter[str] = Counter({key: 0 for key in labels if key != NATIONWIDE})
    for city, n in cities:
        counts[city or UNKNOWN_CITY] += n
    names = labels | {UNKNOWN_CITY: UNKNOWN_CITY_LABEL}
    return _labelled(counts, names)


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
        sa.select(posters.c.catalog_version, first.c.choice_id, second.c.choice_id, sa.func.count())
        .join(
            second,
            sa.and_(
                second.c.poster_id == first.c.poster_id, first.c.choice_id < second.c.choice_id
            ),
        )
        .join(posters, posters.c.id == first.c.poster_id)
        .group_by(posters.c.catalog_version, first.c.choice_id, second.c.choice_id)
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
        ("city_id", "city", "posters"),
        [(c["id"], c["label"], c["count"]) for c in figures["by_city"]],
    )
    section(
        ("choice_city_id", "choice_city", "picks"),
        [(c["id"], c["label"], c["count"]) for c in figures["by_choice_city"]],
    )
    section(
        ("step", "label", "count"), [(f["step"], f["label"], f["count"]) for f in figures["funnel"]]
    )
    section(
        ("clicked_choice_id", "clicked_choice", "clicks"),
        [(c["id"], c["label"], c["count"]) for c in figures["clicks_by_choice"]],
    )
    section(
        ("clicked_category_id", "clicked_category", "clicks"),
        [(c["id"], c["label"], c["count"]) for c in figures["clicks_by_category"]],
    )
    section(
        ("generation", "clicks"),
        [(g["generation"], g["count"]) for g in figures["clicks_by_generation"]],
    )
    section(
        ("offer_id", "offer_clicks"),
        [(c["id"], c["count"]) for c in figures["clicks_by_offer"]],
    )
    section(
        ("experiment", "variant", "posters", "share_views", "scans", "service_clicks",
         "k", "k_low", "k_high", "click_through", "ct_low", "ct_high"),
        [
            (e["id"], a["id"], a["posters"], a["share_views"], a["scans"], a["service_clicks"],
             *a["k_factor"].values(), *a["click_through"].values())
            for e in figures["experiments"]
            for a in e["variants"]
        ],
    )  # fmt: skip
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
    made = dt.datetime.fromisoformat(figures["generated_at"])
    lines = [
        _(
            "活动数据（%(time)s，%(zone)s 时间）",
            time=f"{made:%Y-%m-%d %H:%M}",
            zone=figures["timezone"],
        ),
        "",
    ]
    scalars = [
        (_("做出的海报"), f"{figures['posters']:,}"),
        (_("分享页浏览"), f"{figures['share_views']:,}"),
        (_("扫码"), f"{figures['scans']:,}"),
        (_("朋友带来的海报"), f"{figures['referral_posters']:,}"),
        (_("传播系数 K"), f"{figures['k_factor']:.3f}"),
        (_("最长传播链"), _("%(count)s 代", count=f"{figures['generations']:,}")),
        (_("服务点击"), f"{figures['service_clicks']:,}"),
        (_("每次浏览的点击"), f"{figures['click_through']:.3f}"),
    ]
    label_width = max(_display_width(label) for label, _value in scalars)
    value_width = max(8, *(_display_width(value) for _label, value in scalars))
    for label, value in scalars:
        lines.append(f"  {_pad(label, label_width)}  {_pad_left(value, value_width)}".rstrip())

    def table(title: str, rows: list[tuple[str, int]]) -> None:
        lines.extend(["", title])
        if not rows:
            lines.append("  " + _("（还没有）"))
        width = max((_display_width(label) for label, _n in rows), default=0)
        most = max((n for _label, n in rows), default=0)
        for label, n in rows:
            bar = "█" * round(BAR * n / most) if most else ""
            lines.append(f"  {_pad(label, width)}  {n:>7,}  {bar}".rstrip())

    table(_("最多人选的选项"), [(c["label"], c["count"]) for c in figures["top_choices"]])
    table(_("常被一起选的"), [(" + ".join(p["labels"]), p["count"]) for p in figures["top_pairs"]])
    table(_("各分类被选的次数"), [(c["label"], c["count"]) for c in figures["by_category"]])
    table(_("各城市做出的海报"), [(c["label"], c["count"]) for c in figures["by_city"]])
    table(
        _("各城市的选项被选的次数"),
        [(c["label"], c["count"]) for c in figures["by_choice_city"]],
    )
    table(_("传播漏斗"), [(f["label"], f["count"]) for f in figures["funnel"]])
    table(_("各选项的服务点击"), [(c["label"], c["count"]) for c in figures["clicks_by_choice"]])
    table(_("每天的海报"), [(d["day"], d["posters"]) for d in figures["by_day"]])
    table(_("每小时的海报"), [(f"{h:02d}:00", n) for h, n in enumerate(figures["by_hour"])])
    return "\n".join(lines) + "\n"


def _display_width(text: str) -> int:
    # Chinese characters take two columns in a terminal.
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _display_width(text))


def _pad_left(text: str, width: int) -> str:
    return " " * (width - _display_width(text)) + text
