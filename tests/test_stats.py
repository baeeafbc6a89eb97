"""The campaign's figures, their CSV and text, and the SVG charts drawn from them."""

from __future__ import annotations

import csv
import datetime as dt
import io
import threading
import xml.etree.ElementTree as ET

import pytest

from posterapp import charts, stats
from posterapp.catalog import Catalog
from posterapp.store import PosterRecord

SVG = "{http://www.w3.org/2000/svg}"


def utc(month: int, day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, minute, tzinfo=dt.UTC)


# Who made a poster, through whose poster, when (UTC) and what they picked. Shanghai is
# UTC+8, so ann's poster is made on 1 March there but 28 February in UTC, and gus's on 4 March.
CAMPAIGN = [
    ("ann", None, utc(2, 28, 16, 30), ["wuhan-hot-dry-noodles", "travel-fund", "family-portrait"]),
    ("bo", "ann", utc(3, 1, 1), ["wuhan-hot-dry-noodles", "travel-fund"]),
    ("cy", "bo", utc(3, 1, 12, 15), ["wuhan-hot-dry-noodles", "nanjing-big-buns"]),
    ("di", "cy", utc(3, 2, 17, 59), ["travel-fund", "family-portrait"]),
    ("ed", "ann", utc(3, 1, 2), ["shanghai-huaihai-road"]),
    ("fay", "ed", utc(3, 3, 3), ["wuhan-hot-dry-noodles", "travel-fund", "retired-choice"]),
    ("gus", None, utc(3, 3, 16, 10), ["family-portrait"]),
]


# Where the makers said they were in the picker (None: they did not say).
CITIES = {"ann": "wuhan", "bo": "wuhan", "cy": "nanjing", "di": "shanghai", "ed": None}


def add(store, version: str, poster_id: str, ref, when: dt.datetime, picks) -> None:
    record = PosterRecord(
        poster_id, version, "list", tuple(picks), "", "https://x/q", ref, when,
        city=CITIES.get(poster_id),
    )  # fmt: skip
    store.add_poster(record)


@pytest.fixture
def campaign(store, default_version):
    """The store with CAMPAIGN's posters, 7 share views and 4 scans."""
    for poster in CAMPAIGN:
        add(store, default_version.version, *poster)
    for kind, poster_id, times in [
        ("share_view", "ann", 5),
        ("share_view", "bo", 2),
        ("scan", "ann", 3),
        ("scan", "ed", 1),
    ]:
        for _ in range(times):
            store.record(kind, poster_id)
    return store


def zeros(entries, picked: set[str]) -> list[dict]:
    """The catalog entries nobody picked, as the figures list them: by id, count 0."""
    return [
        {"id": e.id, "label": e.label, "count": 0}
        for e in sorted(entries, key=lambda e: e.id)
        if e.id not in picked
    ]


