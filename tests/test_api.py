"""The JSON API, the image links and the share page, through Flask's test client."""

from __future__ import annotations

import io
import re
import shutil

import pytest
import zxingcpp
from PIL import Image

from .conftest import PUBLIC_URL

PICKS = ["wuhan-hot-dry-noodles", "travel-fund", "parents-pension-insurance"]


def make(client, **body):
    body.setdefault("choices", PICKS)
    response = client.post("/api/posters", json=body)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def test_catalog_describes_the_active_catalog(client, studio):
    data = client.get("/api/catalog").get_json()
    assert data["campaign"]["version"] == studio.active.version
    assert (data["campaign"]["min_picks"], data["campaign"]["max_picks"]) == (1, 12)
    assert len(data["choices"]) == 105
    noodles = next(c for c in data["choices"] if c["id"] == "wuhan-hot-dry-noodles")
    assert noodles == {
        "id": "wuhan-hot-dry-noodles",
        "label": "过早来碗热干面",
        "category": "food",
        "region": "wuhan",
        "icon": "icons/wuhan-hot-dry-noodles.svg",
        "icon_url": f"{PUBLIC_URL}/assets/{studio.active.version}/icons/wuhan-hot-dry-noodles.svg",
        "description": noodles["description"],
        "link": "https://life.example.com/food/wuhan-hot-dry-noodles",
    }
    assert [lay["id"] for lay in data["layouts"]] == ["hero", "list", "grid"]
    assert {c["id"] for c in data["categories"]} >= {"food", "family", "money"}


def test_making_a_poster_returns_absolute_links(client):
    response = client.post("/api/posters", json={"choices": PICKS, "name": "小满"})
    assert response.status_code == 201
    made = response.get_json()
    poster_id = made["id"]
    assert re.fullmatch(r"[A-Za-z0-9_-]{12}", poster_id)
    assert made == {
        "id": poster_id,
        "image_url": f"{PUBLIC_URL}/p/{poster_id}.png",
        "share_url": f"{PUBLIC_URL}/s/{poster_id}",
        "card_url": f"{PUBLIC_URL}/c/{poster_id}.png",
    }
    assert response.headers["Location"] == made["share_url"]
    record = client.get(f"/api/posters/{poster_id}").get_json()
    assert record["choices"] == PICKS and record["name"] == "小满" and record["layout"] == "list"


def test_ids_are_neither_sequential_nor_alike(client):
    ids = [make(client)["id"] for _ in range(5)]
    assert len(set(ids)) == 5
    assert len({i[:4] for i in ids}) >= 4


def test_the_poster_image_is_a_png_whose_qr_code_opens_the_scan_link(client, studio):
    made = make(client)
    response = client.get(f"/p/{made['id']}.png")
    assert response.status_code == 200 and response.mimetype == "image/png"
    image = Image.open(io.BytesIO(response.data))
    assert image.size == (1080, 1920)
    assert [r.text for r in zxingcpp.read_barcodes(image)] == [studio.scan_url(made["id"])]


def test_images_are_immutable_and_answer_304(client):
    made = make(client)
    for path in (f"/p/{made['id']}.png", f"/c/{made['id']}.png"):
        first = client.get(path)
        assert first.status_code == 200
        assert first.headers["Cache-Control"] == "public, max-age=31536000, immutable"
        etag = first.headers["ETag"]
        again = client.get(path, headers={"If-None-Match": etag})
        assert again.status_code == 304 and again.data == b""
    card = Image.open(io.BytesIO(client.get(f"/c/{made['id']}.png").data))
    assert card.size == (1200, 630)


def test_cached_images_are_sent_without_the_database(client, studio, monkeypatch):
    made = make(client)
    paths = {f"/p/{made['id']}.png": "image/png", f"/p/{made['id']}.webp": "image/webp",
             f"/c/{made['id']}.png": "image/png"}  # fmt: skip
    first = {path: client.get(path) for path in paths}  # renders the light one and the card

    def no_database(poster_id):
        raise AssertionError(f"{poster_id}: a cached image looked up its poster")

    monkeypatch.setattr(studio.store, "get_poster", no_database)
    for path, mimetype in paths.items():
        again = client.get(path)
        assert again.status_code == 200 and again.mimetype == mimetype
        assert (
            again.data == first[path].data and again.headers["ETag"] == first[path].headers["ETag"]
        )
        assert again.headers["Content-Length"] == str(len(again.data))
        assert again.headers["Cache-Control"] == "public, max-age=31536000, immutable"
        assert (
            again.headers["Content-Security-Policy"] == "default-src 'none'; frame-ancestors 'none'"
        )
        assert again.headers["X-Content-Type-Options"] == "nosniff"
        head = client.head(path)
        assert head.status_code == 200 and head.data == b""
        assert head.headers["Content-Length"] == str(len(again.data))
        for tags in (again.headers["ETag"], f'"x", W/{again.headers["ETag"]}', "*"):
            assert client.get(path, headers={"If-None-Match": tags}).status_code == 304
        assert client.get(path, headers={"If-None-Match": '"other"'}).status_code == 200
    # Not cached: Flask answers, from the database (an unknown id is a 404 even for "*").
    monkeypatch.undo()
    unknown = "ZZZZZZZZZZZZ"
    assert client.get(f"/p/{unknown}.png", headers={"If-None-Match": "*"}).status_code == 404
    assert client.head(f"/c/{unknown}.png").status_code == 404


