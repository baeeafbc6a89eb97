"""Hardening, round two: cheap requests that once stalled a worker or gave a 500.

Each test here failed before its fix: repeated picks kept a worker busy for 30 s, "one
character" names of thousands of code points were accepted, the card and a cache-miss
image had no render budget, a NUL reached PostgreSQL, look-alike characters slipped past
the blocklist, a joiner after a Chinese character was drawn blank, and a chunked body over
the limit was silently cut short.
"""

from __future__ import annotations

import io
import json
import socket
import threading
import time
import urllib.request

import pytest

from posterapp import create_app, selection
from posterapp.errors import SelectionError

from .conftest import PUBLIC_URL, TEST_CONFIG, BufferedClient

THUMBS_CHAIN = "👍" + "\u200d👍" * 3000  # one grapheme cluster, 21 KB
SKIN_CHAIN = "👍" + "🏽" * 14000  # one grapheme cluster, 56 KB


def api_error(response) -> dict:
    return response.get_json()["error"]


def post_json(client, body):
    data = json.dumps(body, ensure_ascii=False).encode()
    return client.post("/api/posters", data=data, content_type="application/json")


# --- 1. many picks: refused at once, and duplicates found in linear time -------------------


def test_far_too_many_picks_are_refused_before_any_per_pick_work(default_version):
    picks = ["travel-fund"] * 200_000
    started = time.perf_counter()
    with pytest.raises(SelectionError) as raised:
        selection.clean_picks(default_version, picks)
    assert time.perf_counter() - started < 1.0  # was minutes: picks.count() per pick
    assert raised.value.field == "choices"
    assert raised.value.message == "最多选 12 项哦，这次收到了 200000 项"


def test_repeated_picks_within_the_margin_are_named(default_version):
    picks = ["travel-fund", "travel-fund", "wuhan-hot-dry-noodles"]
    with pytest.raises(SelectionError, match="「存一笔旅游资金」选了不止一次"):
        selection.clean_picks(default_version, picks)


def post_raw(base: str, path: str, body: bytes, content_type: str):
    request = urllib.request.Request(
        base + path, data=body, headers={"Content-Type": content_type}, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=20) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def test_a_two_megabyte_picker_form_is_refused_at_once_by_a_real_server(live_server):
    """POST / with ~1.9 MB of choices=…: answered in well under a second, health stays up."""
    body = b"choices=travel-fund&" * 95_000  # 1.9 MB
    answers: list[float] = []

    def health():
        started = time.monotonic()
        with urllib.request.urlopen(live_server.url + "/healthz", timeout=20) as response:
            assert response.status == 200
        answers.append(time.monotonic() - started)

    started = time.monotonic()
    checker = threading.Thread(target=health)
    checker.start()
    status, page = post_raw(live_server.url, "/", body, "application/x-www-form-urlencoded")
    took = time.monotonic() - started
    checker.join()
    assert status == 413
    assert took < 3, f"the form took {took:.1f} s to refuse"
    assert answers and answers[0] < 2