def test_every_figure_of_a_campaign(campaign, default_version):
    catalog = default_version.catalog
    found = stats.figures(campaign, catalog)

    assert found["posters"] == 7
    assert found["share_views"] == 7
    assert found["scans"] == 4
    assert found["referral_posters"] == 5  # bo, cy, di, ed, fay
    assert found["k_factor"] == 0.714  # 5 / 7
    assert found["generations"] == 4  # ann → bo → cy → di
    assert found["top_choices"] == [
        {"id": "travel-fund", "label": "存一笔旅游资金", "count": 4},
        {"id": "wuhan-hot-dry-noodles", "label": "过早来碗热干面", "count": 4},
        {"id": "family-portrait", "label": "陪爸妈拍张全家福", "count": 3},
        {"id": "nanjing-big-buns", "label": "买一袋金陵大肉包", "count": 1},
        # A choice since removed from the catalog is shown by its id.
        {"id": "retired-choice", "label": "retired-choice", "count": 1},
        {"id": "shanghai-huaihai-road", "label": "去淮海路看老洋房", "count": 1},
    ]
    assert found["top_pairs"] == [
        {
            "ids": ["travel-fund", "wuhan-hot-dry-noodles"],
            "labels": ["存一笔旅游资金", "过早来碗热干面"],
            "count": 3,
        },
        {
            "ids": ["family-portrait", "travel-fund"],
            "labels": ["陪爸妈拍张全家福", "存一笔旅游资金"],
            "count": 2,
        },
        {
            "ids": ["family-portrait", "wuhan-hot-dry-noodles"],
            "labels": ["陪爸妈拍张全家福", "过早来碗热干面"],
            "count": 1,
        },
        {
            "ids": ["nanjing-big-buns", "wuhan-hot-dry-noodles"],
            "labels": ["买一袋金陵大肉包", "过早来碗热干面"],
            "count": 1,
        },
        {
            "ids": ["retired-choice", "travel-fund"],
            "labels": ["retired-choice", "存一笔旅游资金"],
            "count": 1,
        },
        {
            "ids": ["retired-choice", "wuhan-hot-dry-noodles"],
            "labels": ["retired-choice", "过早来碗热干面"],
            "count": 1,
        },
    ]
    assert found["by_category"] == [
        {"id": "food", "label": "城市美食", "count": 5},
        {"id": "money", "label": "钱包计划", "count": 4},
        {"id": "family", "label": "爸妈家人", "count": 3},
        {"id": "other", "label": "其他", "count": 1},
        {"id": "sights", "label": "城市漫步", "count": 1},
        *zeros(catalog.categories, {"food", "money", "family", "sights"}),
    ]
    assert found["by_city"] == [
        {"id": "unknown", "label": "没选城市", "count": 3},  # ed, fay, gus
        {"id": "wuhan", "label": "武汉", "count": 2},
        {"id": "nanjing", "label": "南京", "count": 1},
        {"id": "shanghai", "label": "上海", "count": 1},
        *zeros(catalog.regions, {"wuhan", "nanjing", "shanghai"}),
    ]
    assert found["by_choice_city"] == [
        {"id": "nationwide", "label": "全国", "count": 7},
        {"id": "wuhan", "label": "武汉", "count": 4},
        {"id": "nanjing", "label": "南京", "count": 1},
        {"id": "other", "label": "其他", "count": 1},
        {"id": "shanghai", "label": "上海", "count": 1},
        *zeros(catalog.regions, {"wuhan", "nanjing", "shanghai"}),
    ]
    assert found["by_day"] == [
        {"day": "2026-03-01", "posters": 4},
        {"day": "2026-03-02", "posters": 0},
        {"day": "2026-03-03", "posters": 2},
        {"day": "2026-03-04", "posters": 1},
    ]
    hours = {0: 2, 1: 1, 9: 1, 10: 1, 11: 1, 20: 1}  # ann and gus at 00, di at 01:59, …
    assert found["by_hour"] == [hours.get(hour, 0) for hour in range(24)]
    assert found["timezone"] == "Asia/Shanghai"
    made = dt.datetime.fromisoformat(found["generated_at"])
    assert made.utcoffset() == dt.timedelta(hours=8)
    assert list(found) == [
        "posters", "share_views", "scans", "referral_posters", "k_factor", "generations",
        "service_clicks", "click_through", "funnel", "clicks_by_choice", "clicks_by_category",
        "clicks_by_offer", "clicks_by_generation", "top_choices", "top_pairs", "by_category",
        "by_city",
        "by_choice_city", "by_day", "by_hour",
        "timezone", "generated_at", "experiments",
    ]  # fmt: skip


def test_days_and_hours_follow_the_timezone_asked_for(campaign, default_version):
    found = stats.figures(campaign, default_version.catalog, timezone="UTC")
    assert found["by_day"] == [
        {"day": "2026-02-28", "posters": 1},
        {"day": "2026-03-01", "posters": 3},
        {"day": "2026-03-02", "posters": 1},
        {"day": "2026-03-03", "posters": 2},
    ]
    hours = {1: 1, 2: 1, 3: 1, 12: 1, 16: 2, 17: 1}
    assert found["by_hour"] == [hours.get(hour, 0) for hour in range(24)]
    # Half-hour zones land each poster in its own local hour: ann's 16:30 UTC is 22:00 in Kolkata.
    kolkata = stats.figures(campaign, default_version.catalog, timezone="Asia/Kolkata")
    assert kolkata["by_hour"][22] == 1 and sum(kolkata["by_hour"]) == 7


