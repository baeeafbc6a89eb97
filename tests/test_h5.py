"""The picker and share page as a campaign H5: steps, keyboard, errors, 429, Back, axe, speed."""

from __future__ import annotations

import base64
import gzip
import io
import json
import re
import urllib.request
from pathlib import Path

import pytest
import sqlalchemy as sa
import zxingcpp
from PIL import Image

from posterapp import store
from posterapp.selection import MAX_NAME_CODEPOINTS

from .servers import gunicorn

PHONE = {"width": 390, "height": 844}
AXE = Path(__file__).resolve().parent / "vendor" / "axe-core" / "axe.min.js"
LOCAL = ["过早来碗热干面", "存一笔旅游资金", "给爸妈买份养老保险"]


def phone_context(browser, **extra):
    # bypass_csp: Playwright's own helpers (and axe) evaluate scripts the pages' CSP forbids.
    return browser.new_context(
        viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True,
        locale="zh-CN", bypass_csp=True, **extra,
    )  # fmt: skip


@pytest.fixture
def phone(browser):
    context = phone_context(browser)
    page = context.new_page()
    yield page
    context.close()


def bar_top(page) -> float:
    return page.locator(".bar").bounding_box()["y"]


# ---- HTTP: what the pages are made of ----------------------------------------------------


def test_pages_and_static_files_travel_compressed_and_cached(client):
    plain = client.get("/")
    squeezed = client.get("/", headers={"Accept-Encoding": "gzip, deflate, br"})
    assert squeezed.headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in squeezed.headers["Vary"]
    unpacked = gzip.decompress(squeezed.data)  # the same page but for its CSP nonce
    assert unpacked.startswith(b"<!doctype html>") and len(unpacked) == len(plain.data)
    assert len(squeezed.data) < len(plain.data) / 3
    html = plain.get_data(as_text=True)
    for name in re.findall(r'(?:href|src)="(/static/[^"]+)"', html):
        assert re.fullmatch(r"/static/[a-z]+\.[0-9a-f]{10}\.(css|js|ico)", name), name
        response = client.get(name, headers={"Accept-Encoding": "gzip"})
        assert response.status_code == 200
        assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
        etag = response.headers["ETag"]
        again = client.get(name, headers={"If-None-Match": etag, "Accept-Encoding": "gzip"})
        assert again.status_code == 304
    assert client.get("/static/app.css").headers["Cache-Control"] == "no-cache"
    favicon = client.get("/favicon.ico")
    assert favicon.status_code == 200 and favicon.mimetype == "image/vnd.microsoft.icon"
    assert "Content-Security-Policy" in favicon.headers


def test_cached_poster_images_answer_star_and_carry_the_security_headers(client, studio):
    made = client.post("/api/posters", json={"choices": ["travel-fund"]}).get_json()
    first = client.get(f"/p/{made['id']}.png")  # rendered already: sent before Flask
    assert first.status_code == 200
    for header in ("Content-Security-Policy", "X-Frame-Options", "Referrer-Policy"):
        assert header in first.headers, header
    assert first.headers["X-Content-Type-Options"] == "nosniff"
    assert client.get(f"/p/{made['id']}.png", headers={"If-None-Match": "*"}).status_code == 304
    light = client.get(f"/p/{made['id']}.webp")
    assert light.status_code == 200 and light.mimetype == "image/webp"
    assert light.headers["Cache-Control"].endswith("immutable")
    small = Image.open(io.BytesIO(light.data))
    assert small.size == (540, 960)
    # Light, yet its QR code still scans.
    assert [r.text for r in zxingcpp.read_barcodes(small)] == [studio.scan_url(made["id"])]
    assert len(light.data) < len(first.data) / 4
    assert client.get(f"/p/{made['id']}.webp", headers={"If-None-Match": "*"}).status_code == 304


def test_the_preview_checks_like_the_real_thing_and_stores_nothing(client, studio):
    version = studio.active.version
    before = stored_posters(studio)
    good = client.get(
        f"/preview.jpg?v={version}&choices=travel-fund,wuhan-hot-dry-noodles&name=小满"
    )
    assert good.status_code == 200 and good.mimetype == "image/jpeg"
    assert Image.open(io.BytesIO(good.data)).size == (270, 480)
    assert good.headers["Cache-Control"] == "public, max-age=86400"
    assert "no-cache" in client.get("/preview.jpg?choices=travel-fund").headers["Cache-Control"]
    refused = client.get("/preview.jpg?choices=travel-fund&name=官方")
    assert refused.status_code == 422 and refused.headers["Cache-Control"] == "no-store"
    assert refused.get_json()["error"]["field"] == "name"
    assert "官方" in refused.get_json()["error"]["message"]
    assert client.get("/preview.jpg?choices=no-such-thing").get_json()["error"]["field"] == (
        "choices"
    )
    assert client.get("/preview.jpg?choices=travel-fund&layout=grid").status_code == 422
    assert client.get("/preview.jpg?name=" + "x" * 3000).status_code == 400
    assert stored_posters(studio) == before


