"""A scripted campaign played over HTTP against a real server: every figure is exact.

Posters are made, scanned, reloaded and passed on five generations deep, some of it at the
same time; the expected figures are worked out from the script, then compared with what
``posterapp stats --json`` prints and with ``posterapp.stats.figures``.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import os
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from posterapp import stats
from posterapp.store import Store

from .servers import gunicorn

TIMEZONE = "Asia/Shanghai"


def get(url: str) -> tuple[int, str]:
    """GET a URL, following redirects; return the status and where it landed."""
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            response.read()
            return response.status, response.geturl()
    except urllib.error.HTTPError as error:
        error.close()
        return error.code, url


@dataclass
class Campaign:
    """Play the campaign over HTTP, keeping count of what each request should add."""

    base: str
    ids: dict[str, str] = field(default_factory=dict)  # maker → poster id
    makers: dict[str, tuple[str | None, list[str]]] = field(default_factory=dict)  # via, picks
    share_views: int = 0
    scans: int = 0
    clicks: list = field(default_factory=list)  # (maker, choice) of each tap through to a service
    cities: dict[str, str | None] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def make(
        self, name: str, picks: list[str], via: str | None = None, city: str | None = None
    ) -> None:
        """Make a poster; a friend first scans the QR code of the poster that brought them."""
        if via:
            self.scan(via)
        body = {"choices": picks, "name": name, "ref": self.ids[via] if via else None}
        if city:
            body["city"] = city  # where the maker said they are (the picker's 我在)
        request = urllib.request.Request(
            f"{self.base}/api/posters",
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            assert response.status == 201
            made = json.loads(response.read())
        # The maker lands on their own new poster: not a share view.
        assert get(f"{made['share_url']}?new=1")[0] == 200
        with self.lock:
            self.ids[name] = made["id"]
            self.makers[name] = (via, picks)
            self.cities[name] = city

    def scan(self, name: str) -> None:
        """Scan a poster's QR code: one scan (the share page it opens is part of it, no view)."""
        poster_id = self.ids[name]
        landed = f"{self.base}/s/{poster_id}?from=scan"  # the landing counts as the scan only
        assert get(f"{self.base}/q/{poster_id}") == (200, landed)
        with self.lock:
            self.scans += 1

    def tap(self, name: str, choice: str) -> None:
        """Tap "去看看" on a pick of a poster's share page: a service click, redirected away."""
        request = urllib.request.Request(f"{self.base}/go/{self.ids[name]}/{choice}")
        opener = urllib.request.build_opener(NoRedirect)
        try:
            opener.open(request, timeout=30)
            status = 200
        except urllib.error.HTTPError as error:
            status, location = error.code, error.headers.get("Location", "")
        assert status == 302 and location.startswith("https://life.example.com/"), status
        with self.lock:
            self.clicks.append((name, choice))

    def view(self, name: str) -> None:
        """Open (or reload) a poster's share page: a view, never a scan or a referral."""
        assert get(f"{self.base}/s/{self.ids[name]}")[0] == 200
        with self.lock:
            self.share_views += 1


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def play(campaign: Campaign) -> None:
    """The campaign's script."""
    c = campaign
    c.make("ann", ["wuhan-hot-dry-noodles", "travel-fund", "family-portrait"], city="wuhan")
    c.make("bo", ["wuhan-hot-dry-noodles", "travel-fund"], via="ann", city="wuhan")
    c.make("cy", ["wuhan-hot-dry-noodles", "nanjing-big-buns", "early-to-bed"], via="bo")
    c.make("di", ["travel-fund", "family-portrait", "learn-to-swim", "fifty-books"], via="cy")
    c.make("ed", ["shanghai-huaihai-road", "travel-fund"], via="di", city="shanghai")  # 5th
    c.make("fay", ["chengdu-chuanchuan", "live-concert"], via="ann")  # a second branch
    c.make("gus", ["chengdu-chuanchuan", "family-portrait", "open-a-cafe"], via="fay")
    c.make("hal", ["beijing-roast-duck", "game-console"])  # saw a poster somewhere else
    # Reloading a share page is another view, not a new scan or referral.
    for _ in range(3):
        c.view("ann")
    c.view("hal")
    # Friends who scan and leave without making a poster.
    c.scan("hal")
    c.scan("hal")
    # Friends tap through from the pages to the services behind the picks.
    c.tap("ann", "travel-fund")
    c.tap("ann", "travel-fund")
    c.tap("bo", "wuhan-hot-dry-noodles")
    c.tap("ed", "shanghai-huaihai-road")
    # Neither the poster image nor an unknown poster counts for anything.
    assert get(f"{c.base}/p/{c.ids['ann']}.png")[0] == 200
    assert get(f"{c.base}/q/AAAAAAAAAAAA")[0] == 404
    assert get(f"{c.base}/s/AAAAAAAAAAAA")[0] == 404
    # At the same moment: four friends of cy make theirs while others scan and reload gus's.
    friends = [
        ("ivy", ["wuhan-hot-dry-noodles", "learn-to-swim"]),
        ("jo", ["wuhan-hot-dry-noodles", "travel-fund", "early-to-bed"]),
        ("kai", ["xiamen-gulangyu"]),
        ("lu", ["travel-fund", "lipstick-for-mom", "family-portrait", "fifty-books"]),
    ]
    with ThreadPoolExecutor(max_workers=8) as pool:
        jobs = [pool.submit(c.make, name, picks, "cy") for name, picks in friends]
        jobs += [pool.submit(c.scan, "gus") for _ in range(10)]
        jobs += [pool.submit(c.view, "gus") for _ in range(10)]
        for job in jobs:
            job.result()