def test_top_limits_the_choices_and_pairs(campaign, default_version):
    found = stats.figures(campaign, default_version.catalog, top=2)
    assert [c["id"] for c in found["top_choices"]] == ["travel-fund", "wuhan-hot-dry-noodles"]
    assert [p["count"] for p in found["top_pairs"]] == [3, 2]


def test_an_empty_campaign_has_zeros_not_errors(store, default_version):
    found = stats.figures(store, default_version.catalog)
    assert {key: found[key] for key in stats.SCALARS} == {
        "posters": 0, "share_views": 0, "scans": 0, "referral_posters": 0,
        "k_factor": 0.0, "generations": 0, "service_clicks": 0, "click_through": 0.0,
    }  # fmt: skip
    assert found["top_choices"] == found["top_pairs"] == found["by_day"] == []
    assert found["clicks_by_choice"] == found["clicks_by_generation"] == []
    assert [f["count"] for f in found["funnel"]] == [0, 0, 0, 0]
    assert found["by_hour"] == [0] * 24
    assert {c["count"] for c in found["by_category"]} == {0}


def test_posters_without_referrals_are_one_generation(store, default_version):
    add(store, default_version.version, "ann", None, utc(3, 1, 1), ["travel-fund"])
    add(store, default_version.version, "bo", None, utc(3, 1, 2), ["travel-fund"])
    found = stats.figures(store, default_version.catalog)
    assert (found["generations"], found["referral_posters"], found["k_factor"]) == (1, 0, 0.0)


def test_concurrent_scans_are_all_counted(store, default_version):
    add(store, default_version.version, "ann", None, utc(3, 1, 1), ["travel-fund"])
    start = threading.Barrier(8)

    def scan_fifty_times():
        start.wait()
        for _ in range(50):
            store.record("scan", "ann")

    threads = [threading.Thread(target=scan_fifty_times) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert stats.figures(store, default_version.catalog)["scans"] == 400


# CSV and text -----------------------------------------------------------------------------


def sections(text: str) -> dict[str, list[list[str]]]:
    """Parse the CSV back into its sections, keyed by the first column's header."""
    assert text.startswith("\ufeff")  # so that Excel reads UTF-8
    found: dict[str, list[list[str]]] = {}
    current = None
    for row in csv.reader(io.StringIO(text.removeprefix("\ufeff"))):
        if not row:
            current = None
        elif current is None:
            current = found.setdefault(row[0], [row])
        else:
            current.append(row)
    return found


def test_the_csv_has_every_figure_in_sections(campaign, default_version):
    found = sections(stats.to_csv(stats.figures(campaign, default_version.catalog)))
    assert found["figure"][:7] == [
        ["figure", "value"], ["posters", "7"], ["share_views", "7"], ["scans", "4"],
        ["referral_posters", "5"], ["k_factor", "0.714"], ["generations", "4"],
    ]  # fmt: skip
    assert found["choice_id"][:2] == [
        ["choice_id", "choice", "picks"],
        ["travel-fund", "存一笔旅游资金", "4"],
    ]
    assert found["choice_id_1"][1] == [
        "travel-fund", "wuhan-hot-dry-noodles", "存一笔旅游资金", "过早来碗热干面", "3",
    ]  # fmt: skip
    assert found["category_id"][1] == ["food", "城市美食", "5"]
    assert found["city_id"][:2] == [["city_id", "city", "posters"], ["unknown", "没选城市", "3"]]
    assert found["choice_city_id"][1] == ["nationwide", "全国", "7"]
    assert found["day"][1:] == [
        ["2026-03-01", "4"], ["2026-03-02", "0"], ["2026-03-03", "2"], ["2026-03-04", "1"],
    ]  # fmt: skip
    assert len(found["hour"]) == 1 + 24 and found["hour"][1] == ["0", "2"]


def test_csv_cells_never_start_a_formula(store, default_version):
    # Staff write the labels: one of them pastes a formula.
    data = default_version.catalog.model_dump()
    labels = {
        "travel-fund": '=HYPERLINK("https://evil.example","点我")',
        "family-portrait": "+1+1",
        "wuhan-hot-dry-noodles": "-2+3",
        "nanjing-big-buns": "@SUM(A1:A9)",
    }
    data["choices"] = [{**c, "label": labels.get(c["id"], c["label"])} for c in data["choices"]]
    catalog = Catalog.model_validate(data)
    add(store, default_version.version, "ann", None, utc(3, 1, 1), list(labels))
    found = stats.figures(store, catalog)
    # Tabs and carriage returns cannot be in a label, but the CSV is safe against them too.
    found["top_pairs"][0]["labels"] = ["\tcmd", "\rcmd"]

    choices = sections(stats.to_csv(found))["choice_id"]
    assert sorted(row[1] for row in choices[1:]) == sorted("'" + label for label in labels.values())
    assert sections(stats.to_csv(found))["choice_id_1"][1][2:4] == ["'\tcmd", "'\rcmd"]


def test_the_text_summary_reads_like_a_report(campaign, default_version):
    text = stats.to_text(stats.figures(campaign, default_version.catalog))
    assert text.startswith("活动数据（")
    # Labels padded to the widest (朋友带来的海报: 14 columns), figures right-aligned in 8.
    assert "  做出的海报      " + "       7\n" in text
    assert "  传播系数 K      " + "   0.714\n" in text
    assert "  最长传播链      " + "    4 代\n" in text
    assert "\n最多人选的选项\n" in text and "\n传播漏斗\n" in text
    # Chinese labels take two columns: the counts still line up.
    assert "  存一笔旅游资金          4  " + "█" * 30 + "\n" in text
    assert "  retired-choice          1  " + "█" * 8 + "\n" in text
    assert "  2026-03-02        0\n" in text


# Charts -----------------------------------------------------------------------------------


def parse(svg: str) -> ET.Element:
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG}svg" and root.get("role") == "img"
    return root