def stored_posters(studio) -> int:
    with studio.store.engine.connect() as db:
        return db.execute(sa.select(sa.func.count()).select_from(store.posters)).scalar_one()


def test_an_error_page_offers_only_the_layouts_that_take_the_picks(client, studio):
    """Without the script nothing greys them out: the server does, for the picks it sends back."""
    picks = [c.id for c in studio.active.catalog.choices][:5]
    html = client.post("/", data={"choices": picks, "name": "官方"}).get_data(as_text=True)
    radios = dict(re.findall(r'<input type="radio" name="layout" value="(\w*)"([^>]*)>', html))
    layouts = studio.active.layouts
    assert set(radios) == {"", *layouts}
    for layout_id, attributes in radios.items():
        fits = not layout_id or layouts[layout_id].min_picks <= 5 <= layouts[layout_id].max_picks
        assert ("disabled" in attributes) == (not fits), layout_id
    assert "disabled" in radios["hero"] and "disabled" not in radios["list"]


def test_layout_thumbnails_are_small_immutable_pictures(client, studio):
    html = client.get("/").get_data(as_text=True)
    thumbs = re.findall(r'src="(/layouts/[0-9a-f]+/[a-z]+\.jpg)"', html)
    assert len(thumbs) == len(studio.active.layouts)
    response = client.get(thumbs[0])
    assert response.status_code == 200 and response.mimetype == "image/jpeg"
    assert response.headers["Cache-Control"].endswith("immutable")
    assert Image.open(io.BytesIO(response.data)).size == (180, 320)
    assert client.get(thumbs[0].replace(".jpg", "x.jpg")).status_code == 404


def test_the_share_page_puts_first_what_each_visitor_came_for(client):
    made = client.post("/api/posters", json={"choices": ["travel-fund"], "name": "阿May"})
    poster_id = made.get_json()["id"]
    friend = client.get(f"/s/{poster_id}").get_data(as_text=True)
    assert friend.index('id="make-own"') < friend.index('<img class="poster"')
    maker = client.get(f"/s/{poster_id}?new=1").get_data(as_text=True)
    assert maker.index('id="download"') < maker.index('<img class="poster"')
    assert maker.index('<img class="poster"') < maker.index('id="make-own"')
    light = client.get(f"/p/{poster_id}.webp").data
    inline = "data:image/webp;base64," + base64.b64encode(light).decode()
    for html in (friend, maker):  # the PNG stays the src (long-press saves it); WebP paints first
        assert f'<img class="poster" src="/p/{poster_id}.png"' in html
        # The light picture comes inside the page: no round trip of its own before it paints.
        assert f'.poster-frame {{ background-image: url("{inline}"); }}' in html
        assert "<script src=" not in html  # nor for the script


# ---- in the browser ----------------------------------------------------------------------


def test_the_journey_at_phone_size(phone, live_server):
    page = phone
    page.goto(live_server.url + "/?city=wuhan")
    tiles = page.locator("#group-local .choice")
    box = tiles.first.bounding_box()
    assert 100 <= box["width"] <= 125  # three tiles a row at 390 px
    assert (page.viewport_size["height"] - bar_top(page)) / page.viewport_size["height"] <= 0.15
    for label in LOCAL:
        page.get_by_label(label).first.tap()
    assert page.locator("#count").inner_text() == "3"
    assert page.locator(".choice.is-checked").count() == 3
    # The tabs jump to their sections.
    page.locator('.tab[href="#group-family"]').tap()
    page.wait_for_timeout(300)
    assert abs(page.locator("#group-family").bounding_box()["y"] - 58) < 30
    page.locator("#next").tap()
    page.locator("#step-2").wait_for(state="visible")
    assert page.url.endswith("#step-2") and not page.locator("#step-1").is_visible()
    # The preview shows what the poster will be.
    page.wait_for_function("document.getElementById('preview').naturalWidth === 270")
    # Twelve characters with emoji are twelve, counted like the server counts them.
    name = "小满👨‍👩‍👧🌸小满小满小满小满"
    page.fill("#name", name)
    assert page.locator("#name-count").inner_text() == "12"
    assert page.input_value("#name") == name  # nothing cut
    page.fill("#name", "小满小满小满小满小满小满小")
    assert page.locator("#name-count").inner_text() == "13"
    assert "最多 12 个字" in page.locator("#name-error").inner_text()
    assert page.locator("#name").get_attribute("aria-invalid") == "true"
    page.fill("#name", "小满")
    assert page.locator("#name-error").is_hidden()
    page.locator('input[name="layout"][value="list"]').check()
    page.locator("#make").tap()
    page.wait_for_url("**/s/*?new=1")
    assert page.locator("#download").bounding_box()["y"] < PHONE["height"] / 2
    share = page.url.split("?")[0]
    page.goto(share)  # as a friend would land after the scan's redirect
    make_own = page.locator("#make-own").bounding_box()
    assert make_own["y"] + make_own["height"] <= PHONE["height"] / 2