def test_a_form_of_many_picks_under_the_size_limit_is_refused_in_chinese(client):
    response = client.post("/", data={"choices": ["travel-fund"] * 500, "name": "小满"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "最多选 12 项哦，这次收到了 500 项" in page


# --- 3. names bounded in bytes, code points and cluster size; every render budgeted ---------


@pytest.mark.parametrize(
    ("name", "message"),
    [
        pytest.param(THUMBS_CHAIN, "名字太长了，最多 12 个字，再短一点吧", id="zwj-chain"),
        pytest.param(SKIN_CHAIN, "名字太长了，最多 12 个字，再短一点吧", id="skin-tone-chain"),
        pytest.param(
            "小" * 30 + "满" * 40, "名字太长了，最多 12 个字，再短一点吧", id="codepoints"
        ),
        pytest.param(
            "👍" + "\u200d👍" * 5 + "小满",
            "名字里有一个表情由 11 个部分拼成，太复杂了，换一个简单的吧",
            id="one-big-cluster",
        ),
    ],
)
def test_names_that_are_one_character_but_huge_are_refused(client, name, message):
    started = time.perf_counter()
    response = post_json(client, {"choices": ["travel-fund"], "name": name})
    assert time.perf_counter() - started < 1.0
    assert response.status_code == 422
    assert api_error(response) == {
        "code": "invalid_selection",
        "field": "name",
        "message": message,
    }


def test_the_longest_real_emoji_sequence_is_still_a_name(client):
    kiss = "👩🏽\u200d❤️\u200d💋\u200d👨🏿"  # ten code points, one emoji
    assert len(kiss) == 10
    response = post_json(client, {"choices": ["travel-fund"], "name": "小满" + kiss})
    assert response.status_code == 201, response.get_json()


@pytest.fixture
def budget(studio):
    """Set the render budget of the test app for one test, then put it back."""
    before = studio.render_budget

    def set_to(seconds: float):
        studio.render_budget = seconds

    yield set_to
    studio.render_budget = before


@pytest.mark.parametrize("path", ["/p/{id}.png", "/c/{id}.png"])
def test_a_cache_miss_image_and_the_card_are_rendered_under_the_budget(
    client, studio, budget, path
):
    made = post_json(client, {"choices": ["travel-fund", "wuhan-hot-dry-noodles"]}).get_json()
    for key in (made["id"], f"{made['id']}-card"):
        cached = studio.cache.get(key)
        if cached:
            cached.unlink()
    budget(0.000_001)  # nothing renders this fast: the budget must cut in
    response = client.get(path.format(id=made["id"]))
    assert response.status_code == 503
    assert response.headers["Retry-After"]
    budget(5)
    assert client.get(path.format(id=made["id"])).status_code == 200


# --- 4. control characters never reach the database --------------------------------------


@pytest.fixture(scope="module")
def pg_app(database, tmp_path_factory):
    app = create_app(
        {
            **TEST_CONFIG,
            "DATABASE_URL": database,
            "DATA_DIR": str(tmp_path_factory.mktemp("pg")),
            "PUBLIC_URL": PUBLIC_URL,
        }
    )
    app.test_client_class = BufferedClient
    yield app
    app.extensions["posterapp"].store.close()


@pytest.mark.parametrize(
    ("method", "path", "data", "label"),
    [
        ("post", "/admin/login", {"name": "li\x00na", "password": "x" * 12}, "名字"),
        ("get", "/?ref=abc\x00def", None, "邀请链接"),
        ("post", "/", {"choices": "travel-fund", "ref": "a\x00b"}, "邀请链接"),
        ("post", "/", {"choices": "travel-fund", "city": "wu\x1bhan"}, "城市"),
        ("get", "/s/abc\x00defghij", None, "海报编号"),
        ("get", "/api/posters/abc\x00defghij", None, "海报编号"),
    ],
)
def test_control_characters_are_refused_before_postgresql_sees_them(
    pg_app, method, path, data, label
):
    client = pg_app.test_client()
    response = getattr(client, method)(path, data=data)
    assert response.status_code == 400
    text = response.get_data(as_text=True)
    assert f"{label}里有看不见的控制字符，删掉后再试一次吧" in text


def test_tabs_and_line_breaks_are_still_text(pg_app):
    response = pg_app.test_client().post("/", data={"choices": "travel-fund", "name": "小\t满"})
    assert response.status_code == 422  # the name check speaks, not the control-character one
    assert "控制字符" not in response.get_data(as_text=True)


# --- 8. look-alikes, joiners after Chinese, chunked bodies ---------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "发现\u2f63活",  # ⽣ KANGXI RADICAL LIFE, drawn exactly like 生
        "官\u2f45",  # ⽅ KANGXI RADICAL SQUARE for 方
        "\uff21\uff24\uff2d\uff29\uff2e管理员",  # full-width letters, then a blocked word
        "客 服",
    ],
)
def test_look_alike_names_are_caught_by_the_blocklist(client, name):
    response = post_json(client, {"choices": ["travel-fund"], "name": name})
    assert response.status_code == 422
    assert api_error(response)["field"] == "name"
    assert "这样的词，换一个吧" in api_error(response)["message"]


@pytest.mark.parametrize("mark", ["\u200d", "\ufe0f"])
def test_a_joiner_after_a_chinese_character_is_refused_not_drawn_blank(client, mark):
    response = post_json(client, {"choices": ["travel-fund"], "name": f"小{mark}满"})
    assert response.status_code == 422
    assert api_error(response)["message"] == "「小」后面跟着一个看不见的连接符，删掉它再试一次吧"


def test_an_emoji_with_its_presentation_mark_is_still_fine(client):
    response = post_json(client, {"choices": ["travel-fund"], "name": "小满❤️"})
    assert response.status_code == 201


def chunked(client, path: str, body: bytes, content_type: str):
    return client.post(
        path,
        input_stream=io.BytesIO(body),
        content_type=content_type,
        headers={"Transfer-Encoding": "chunked"},
        environ_overrides={"wsgi.input_terminated": True},
    )


@pytest.mark.parametrize(
    ("path", "body", "content_type"),
    [
        (
            "/api/posters",
            json.dumps({"choices": ["travel-fund"], "name": "x" * 70_000}).encode(),
            "application/json",
        ),
        ("/", b"choices=travel-fund&name=" + b"x" * 20_000, "application/x-www-form-urlencoded"),
    ],
)
def test_a_chunked_body_over_the_limit_is_a_413_not_cut_short(client, path, body, content_type):
    response = chunked(client, path, body, content_type)
    assert response.status_code == 413


def test_a_chunked_body_within_the_limit_still_works(client):
    body = json.dumps({"choices": ["travel-fund"], "name": "小满"}).encode()
    response = chunked(client, "/api/posters", body, "application/json")
    assert response.status_code == 201


def test_a_chunked_body_over_the_limit_is_a_413_on_a_real_server(live_server):
    """gunicorn decodes chunked bodies itself; the limit must still hold behind it."""
    host, port = live_server.url.removeprefix("http://").split(":")
    payload = json.dumps({"choices": ["travel-fund"], "name": "x" * 70_000}).encode()
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(
            b"POST /api/posters HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
        )
        for start in range(0, len(payload), 8192):
            piece = payload[start : start + 8192]
            sock.sendall(b"%x\r\n%s\r\n" % (len(piece), piece))
        sock.sendall(b"0\r\n\r\n")
        reply = b""
        while chunk := sock.recv(65536):
            reply += chunk
    assert reply.split(b"\r\n", 1)[0] == b"HTTP/1.1 413 REQUEST ENTITY TOO LARGE"