def bars(root: ET.Element) -> list[ET.Element]:
    return [rect for rect in root.iter(f"{SVG}rect") if rect.get("class") == "bar"]


def texts(root: ET.Element) -> list[str]:
    return [t.text for t in root.iter(f"{SVG}text")]


@pytest.mark.parametrize("draw", [charts.bar_chart, charts.column_chart])
def test_a_chart_has_one_bar_per_item_and_escapes_labels(draw):
    items = [("<script>alert(1)</script>", 5), ("热干面 & 豆皮", 3), ('"quoted"', 0)]
    svg = draw(items, "最常被选 <b>")
    root = parse(svg)
    assert "<script" not in svg and root.find(f".//{SVG}script") is None
    assert root.get("aria-label") == root.find(f"{SVG}title").text == "最常被选 <b>"
    assert len(bars(root)) == 3
    assert "热干面 & 豆皮" in texts(root)
    assert [t.text for t in root.iter(f"{SVG}title")][1:] == [
        "<script>alert(1)</script>：5", "热干面 & 豆皮：3", '"quoted"：0',
    ]  # fmt: skip


def test_bars_are_as_long_as_their_values():
    root = parse(charts.bar_chart([("a", 10), ("b", 5), ("c", 0)], "t"))
    widths = [float(rect.get("width")) for rect in bars(root)]
    assert widths[0] == pytest.approx(2 * widths[1]) and widths[2] == 0


@pytest.mark.parametrize(
    ("draw", "length"), [(charts.bar_chart, "width"), (charts.column_chart, "height")]
)
def test_empty_and_zero_charts_draw_without_dividing_by_zero(draw, length):
    assert "暂无数据" in texts(parse(draw([], "空")))
    root = parse(draw([("a", 0), ("b", 0)], "全是零"))
    assert [float(rect.get(length)) for rect in bars(root)] == [0, 0]


def test_columns_label_every_hour_but_only_some_of_many_days():
    hours = parse(charts.column_chart([(f"{h:02d}", 1) for h in range(24)], "每小时"))
    assert len(bars(hours)) == 24
    assert [t for t in texts(hours) if len(t) == 2] == [f"{h:02d}" for h in range(24)]
    days = parse(charts.column_chart([(f"03-{d:02d}", d) for d in range(1, 61)], "每天"))
    shown = [t for t in texts(days) if t.startswith("03-")]
    assert len(bars(days)) == 60
    assert shown == [f"03-{d:02d}" for d in range(1, 61, 5)]  # every fifth day, from the first
    assert "最高 60" in texts(days)  # too narrow to number each column: the scale instead