def test_a_server_error_comes_back_beside_its_field_with_the_focus(phone, live_server):
    page = phone
    page.goto(live_server.url + "/")
    page.get_by_label("存一笔旅游资金").check()
    page.select_option("#city", "wuhan")
    page.locator("#next").click()
    page.fill("#name", "官方小满")
    page.locator("#make").click()  # before the preview's check has answered, or after it
    error = page.locator("#name-error")
    error.wait_for(state="visible")
    assert "官方" in error.inner_text()
    page.wait_for_function("document.activeElement && document.activeElement.id === 'name'")
    assert "name-error" in page.locator("#name").get_attribute("aria-describedby")
    assert page.locator("#count").inner_text() == "1"
    assert page.input_value("#city") == "wuhan"
    assert page.url.split("#")[0] == live_server.url + "/"


def test_without_script_the_error_is_beside_the_field_and_focused(browser, live_server):
    context = browser.new_context(viewport=PHONE, java_script_enabled=False)
    page = context.new_page()
    page.goto(live_server.url + "/")
    page.get_by_label("存一笔旅游资金").check()
    page.fill("#name", "官方")
    page.locator("#make").click()
    page.wait_for_load_state()
    assert page.locator("#name-error").is_visible()
    assert page.evaluate("document.activeElement.id") == "name"
    assert page.get_by_label("存一笔旅游资金").is_checked()
    context.close()


def test_without_script_the_share_page_shows_the_png_at_once(browser, live_server):
    context = browser.new_context(viewport=PHONE, java_script_enabled=False)
    page = context.new_page()
    page.goto(live_server.url + "/")
    page.get_by_label("存一笔旅游资金").check()
    page.locator("#make").click()
    page.wait_for_url("**/s/*")
    poster = page.locator("img.poster")
    poster.wait_for(state="visible")
    for _ in range(100):  # (scripts are off, so no wait_for_function)
        if poster.evaluate("img => img.complete && img.naturalWidth") == 1080:
            break
        page.wait_for_timeout(100)
    assert poster.evaluate("img => img.naturalWidth") == 1080
    context.close()


@pytest.fixture(scope="module")
def strict_server(tmp_path_factory):
    """A server that allows one poster every 4 seconds per address."""
    data = tmp_path_factory.mktemp("strict")
    with gunicorn(data, workers=1, env={"POSTERAPP_RATE_LIMIT_POSTERS": "1 per 4 seconds"}) as url:
        yield url


def test_a_busy_server_keeps_everything_and_retries(phone, strict_server):
    page = phone
    page.goto(strict_server + "/")
    page.get_by_label("存一笔旅游资金").check()
    page.get_by_label("给爸妈买份养老保险").check()
    page.locator("#next").click()
    page.fill("#name", "小满")
    # Someone at this address just made one: the limit is spent.
    request = urllib.request.Request(
        strict_server + "/api/posters", data=json.dumps({"choices": ["travel-fund"]}).encode(),
        headers={"Content-Type": "application/json"},
    )  # fmt: skip
    urllib.request.urlopen(request).close()
    page.locator("#make").click()
    page.wait_for_function("document.getElementById('hint').textContent.indexOf('秒后重试') !== -1")
    assert re.fullmatch(r"人有点多，\d 秒后重试", page.locator("#hint").inner_text())
    assert page.input_value("#name") == "小满" and page.locator("#count").inner_text() == "2"
    page.wait_for_url("**/s/*?new=1", timeout=15000)  # it tried again by itself
    assert "小满的美好生活清单" in page.locator("img.poster").get_attribute("alt")