@dataclass(frozen=True)
class Played:
    campaign: Campaign
    data_dir: Path
    expected: dict


@pytest.fixture(scope="module")
def played(tmp_path_factory, default_version) -> Played:
    """A campaign played on a server of its own, with the figures its script implies."""
    data_dir = tmp_path_factory.mktemp("campaign")
    # Two workers creating a new SQLite file at once sometimes fail to switch it to WAL
    # ("database is locked"): create it first, as a deployment would.
    store = Store(f"sqlite:///{data_dir / 'posterapp.db'}")
    store.create_schema()
    store.close()
    with gunicorn(data_dir) as base:
        campaign = Campaign(base)
        play(campaign)
        created = {name: created_at(base, poster_id) for name, poster_id in campaign.ids.items()}
    return Played(campaign, data_dir, expected_figures(campaign, created, default_version.catalog))


def created_at(base: str, poster_id: str) -> dt.datetime:
    with urllib.request.urlopen(f"{base}/api/posters/{poster_id}", timeout=30) as response:
        when = dt.datetime.fromisoformat(json.loads(response.read())["created_at"])
    # SQLite gives times back without their offset; they are UTC.
    return when if when.tzinfo else when.replace(tzinfo=dt.UTC)


def expected_figures(campaign: Campaign, created: dict[str, dt.datetime], catalog) -> dict:
    """Work out every figure from what the script did."""
    makers = campaign.makers
    referred = sum(1 for via, _ in makers.values() if via)

    def generation(name: str) -> int:
        via = makers[name][0]
        return 1 + (generation(via) if via else 0)

    def ranked(counts) -> list:
        return sorted(counts.items(), key=lambda item: (-item[1], item[0]))

    picks = Counter(choice for _, chosen in makers.values() for choice in chosen)
    pairs = Counter(
        pair for _, chosen in makers.values() for pair in itertools.combinations(sorted(chosen), 2)
    )

    def tally(attribute: str, labels: dict[str, str]) -> list[dict]:
        counts = Counter(dict.fromkeys(labels, 0))
        for choice, n in picks.items():
            counts[getattr(catalog.choice(choice), attribute)] += n
        return [{"id": key, "label": labels[key], "count": n} for key, n in ranked(counts)]

    local = [when.astimezone(ZoneInfo(TIMEZONE)) for when in created.values()]
    days = Counter(when.date() for when in local)
    hours = Counter(when.hour for when in local)
    first, last = min(days), max(days)
    label = {choice.id: choice.label for choice in catalog.choices}
    cities = {r.id: r.label for r in catalog.regions} | {"unknown": "没选城市"}
    by_maker_city = Counter(dict.fromkeys(cities, 0))  # every city shown, even at 0
    by_maker_city.update(campaign.cities[name] or "unknown" for name in makers)
    clicked = Counter(choice for _, choice in campaign.clicks)
    clicked_category = Counter(dict.fromkeys((c.id for c in catalog.categories), 0))
    clicked_category.update(catalog.choice(choice).category for _, choice in campaign.clicks)
    clicked_generation = Counter(generation(name) for name, _ in campaign.clicks)
    categories = {c.id: c.label for c in catalog.categories}
    return {
        "posters": len(makers),
        "share_views": campaign.share_views,
        "scans": campaign.scans,
        "referral_posters": referred,
        "k_factor": round(referred / len(makers), 3),
        "generations": max(generation(name) for name in makers),
        "service_clicks": len(campaign.clicks),
        "click_through": round(len(campaign.clicks) / campaign.share_views, 3),
        "funnel": [
            {"step": "share_views", "label": "看到分享页", "count": campaign.share_views},
            {"step": "scans", "label": "扫码", "count": campaign.scans},
            {"step": "referral_posters", "label": "做了自己的海报", "count": referred},
            {"step": "service_clicks", "label": "点进服务", "count": len(campaign.clicks)},
        ],
        "clicks_by_choice": [
            {"id": choice, "label": label[choice], "count": n} for choice, n in ranked(clicked)
        ],
        "clicks_by_category": [
            {"id": key, "label": categories[key], "count": n} for key, n in ranked(clicked_category)
        ],
        "clicks_by_offer": [],  # the script taps picks only; offers are tested in test_go
        "clicks_by_generation": [
            {"generation": g, "count": n} for g, n in sorted(clicked_generation.items())
        ],
        "top_choices": [
            {"id": choice, "label": label[choice], "count": n} for choice, n in ranked(picks)[:10]
        ],
        "top_pairs": [
            {"ids": [a, b], "labels": [label[a], label[b]], "count": n}
            for (a, b), n in ranked(pairs)[:10]
        ],
        "by_category": tally("category", {c.id: c.label for c in catalog.categories}),
        "by_city": [
            {"id": key, "label": cities[key], "count": n} for key, n in ranked(by_maker_city)
        ],
        "by_choice_city": tally(
            "region", {"nationwide": "全国"} | {r.id: r.label for r in catalog.regions}
        ),
        "by_day": [
            {
                "day": (first + dt.timedelta(days=i)).isoformat(),
                "posters": days[first + dt.timedelta(days=i)],
            }
            for i in range((last - first).days + 1)
        ],
        "by_hour": [hours[hour] for hour in range(24)],
        "timezone": TIMEZONE,
        "experiments": [],  # none running in the shipped catalog
    }