def test_a_removed_cache_folder_is_made_again(studio):
    folder = studio.cache.path("QQtest000001").parent
    studio.cache.put("QQtest000001", b"one")
    shutil.rmtree(folder)
    assert studio.cache.put("QQtest000002", b"two").read_bytes() == b"two"
    assert studio.cache.read("QQtest000001") is None
    assert sorted(p.name for p in folder.iterdir()) == ["QQtest000002.png"]  # no .tmp- left


def test_a_lost_image_cache_loses_nothing(client, studio):
    made = make(client, name="Lily")
    before = client.get(f"/p/{made['id']}.png").data
    shutil.rmtree(studio.cache.root)
    after = client.get(f"/p/{made['id']}.png")
    assert after.status_code == 200 and after.data == before


@pytest.mark.parametrize(
    "body, status, code, field, words",
    [
        ({"choices": []}, 422, "invalid_selection", "choices", "至少挑 1 项美好小事吧"),
        ({"choices": ["x"] * 13}, 422, "invalid_selection", "choices", "清单里没有「x」这一项"),
        (
            {"choices": [c for c in PICKS * 5][:13]},
            422,
            "invalid_selection",
            "choices",
            "选了不止一次，每项只要选一次就好",
        ),
        ({"choices": "travel-fund"}, 422, "invalid_selection", "choices", "没有收到你挑的"),
        ({"choices": [1, 2]}, 422, "invalid_selection", "choices", "请重新挑选一下吧"),
        ({"choices": ["nope"]}, 422, "invalid_selection", "choices", "清单里没有「nope」这一项"),
        ({}, 422, "invalid_selection", "choices", "还没有收到你挑的美好小事"),
        (
            {"choices": PICKS, "colour": "red"},
            422,
            "invalid_selection",
            "colour",
            "不认识「colour」",
        ),
        ({"choices": PICKS, "name": 7}, 422, "invalid_selection", "name", "名字要填文字"),
        (
            {"choices": PICKS, "name": "我" * 13},
            422,
            "invalid_selection",
            "name",
            "名字最多 12 个字",
        ),
        ({"choices": PICKS, "name": "官方小号"}, 422, "invalid_selection", "name", "「官方」"),
        ({"choices": PICKS, "name": "a\u200bb"}, 422, "invalid_selection", "name", "看不见的字符"),
        ({"choices": PICKS, "name": "\ue000"}, 422, "invalid_selection", "name", "看不见的字符"),
        (
            {"choices": PICKS, "name": "\U00013000"},
            422,
            "undrawable_text",
            "name",
            "「\U00013000」",
        ),
        (
            {"choices": PICKS, "layout": "big"},
            422,
            "invalid_selection",
            "layout",
            "没有「big」这种版式",
        ),
        ({"choices": PICKS, "layout": "grid"}, 422, "invalid_selection", "layout", "放 7–12 项"),
        ({"choices": PICKS, "ref": "AAAAAAAAAAAA"}, 422, "invalid_selection", "ref", "找不到"),
        ({"choices": PICKS, "ref": "../../etc"}, 422, "invalid_selection", "ref", "找不到"),
    ],
)
def test_bad_requests_get_a_message_a_person_can_act_on(client, body, status, code, field, words):
    response = client.post("/api/posters", json=body)
    assert response.status_code == status
    error = response.get_json()["error"]
    assert error["code"] == code
    assert error.get("field") == field
    assert words in error["message"]


@pytest.mark.parametrize(
    "data, content_type, status, words",
    [
        ('{"choices": ["travel-fund"]}', "text/plain", 415, "「Content-Type: application/json」"),
        ("{not json", "application/json", 400, "不是有效的 JSON"),
        ('["travel-fund"]', "application/json", 400, "要是一个对象"),
        ('{"choices": [], "choices": ["x"]}', "application/json", 400, "发了两次"),
        ('{"choices": ' + "[" * 20000 + "]" * 20000 + "}", "application/json", 400, "嵌套得太深"),
        ('{"choices": ["' + "x" * 70000 + '"]}', "application/json", 413, "内容太多了"),
    ],
)
def test_bodies_that_are_not_what_the_api_takes(client, data, content_type, status, words):
    response = client.post("/api/posters", data=data, content_type=content_type)
    assert response.status_code == status
    assert words in response.get_json()["error"]["message"]


