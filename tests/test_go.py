"""Tracked links from a poster to its services: counted, redirected with campaign parameters,
and never an open redirect. Through a real gunicorn, as a phone would follow them."""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
from urllib.parse import parse_qs, urlsplit

import pytest

from posterapp.web.go import with_campaign

PICKS = ["wuhan-hot-dry-noodles", "travel-fund", "parents-pension-insurance"]


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


OPENER = urllib.request.build_opener(NoRedirect)


def get(url: str):
    try:
        with OPENER.open(url, timeout=20) as response:
            return response.status, response.headers
    except urllib.error.HTTPError as error:
        return error.code, error.headers


@pytest.fixture(scope="module")
def made(live_server):
    request = urllib.request.Request(
        f"{live_server.url}/api/posters",
        data=json.dumps({"choices": PICKS, "name": "小满"}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=20) as response:
        return json.load(response)["id"]


def test_a_tracked_link_counts_the_tap_and_opens_the_service(live_server, made):
    store = live_server.store()
    try:
        before = store.click_counts(made)
        status, headers = get(f"{live_server.url}/go/{made}/travel-fund")
        assert status == 302
        target = urlsplit(headers["Location"])
        assert (target.scheme, target.netloc, target.path) == (
            "https",
            "life.example.com",
            "/money/travel-fund",
        )
        assert parse_qs(target.query) == {
            "utm_source": ["posterapp"],
            "utm_campaign": ["good-life-2020"],
            "utm_content": ["travel-fund"],
        }
        assert store.click_counts(made) == {
            **before,
            "travel-fund": before.get("travel-fund", 0) + 1,
        }
    finally:
        store.close()


@pytest.mark.parametrize(
    "path",
    [
        "/go/{id}/shanghai-xiaolongbao",  # a real choice, but not on this poster
        "/go/{id}/no-such-choice",
        "/go/AAAAAAAAAAAA/travel-fund",  # no such poster
        "/go/{id}/https:%2F%2Fevil.example",
        "/go/{id}/",
    ],
)
def test_a_forged_link_is_a_404_and_counts_nothing(live_server, made, path):
    store = live_server.store()
    try:
        before = store.click_counts()
        status, headers = get(live_server.url + path.format(id=made))
        assert status == 404
        assert "Location" not in headers
        assert store.click_counts() == before
    finally:
        store.close()


def test_campaign_parameters_replace_stale_ones_and_keep_the_rest():
    link = "https://life.example.com/food/x?city=wuhan&utm_source=old"
    query = parse_qs(urlsplit(with_campaign(link, "good-life-2020", "x")).query)
    assert query == {
        "city": ["wuhan"],
        "utm_source": ["posterapp"],
        "utm_campaign": ["good-life-2020"],
        "utm_content": ["x"],
    }


def test_purge_deletes_old_events_and_clicks_but_keeps_posters(tmp_path, runner):
    import datetime as dt

    from posterapp.cli import main
    from posterapp.store import Store, events, service_clicks

    url = f"sqlite:///{tmp_path / 'posterapp.db'}"
    store = Store(url)
    store.create_schema()
    old = dt.datetime(2025, 12, 31, 15, 59, tzinfo=dt.UTC)  # 2025-12-31 23:59 in Shanghai
    new = dt.datetime(2025, 12, 31, 16, 1, tzinfo=dt.UTC)  # 2026-01-01 00:01 in Shanghai
    with store.engine.begin() as db:
        for moment in (old, new):
            db.execute(events.insert().values(kind="scan", poster_id="X", created_at=moment))
            db.execute(
                service_clicks.insert().values(poster_id="X", choice_id="c", created_at=moment)
            )
    store.close()
    result = runner.invoke(
        main,
        ["--data-dir", str(tmp_path), "purge", "--before", "2026-01-01"],
        env={"POSTERAPP_DATABASE_URL": url},
    )
    assert result.exit_code == 0, result.output
    assert "事件 1 条，服务点击 1 条，登录记录 0 条，操作记录 0 条" in result.output
    store = Store(url)
    try:
        assert store.event_counts()["scan"] == 1
        assert store.click_counts() == {"c": 1}
    finally:
        store.close()


def test_the_share_page_offers_each_pick_as_a_tracked_link(live_server, made):
    with urllib.request.urlopen(f"{live_server.url}/s/{made}", timeout=20) as response:
        page = response.read().decode()
    links = re.findall(r'<a class="service" href="([^"]+)"', page)
    assert links == [f"/go/{made}/{choice}" for choice in PICKS]
    assert "TA 挑的美好小事，你也去看看" in page and page.count("去看看 <span") == len(PICKS)
    # Every link is one the tracker accepts.
    assert {get(live_server.url + link)[0] for link in links} == {302}


@pytest.mark.parametrize(
    ("link", "words"),
    [
        ("http://life.example.com/food/x", "链接要用 https:// 开头"),
        ("https://evil.example/food/x", "链接去的「evil.example」不在 campaign.link_domains 里"),
        ("https://life.example.com.evil.example/x", "不在 campaign.link_domains 里"),
    ],
)
def test_the_validator_refuses_off_list_and_http_links(catalog_problems, catalog_text, link, words):
    old = "    link: https://life.example.com/food/wuhan-hot-dry-noodles\n"
    assert old in catalog_text
    problems = catalog_problems(catalog_text.replace(old, f"    link: {link}\n", 1))
    assert [p.path for p in problems] == ["choices[0].link"]
    assert words in problems[0].message


def test_a_subdomain_of_a_listed_domain_is_fine(catalog_problems, catalog_text):
    old = "https://life.example.com/food/wuhan-hot-dry-noodles"
    text = catalog_text.replace(old, "https://m.life.example.com/food/x", 1)
    assert catalog_problems(text) == []


def test_the_maker_sees_offers_for_their_picks_and_a_tap_is_counted(live_server, made):
    with urllib.request.urlopen(f"{live_server.url}/s/{made}?new=1", timeout=20) as response:
        page = response.read().decode()
    offers = re.findall(r'<a class="service" href="(/go/[^"]+/offer/[^"]+)"', page)
    # PICKS are food, money and family: their offers, in the catalog's order.
    assert offers == [
        f"/go/{made}/offer/food-breakfast-deals",
        f"/go/{made}/offer/food-night-market",
        f"/go/{made}/offer/family-checkup",
        f"/go/{made}/offer/money-travel-plan",
    ]
    assert "为你挑选的优惠" in page
    store = live_server.store()
    try:
        before = store.click_counts()
        status, headers = get(live_server.url + offers[0])
        assert status == 302
        target = urlsplit(headers["Location"])
        assert target.path == "/offers/breakfast"
        assert parse_qs(target.query)["utm_content"] == ["offer:food-breakfast-deals"]
        # An offer of a category this poster has no pick in is not this poster's to give.
        assert get(f"{live_server.url}/go/{made}/offer/health-gym")[0] == 404
        after = store.click_counts()
        assert after == {
            **before,
            "offer:food-breakfast-deals": 1 + before.get("offer:food-breakfast-deals", 0),
        }
    finally:
        store.close()
    # A friend's view of the page has the picks' services, not the maker's offers.
    with urllib.request.urlopen(f"{live_server.url}/s/{made}", timeout=20) as response:
        assert "为你挑选的优惠" not in response.read().decode()