def test_campaign_charts_draw_every_figure(campaign, default_version):
    drawn = charts.campaign_charts(stats.figures(campaign, default_version.catalog))
    assert list(drawn) == [
        "funnel",
        "clicks_by_choice",
        "top_choices",
        "top_pairs",
        "by_category",
        "by_city",
        "by_choice_city",
        "by_day",
        "by_hour",
    ]
    assert len(bars(parse(drawn["top_choices"]))) == 6
    assert len(bars(parse(drawn["by_day"]))) == 4
    assert len(bars(parse(drawn["by_hour"]))) == 24
    assert len(bars(parse(drawn["funnel"]))) == 4  # share views, scans, new posters, clicks


# History is not rewritten, people's cities, scans ---------------------------------------


def without_buns(default_version):
    """The catalog published later: 金陵大肉包 removed, the travel fund moved to 爸妈家人."""
    from posterapp import versions

    data = default_version.catalog.model_dump()
    data["choices"] = [
        {**c, "category": "family"} if c["id"] == "travel-fund" else c
        for c in data["choices"]
        if c["id"] != "nanjing-big-buns"
    ]
    catalog = Catalog.model_validate(data)
    return versions.build(catalog, default_version.layouts, default_version.assets,
                          default_version.themes)  # fmt: skip


def test_removing_a_choice_does_not_rewrite_the_numbers(campaign, default_version):
    later = without_buns(default_version)
    campaign.save_version(default_version)
    campaign.save_version(later)
    add(campaign, later.version, "hal", None, utc(3, 4, 1), ["travel-fund"])
    found = stats.figures(campaign, later.catalog)

    assert {"id": "nanjing-big-buns", "label": "买一袋金陵大肉包", "count": 1} in found[
        "top_choices"
    ]
    assert ["买一袋金陵大肉包", "过早来碗热干面"] in [p["labels"] for p in found["top_pairs"]]
    categories = {c["id"]: c["count"] for c in found["by_category"]}
    # The old posters' travel funds stay money; only hal's, made after the move, is family.
    assert categories["food"] == 5 and categories["money"] == 4 and categories["family"] == 4
    assert categories.get("other", 0) == 1  # retired-choice is in no version at all
    regions = {c["id"]: c["count"] for c in found["by_choice_city"]}
    assert regions["nanjing"] == 1
    csv_rows = sections(stats.to_csv(found))["choice_id"]
    assert ["nanjing-big-buns", "买一袋金陵大肉包", "1"] in csv_rows
    assert "买一袋金陵大肉包" in stats.to_text(found)


def test_a_database_from_before_cities_gets_the_column(tmp_path, default_version):
    from posterapp.store import Store

    store = Store(f"sqlite:///{tmp_path / 'old.db'}")
    store.create_schema()
    with store.engine.begin() as db:  # a database of the last release, before migrations
        db.exec_driver_sql("ALTER TABLE posters DROP COLUMN city")
        db.exec_driver_sql("ALTER TABLE uploads DROP COLUMN name")
        db.exec_driver_sql("DROP TABLE alembic_version")
    store.create_schema()  # the next start
    store.create_schema()  # and the one after: nothing to add
    add(store, default_version.version, "ann", None, utc(3, 1, 1), ["travel-fund"])
    assert stats.figures(store, default_version.catalog)["by_city"][0] == {
        "id": "wuhan", "label": "武汉", "count": 1,
    }  # fmt: skip
    store.close()