@pytest.mark.parametrize(
    "path, is_json",
    [
        ("/api/posters/AAAAAAAAAAAA", True),
        ("/api/posters/<script>", True),
        ("/api/nothing-here", True),
        ("/p/AAAAAAAAAAAA.png", False),
        ("/p/..%2F..%2Fetc%2Fpasswd.png", False),
        ("/c/short.png", False),
        ("/s/AAAAAAAAAAAA", False),
        ("/q/AAAAAAAAAAAA", False),
        ("/assets/0123456789abcdef/icons/x.png", False),
        ("/assets/nope/x.png", False),
    ],
)
def test_unknown_ids_are_404s(client, path, is_json):
    response = client.get(path)
    assert response.status_code == 404
    if is_json:
        assert response.get_json()["error"]["code"] in {"poster_not_found", "not_found"}
    else:
        assert re.search("找不到|不存在", response.get_data(as_text=True))


def test_a_tampered_id_is_a_404(client):
    poster_id = make(client)["id"]
    tampered = poster_id[:-1] + ("A" if poster_id[-1] != "A" else "B")
    assert client.get(f"/s/{tampered}").status_code == 404


def test_wrong_method_is_a_405_with_json(client):
    response = client.delete("/api/posters")
    assert response.status_code == 405
    assert "这个页面不能这样打开" in response.get_json()["error"]["message"]
    assert response.headers["Allow"]


def test_the_share_page_shows_the_poster_with_absolute_card_tags(client):
    made = make(client, name="小满")
    html = client.get(f"/s/{made['id']}").get_data(as_text=True)
    assert f'<img class="poster" src="/p/{made["id"]}.png"' in html
    assert f'<meta property="og:image" content="{made["card_url"]}">' in html
    assert f'<meta property="og:url" content="{made["share_url"]}">' in html
    assert '<meta name="twitter:card" content="summary_large_image">' in html
    assert "小满的美好生活清单" in html
    assert "长按图片保存" in html
    assert f'href="/?ref={made["id"]}"' in html
    assert "service.weibo.com/share/share.php?url=" in html


def test_markup_in_a_name_is_escaped_everywhere(client):
    name = '<b>"x</b>'
    made = make(client, name=name)
    html = client.get(f"/s/{made['id']}").get_data(as_text=True)
    assert "<b>" not in html
    assert "&lt;b&gt;&#34;x&lt;/b&gt;的美好生活清单" in html
    assert client.get(f"/api/posters/{made['id']}").get_json()["name"] == name


def test_a_scan_is_counted_and_opens_the_share_page(client, studio):
    poster_id = make(client)["id"]
    response = client.get(f"/q/{poster_id}")
    assert response.status_code == 302
    # The share page it opens is the same visit: not a share view as well.
    assert response.headers["Location"] == f"/s/{poster_id}?from=scan"
    assert studio.store.event_counts(poster_id)["scan"] == 1


def test_views_are_counted_but_not_the_makers_own_landing(client, studio):
    poster_id = make(client)["id"]
    client.get(f"/s/{poster_id}?new=1")
    assert studio.store.event_counts(poster_id)["share_view"] == 0
    client.get(f"/s/{poster_id}")
    client.get(f"/s/{poster_id}")
    assert studio.store.event_counts(poster_id) == {
        "created": 1,
        "share_view": 2,
        "scan": 0,
        "referral": 0,
    }


def test_a_poster_made_through_a_referral_records_who_brought_it(client, studio):
    parent = make(client)["id"]
    child = make(client, ref=parent)["id"]
    assert client.get(f"/api/posters/{child}").get_json()["ref"] == parent
    assert studio.store.event_counts(parent)["referral"] == 1


def test_healthz(client, studio):
    assert client.get("/healthz").get_json() == {
        "status": "ok",
        "catalog_version": studio.active.version,
    }


def test_openapi_describes_what_the_api_returns(client):
    spec = client.get("/api/openapi.json").get_json()
    assert spec["openapi"].startswith("3.")
    assert spec["servers"] == [{"url": PUBLIC_URL}]
    create = spec["paths"]["/api/posters"]["post"]
    assert set(create["responses"]) == {"201", "400", "413", "415", "422", "429", "503"}
    links = spec["components"]["schemas"]["PosterLinks"]
    assert set(links["required"]) == set(make(client))
    request = spec["components"]["schemas"]["PosterRequest"]
    assert set(request["properties"]) == {"choices", "name", "layout", "ref", "city"}
    catalog = spec["components"]["schemas"]["Catalog"]
    assert set(catalog["required"]) == set(client.get("/api/catalog").get_json())