def without_time(figures: dict) -> dict:
    """Drop generated_at (checked on its own: it is when the figures were made)."""
    made = dt.datetime.fromisoformat(figures.pop("generated_at"))
    assert made.utcoffset() == dt.timedelta(hours=8)
    return figures


def test_the_script_tells_the_story_it_means_to(played):
    expected = played.expected
    # 12 posters, all but ann and hal through a friend's; ann → bo → cy → di → ed.
    assert (expected["posters"], expected["referral_posters"]) == (12, 10)
    assert (expected["k_factor"], expected["generations"]) == (0.833, 5)
    # Every scan opened a share page, and pages were also reloaded or opened directly.
    assert expected["scans"] == 10 + 2 + 10
    # Reloads and direct visits are views; the page a scan opens is counted as the scan only.
    assert expected["share_views"] == 3 + 1 + 10
    assert expected["by_city"][:3] == [
        {"id": "unknown", "label": "没选城市", "count": 9},
        {"id": "wuhan", "label": "武汉", "count": 2},
        {"id": "shanghai", "label": "上海", "count": 1},
    ]
    assert expected["top_choices"][0] == {
        "id": "travel-fund",
        "label": "存一笔旅游资金",
        "count": 6,
    }


def test_the_figures_match_the_script(played):
    store = Store(f"sqlite:///{played.data_dir / 'posterapp.db'}")
    try:
        catalog = store.load_version(store.live().version).catalog
        found = stats.figures(store, catalog, timezone=TIMEZONE)
    finally:
        store.close()
    assert without_time(found) == played.expected


def posterapp(data_dir: Path, *args: str) -> str:
    """Run the installed ``posterapp`` command on the campaign's data; return what it printed."""
    command = Path(sys.executable).with_name("posterapp")
    environment = {**os.environ, "POSTERAPP_DATA_DIR": str(data_dir)}
    result = subprocess.run(
        [str(command), *args], env=environment, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_posterapp_stats_prints_the_figures(played):
    printed = json.loads(posterapp(played.data_dir, "stats", "--json"))
    assert without_time(printed) == played.expected
    summary = posterapp(played.data_dir, "stats")
    assert f"  做出的海报      {played.expected['posters']:>8,}\n" in summary