def test_the_figures_on_postgresql(database, default_version):
    from posterapp.store import Store

    store = Store(database)
    store.create_schema()
    with store.engine.begin() as db:  # from before cities and migrations
        db.exec_driver_sql("ALTER TABLE posters DROP COLUMN city")
        db.exec_driver_sql("DROP TABLE alembic_version")
    store.create_schema()
    later = without_buns(default_version)
    store.save_version(default_version)
    store.save_version(later)
    for poster in CAMPAIGN:
        add(store, default_version.version, *poster)
    found = stats.figures(store, later.catalog)
    assert found["by_city"][:2] == [
        {"id": "unknown", "label": "没选城市", "count": 3},
        {"id": "wuhan", "label": "武汉", "count": 2},
    ]
    assert {"id": "nanjing-big-buns", "label": "买一袋金陵大肉包", "count": 1} in found[
        "top_choices"
    ]
    assert found["top_pairs"][0]["count"] == 3
    store.close()


def test_the_picker_and_the_api_record_the_city(client, studio):
    made = client.post("/api/posters", json={"choices": ["travel-fund"], "city": "wuhan"})
    assert made.status_code == 201
    assert studio.store.get_poster(made.get_json()["id"]).city == "wuhan"
    form = client.post("/", data={"choices": ["travel-fund"], "city": "nanjing"})
    assert form.status_code == 303
    poster_id = form.headers["Location"].split("/s/")[1].split("?")[0]
    assert studio.store.get_poster(poster_id).city == "nanjing"
    nowhere = client.post("/api/posters", json={"choices": ["travel-fund"]}).get_json()
    assert studio.store.get_poster(nowhere["id"]).city is None

    wrong = client.post("/api/posters", json={"choices": ["travel-fund"], "city": "atlantis"})
    assert wrong.status_code == 422
    error = wrong.get_json()["error"]
    assert error["field"] == "city" and error["message"] == "没有这个城市，请在列表里重新选一个吧"


def test_a_scan_and_the_page_it_opens_count_once_as_a_scan(client, studio):
    made = client.post("/api/posters", json={"choices": ["travel-fund"]}).get_json()
    before = stats.figures(studio.store, studio.active.catalog)

    scanned = client.get(f"/Q/{made['id']}", follow_redirects=True)
    assert scanned.status_code == 200 and scanned.request.path == f"/s/{made['id']}"
    after_scan = stats.figures(studio.store, studio.active.catalog)
    assert after_scan["scans"] == before["scans"] + 1
    assert after_scan["share_views"] == before["share_views"]
    assert studio.store.event_counts(made["id"])["share_view"] == 0

    client.get(f"/s/{made['id']}")  # someone opens the shared link: a view
    viewed = stats.figures(studio.store, studio.active.catalog)
    assert viewed["share_views"] == before["share_views"] + 1
    assert viewed["scans"] == before["scans"] + 1


def test_service_clicks_make_the_funnel_and_keep_their_generation(campaign, default_version):
    """聚变: taps through to services, by choice, category and referral generation."""
    for poster_id, choice, times in (("ann", "travel-fund", 2), ("bo", "wuhan-hot-dry-noodles", 1)):
        for _ in range(times):
            campaign.record_click(poster_id, choice)
    found = stats.figures(campaign, default_version.catalog)
    assert found["service_clicks"] == 3
    assert found["click_through"] == round(3 / found["share_views"], 3)
    assert found["funnel"] == [
        {"step": "share_views", "label": "看到分享页", "count": found["share_views"]},
        {"step": "scans", "label": "扫码", "count": found["scans"]},
        {"step": "referral_posters", "label": "做了自己的海报", "count": found["referral_posters"]},
        {"step": "service_clicks", "label": "点进服务", "count": 3},
    ]
    assert found["clicks_by_choice"] == [
        {"id": "travel-fund", "label": "存一笔旅游资金", "count": 2},
        {"id": "wuhan-hot-dry-noodles", "label": "过早来碗热干面", "count": 1},
    ]
    by_category = {c["id"]: c["count"] for c in found["clicks_by_category"]}
    assert (by_category["money"], by_category["food"], sum(by_category.values())) == (2, 1, 3)
    assert found["clicks_by_generation"] == [
        {"generation": 1, "count": 2},  # ann started a chain
        {"generation": 2, "count": 1},  # bo came through ann's poster
    ]
    sheet = sections(stats.to_csv(found))
    assert sheet["step"][-1] == ["service_clicks", "点进服务", "3"]
    assert sheet["generation"][1:] == [["1", "2"], ["2", "1"]]