def test_enter_and_space_toggle_a_choice_and_never_submit(phone, live_server):
    page = phone
    page.goto(live_server.url + "/")
    box = page.get_by_label("存一笔旅游资金")
    box.focus()
    page.keyboard.press("Enter")
    assert box.is_checked() and page.url.split("#")[0] == live_server.url + "/"
    page.keyboard.press("Enter")
    assert not box.is_checked()
    page.keyboard.press("Space")
    assert box.is_checked()
    assert page.locator("#count").inner_text() == "1"


def test_focus_is_never_under_a_bar_and_a_skip_link_leads_on(phone, live_server):
    page = phone
    page.goto(live_server.url + "/")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip-link"
    assert page.locator(".skip-link").is_visible()
    # Tab through the grid: every focused tile is clear of the tabs and the bottom bar.
    page.locator('input[name="choices"]').nth(6).focus()
    for _ in range(12):
        page.keyboard.press("Tab")
        tile = page.evaluate(
            "(() => { const r = document.activeElement.closest('.choice').getBoundingClientRect();"
            " return [r.top, r.bottom]; })()"
        )
        assert tile[0] >= page.locator(".tabs").bounding_box()["height"] - 1
        assert tile[1] <= bar_top(page) + 1
    page.get_by_label("存一笔旅游资金").check()
    page.locator(".skip-link").focus()
    page.keyboard.press("Enter")
    page.locator("#step-2").wait_for(state="visible")


def test_back_from_the_share_page_restores_everything(phone, live_server):
    page = phone
    page.goto(live_server.url + "/")
    page.select_option("#city", "nanjing")
    page.get_by_label("存一笔旅游资金").check()
    page.get_by_label("给爸妈买份养老保险").check()
    page.get_by_label("存一笔旅游资金").check()
    page.locator("#next").click()
    page.fill("#name", "小满")
    page.locator('input[name="layout"][value="hero"]').check()
    page.locator("#make").click()
    page.wait_for_url("**/s/*")

    def kept():
        assert page.input_value("#city") == "nanjing"
        assert page.locator("#group-local").is_visible() or page.locator("#step-2").is_visible()
        assert page.get_by_label("存一笔旅游资金").is_checked()
        assert page.get_by_label("给爸妈买份养老保险").is_checked()
        assert page.input_value("#name") == "小满"
        assert page.locator('input[name="layout"][value="hero"]').is_checked()

    page.go_back()  # back-forward cache or not, whichever the browser does
    page.wait_for_selector("#picker")
    kept()
    page.goto(live_server.url + "/")  # a fresh load in the same tab: no cache to lean on
    kept()


@pytest.mark.parametrize("where", ["picker", "step2", "maker", "friend", "404", "login"])
def test_axe_finds_nothing_serious(phone, live_server, where):
    page = phone
    url = live_server.url
    if where in {"picker", "step2", "maker", "friend"}:
        page.goto(url + "/?city=wuhan")
        if where != "picker":
            page.get_by_label("存一笔旅游资金").check()
            page.locator("#next").click()
        if where in {"maker", "friend"}:
            page.locator("#make").click()
            page.wait_for_url("**/s/*")
            if where == "friend":
                page.goto(page.url.split("?")[0])
    else:
        page.goto(url + ("/s/AAAAAAAAAAAA" if where == "404" else "/admin/login"))
    page.add_script_tag(path=str(AXE))
    violations = page.evaluate(
        "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
        ".map(v => ({id: v.id, impact: v.impact, nodes: v.nodes.map(n => n.target.join(' '))}))"
    )
    serious = [v for v in violations if v["impact"] in {"serious", "critical"}]
    assert serious == [], serious


def test_a_name_longer_than_the_server_reads_is_still_counted_not_cut(phone, live_server):
    page = phone
    page.goto(live_server.url + "/")
    page.get_by_label("存一笔旅游资金").check()
    page.locator("#next").click()
    long = "满" * (MAX_NAME_CODEPOINTS + 6)
    page.fill("#name", long)
    assert page.input_value("#name") == long
    assert page.locator("#name-count").inner_text() == str(len(long))
    page.locator("#make").click()  # refused in the page, focus on the field, nothing sent
    assert page.evaluate("document.activeElement.id") == "name"
    assert page.url.split("#")[0] == live_server.url + "/"


def test_search_finds_words_of_the_descriptions_too(phone, live_server):
    """Descriptions are not in the page (bytes); the first search fetches them."""
    page = phone
    page.goto(live_server.url + "/")
    page.fill("#search", "芝麻酱")  # only in 过早来碗热干面's description
    page.wait_for_function("document.querySelectorAll('.choice:not([hidden])').length === 1")
    assert "过早来碗热干面" in page.locator(".choice:not([hidden])").inner_text()
