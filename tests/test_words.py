"""The words people read: Chinese by default, English when the browser prefers it.

Every error a person can hit is asked for twice, once as a Chinese browser and once as an
English one; the message is what they read, so it is compared whole. The JSON ``code`` and
``field`` are for programs and must not change with the language.
"""

from __future__ import annotations

import gettext
import json
import re
import time
from html import unescape
from pathlib import Path

import pytest
import sqlalchemy as sa
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from posterapp import i18n, selection
from posterapp.errors import UndrawableText

from .conftest import TEST_CONFIG, BufferedClient

ZH = {"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.8"}
EN = {"Accept-Language": "en-US,en;q=0.9"}
PICKS = ["wuhan-hot-dry-noodles", "travel-fund", "parents-pension-insurance"]


def thirteen(studio) -> list[str]:
    return [c.id for c in studio.active.catalog.choices[:13]]


def api_post(body):
    return lambda client, headers: client.post("/api/posters", json=body, headers=headers)


def raw_post(data, content_type="application/json"):
    def send(client, headers):
        return client.post("/api/posters", data=data, content_type=content_type, headers=headers)

    return send


def get(path):
    return lambda client, headers: client.get(path, headers=headers)


# (request, status, code, field, Chinese, English)
API_ERRORS = [
    pytest.param(
        api_post({"choices": []}), 422, "invalid_selection", "choices",
        "至少挑 1 项美好小事吧",
        "Pick at least 1 of the good things first.",
        id="no-picks",
    ),
    pytest.param(
        "thirteen", 422, "invalid_selection", "choices",
        "最多选 12 项哦，去掉 1 项再试试吧（现在选了 13 项）",
        "You can pick up to 12. Remove 1 and try again (you have 13 now).",
        id="too-many-picks",
    ),
    pytest.param(
        api_post({"choices": ["travel-fund"] * 30}), 422, "invalid_selection", "choices",
        "最多选 12 项哦，这次收到了 30 项",
        "You can pick up to 12, and we got 30.",
        id="far-too-many-picks",
    ),
    pytest.param(
        api_post({"choices": ["nope"]}), 422, "invalid_selection", "choices",
        "清单里没有「nope」这一项，可能已经下架了，请重新挑选吧",
        "“nope” is not on the list (it may have been taken off). Please pick again.",
        id="unknown-choice",
    ),
    pytest.param(
        api_post({"choices": ["nope", "gone"]}), 422, "invalid_selection", "choices",
        "清单里没有「nope」、「gone」这几项，可能已经下架了，请重新挑选吧",
        "“nope”, “gone” are not on the list (they may have been taken off). Please pick again.",
        id="unknown-choices",
    ),
    pytest.param(
        api_post({"choices": ["travel-fund", "travel-fund"]}), 422, "invalid_selection",
        "choices",
        "「存一笔旅游资金」选了不止一次，每项只要选一次就好",
        "You picked “存一笔旅游资金” more than once. Each one only needs picking once.",
        id="repeated-choice",
    ),
    pytest.param(
        api_post({"choices": "travel-fund"}), 422, "invalid_selection", "choices",
        "没有收到你挑的美好小事，请重新挑选一下吧",
        "We didn't get your picks. Please pick again.",
        id="choices-not-a-list",
    ),
    pytest.param(
        api_post({}), 422, "invalid_selection", "choices",
        "还没有收到你挑的美好小事，挑好后再试一次吧",
        "We haven't got your picks yet. Pick some and try again.",
        id="choices-missing",
    ),
    pytest.param(
        api_post({"choices": PICKS, "name": "我" * 13}), 422, "invalid_selection", "name",
        "名字最多 12 个字，再短一点吧（现在 13 个字）",
        "Names can be up to 12 characters. Please make it shorter (it has 13 now).",
        id="name-too-long",
    ),
    pytest.param(
        api_post({"choices": PICKS, "name": "我" * 70}), 422, "invalid_selection", "name",
        "名字太长了，最多 12 个字，再短一点吧",
        "That name is too long. Keep it to 12 characters or fewer.",
        id="name-far-too-long",
    ),
    pytest.param(
        api_post({"choices": PICKS, "name": "官方客服"}), 422, "invalid_selection", "name",
        "名字里不能有「官方」这样的词，换一个吧",
        "Names can't contain words like “官方”. Please choose another one.",
        id="name-blocked-word",
    ),
    pytest.param(
        api_post({"choices": PICKS, "name": "𪚥"}), 422, "undrawable_text", "name",
        "这个字海报上写不出来：「𪚥」，换一个字试试",
        "The poster can't show this character: “𪚥”. Try a different one.",
        id="name-undrawable",
    ),
    pytest.param(
        api_post({"choices": PICKS, "name": "小\u200b满"}), 422, "invalid_selection", "name",
        "名字里藏着看不见的字符，删掉名字重新输入一遍吧",
        "Your name has invisible characters in it. Clear it and type it again.",
        id="name-invisible",
    ),
    pytest.param(
        api_post({"choices": PICKS, "name": "\u200d满"}), 422, "invalid_selection", "name",
        "名字里有一个看不见的连接符，删掉名字重新输入一遍吧",
        "Your name has an invisible joining mark in it. Clear it and type it again.",
        id="name-bare-joiner",
    ),
    pytest.param(
        api_post({"choices": PICKS, "name": "小\u200d"}), 422, "invalid_selection", "name",
        "「小」后面跟着一个看不见的连接符，删掉它再试一次吧",
        "There is an invisible joining mark after “小”. Delete it and try again.",
        id="name-joined-letter",
    ),
    pytest.param(
        api_post({"choices": PICKS, "name": 7}), 422, "invalid_selection", "name",
        "名字要填文字，或者不填",
        "Your name should be text, or left out.",
        id="name-not-text",
    ),
    pytest.param(
        api_post({"choices": PICKS, "layout": "big"}), 422, "invalid_selection", "layout",
        "没有「big」这种版式，可以选「grid」、「hero」、「list」",
        "There is no “big” layout. You can choose “grid”, “hero”, “list”.",
        id="unknown-layout",
    ),
    pytest.param(
        api_post({"choices": ["travel-fund"], "layout": "grid"}), 422, "invalid_selection",
        "layout",
        "「网格」版式放 7–12 项，你选了 1 项，换一个版式或者增减几项吧",
        "The “网格” layout holds 7–12 picks and you have 1. Choose another layout, "
        "or add or remove a few.",
        id="layout-does-not-fit",
    ),
    pytest.param(
        api_post({"choices": PICKS, "ref": "AAAAAAAAAAAA"}), 422, "invalid_selection", "ref",
        "邀请你的那张海报找不到了，回首页直接做一张自己的吧",
        "We can't find the poster that invited you. Make your own from the start page.",
        id="unknown-ref",
    ),
    pytest.param(
        api_post({"choices": PICKS, "colour": "red"}), 422, "invalid_selection", "colour",
        "不认识「colour」这一项，可以发送的有「choices」、「name」、「layout」、「ref」、「city」",
        "We don't know “colour”. You can send “choices”, “name”, “layout”, “ref”, “city”.",
        id="unknown-field",
    ),
    pytest.param(
        raw_post('{"choices": ["travel-fund"], "name": "\\ud800"}'), 422, "invalid_selection",
        "name",
        "名字里有无法识别的字符，请重新输入一遍吧",
        "Your name has characters we can't read. Please type it again.",
        id="lone-surrogate",
    ),
    pytest.param(
        raw_post('{"choices": ["travel-fund"]}', "text/plain"), 415, "unsupported_media_type",
        None,
        "请用 JSON 格式发送，并带上请求头「Content-Type: application/json」",
        "Send the body as JSON, with the header Content-Type: application/json.",
        id="not-json-media-type",
    ),
    pytest.param(
        raw_post("{not json"), 400, "invalid_request", None,
        "发来的内容不是有效的 JSON，请检查第 1 行第 2 个字符附近",
        "The body is not valid JSON. Check near line 1, column 2.",
        id="not-json",
    ),
    pytest.param(
        raw_post("[" * 100_000 + "]" * 100_000), 413, "request_entity_too_large", None,
        "发送的内容太多了，精简一些再试吧",
        "That's more than we can take at once. Please send less and try again.",
        id="too-large",
    ),
    pytest.param(
        raw_post("[" * 5000 + "]" * 5000), 400, "invalid_request", None,
        "发来的 JSON 嵌套得太深了，请简化后再发",
        "The JSON is nested too deeply. Please simplify it and send it again.",
        id="nested-too-deeply",
    ),
    pytest.param(
        raw_post('["travel-fund"]'), 400, "invalid_request", None,
        "发来的 JSON 要是一个对象，比如「{\"choices\": [\"travel-fund\"]}」",
        'The body must be a JSON object, like {"choices": ["travel-fund"]}.',
        id="not-an-object",
    ),
    pytest.param(
        raw_post('{"choices": [], "choices": ["x"]}'), 400, "invalid_request", None,
        "「choices」发了两次，只发一次就好",
        "“choices” appears twice in the body. Send it once.",
        id="field-twice",
    ),
    pytest.param(
        get("/api/posters/AAAAAAAAAAAA"), 404, "poster_not_found", None,
        "这张海报找不到了，看看链接是否完整，或者回首页做一张自己的吧",
        "We can't find this poster. Check that the link is complete, or make your own "
        "from the start page.",
        id="poster-not-found",
    ),
    pytest.param(
        get("/api/nothing-here"), 404, "not_found", None,
        "这个页面不存在，回首页挑选你的美好生活吧",
        "There's nothing at this address. Go back to the start and pick your good life.",
        id="no-such-address",
    ),
    pytest.param(
        lambda client, headers: client.delete("/api/posters", headers=headers), 405,
        "method_not_allowed", None,
        "这个页面不能这样打开，回首页重新开始吧",
        "This page can't be opened that way. Go back to the start and try again.",
        id="wrong-method",
    ),
]  # fmt: skip


def ask(client, studio, send, headers):
    if send == "thirteen":
        send = api_post({"choices": thirteen(studio)})
    return send(client, headers)


@pytest.mark.parametrize(("send", "status", "code", "field", "chinese", "english"), API_ERRORS)
def test_an_api_error_speaks_chinese_by_default_and_english_if_asked(
    client, studio, send, status, code, field, chinese, english
):
    for headers, words in ((ZH, chinese), ({}, chinese), (EN, english)):
        response = ask(client, studio, send, headers)
        assert response.status_code == status, response.get_data(as_text=True)
        error = response.get_json()["error"]
        assert error["message"] == words
        # The code and the field are for programs: the same in every language.
        assert error["code"] == code
        assert error.get("field") == field
        assert "Accept-Language" in response.headers.get("Vary", "")


# Developer English in a Chinese message: a word of four or more ASCII letters, once the
# things a person may type or copy are taken out: ids in 「」, URLs, and acronyms (JSON).
ALLOWED = re.compile(r"「[^」]*」|https?://\S*|\b[A-Z]{2,}\b")


def english_words(text: str) -> list[str]:
    return re.findall(r"[A-Za-z]{4,}", ALLOWED.sub(" ", text))


@pytest.mark.parametrize(("send", "status", "code", "field", "chinese", "english"), API_ERRORS)
def test_no_chinese_api_error_has_developer_english(
    client, studio, send, status, code, field, chinese, english
):
    message = ask(client, studio, send, ZH).get_json()["error"]["message"]
    assert english_words(message) == [], message
    assert not re.search(r"非法|错误代码|\w+\.\w+\[", message)
    assert english_words(english) or english == chinese  # the English one is English


def page_text(html: str) -> str:
    """Return what a person reads on a page: the <title> and the <main>, without markup."""
    title = re.search(r"<title>(.*?)</title>", html, re.S)[1]
    main = re.search(r"<main.*?</main>", html, re.S)[0]
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", title + " " + main)).strip()


# (request, status, heading and message in Chinese, the same in English)
PAGES = [
    pytest.param(
        get("/no-such-page"), 404,
        ["这个页面不存在", "这个页面不存在，回首页挑选你的美好生活吧", "去挑选我的美好生活"],
        ["This page doesn't exist", "There's nothing at this address.", "Pick my good life"],
        id="404",
    ),
    pytest.param(
        get("/s/AAAAAAAAAAAA"), 404,
        ["这张海报找不到了", "看看链接是否完整，或者回首页做一张自己的吧"],
        ["We can't find this poster", "make your own from the start page"],
        id="poster-404",
    ),
    pytest.param(
        lambda client, headers: client.delete("/", headers=headers), 405,
        ["出了点小问题", "这个页面不能这样打开，回首页重新开始吧"],
        ["Something went wrong", "This page can't be opened that way."],
        id="405",
    ),
    pytest.param(
        lambda client, headers: client.post(
            "/", data={"name": "x" * 20_000}, headers=headers
        ), 413,
        ["发送的内容太多了，精简一些再试吧"],
        ["That's more than we can take at once."],
        id="413",
    ),
    pytest.param(
        get("/assets/0123456789abcdef/icons/x.png"), 404,
        ["这个页面不存在", "这个页面不存在，回首页挑选你的美好生活吧"],
        ["This page doesn't exist", "There's nothing at this address."],
        id="unknown-catalog-version",  # staff words (a version id) stay in the console
    ),
    pytest.param(
        get("/?city=\x01"), 400,
        ["城市里有看不见的控制字符，删掉后再试一次吧"],
        ["The city has invisible characters in it. Delete them and try again."],
        id="control-character",
    ),
]  # fmt: skip


@pytest.mark.parametrize(("send", "status", "chinese", "english"), PAGES)
def test_an_error_page_speaks_the_persons_language_and_leads_back(
    client, send, status, chinese, english
):
    for headers, words in ((ZH, chinese), (EN, english)):
        response = send(client, headers)
        assert response.status_code == status
        text = page_text(response.get_data(as_text=True)).replace("&#39;", "'")
        for phrase in words:
            assert phrase in text, text
        assert 'href="/"' in response.get_data(as_text=True)  # the next step: the picker
    zh_text = page_text(send(client, ZH).get_data(as_text=True))
    assert english_words(zh_text) == [], zh_text


@pytest.mark.parametrize(
    ("data", "chinese", "english"),
    [
        ({"choices": ["travel-fund"], "name": "官方"}, "名字里不能有「官方」这样的词，换一个吧",
         "Names can't contain words like “官方”. Please choose another one."),
        ({"name": "小满"}, "至少挑 1 项美好小事吧", "Pick at least 1 of the good things first."),
    ],
)  # fmt: skip
def test_the_picker_form_says_what_to_fix_in_the_persons_language(client, data, chinese, english):
    for headers, words in ((ZH, chinese), (EN, english)):
        response = client.post("/", data=data, headers=headers)
        assert response.status_code == 422
        assert words in response.get_data(as_text=True).replace("&#39;", "'")


def limited_client(tmp_path, **config):
    from posterapp import create_app

    app = create_app({**TEST_CONFIG, "DATA_DIR": str(tmp_path), **config})
    app.test_client_class = BufferedClient
    return app


def test_too_many_requests_says_how_many_seconds_to_wait(tmp_path):
    app = limited_client(tmp_path, RATE_LIMIT_POSTERS="1 per 30 seconds")
    try:
        client = app.test_client()
        assert client.post("/api/posters", json={"choices": PICKS}).status_code == 201
        for headers, pattern in (
            (ZH, r"操作太频繁啦，请 (\d+) 秒后再试"),
            (EN, r"That's a lot of tries in a short time\. Please try again in (\d+) seconds?\."),
        ):
            refused = client.post("/api/posters", json={"choices": PICKS}, headers=headers)
            assert refused.status_code == 429
            error = refused.get_json()["error"]
            assert error["code"] == "too_many_requests"
            seconds = re.fullmatch(pattern, error["message"])[1]
            # The words and the header name the same wait, and it is the limit's window.
            assert refused.headers["Retry-After"] == seconds
            assert 0 < int(seconds) <= 30
        page = client.post("/", data={"choices": ["travel-fund"]}, headers=ZH)
        assert page.status_code == 429
        assert re.search(r"操作太频繁啦，请 \d+ 秒后再试", page.get_data(as_text=True))
    finally:
        app.extensions["posterapp"].store.close()


def test_wait_text_reads_like_people_talk():
    assert i18n.wait_text(30) == "30 秒"
    assert i18n.wait_text(60) == "1 分钟"
    assert i18n.wait_text(150) == "2 分 30 秒"


def test_a_database_outage_and_a_crash_are_said_kindly(client, studio, monkeypatch):
    def away(*args, **kwargs):
        raise sa.exc.OperationalError("SELECT 1", {}, ConnectionRefusedError("refused"))

    monkeypatch.setattr(studio.store, "get_poster", away)
    for headers, words in (
        (ZH, "网络有点忙，请稍等几秒再试"),
        (EN, "We're a little busy right now. Please wait a few seconds and try again."),
    ):
        response = client.get("/api/posters/AAAAAAAAAAAA", headers=headers)
        assert response.status_code == 503 and response.headers["Retry-After"]
        assert response.get_json()["error"] == {"code": "unavailable", "message": words}

    def broken(*args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(studio.store, "get_poster", broken)
    for headers, words in (
        (ZH, "出了点小问题，请稍后再试一次"),
        (EN, "Something went wrong on our side. Please try again in a moment."),
    ):
        response = client.get("/api/posters/AAAAAAAAAAAA", headers=headers)
        assert response.status_code == 500
        assert response.get_json()["error"] == {"code": "internal_error", "message": words}
        page = client.get("/s/AAAAAAAAAAAA", headers=headers)
        assert page.status_code == 500 and words in page.get_data(as_text=True)


def test_a_slow_render_is_a_503_in_words(tmp_path, monkeypatch):
    from posterapp import posters

    app = limited_client(tmp_path, RENDER_BUDGET="0.2")
    monkeypatch.setattr(posters, "render_png", lambda *args: time.sleep(5))
    try:
        response = app.test_client().post("/api/posters", json={"choices": PICKS}, headers=ZH)
        assert response.status_code == 503
        assert response.get_json()["error"]["message"] == "海报做得有点慢，请稍等几秒再试"
    finally:
        app.extensions["posterapp"].store.close()


@pytest.mark.parametrize(
    ("header", "locale"),
    [
        ("zh-CN,zh;q=0.9", "zh"),
        ("zh-TW", "zh"),
        ("en", "en"),
        ("en-GB,en;q=0.9,zh-CN;q=0.8", "en"),
        ("zh-CN,en;q=0.5", "zh"),
        ("fr-FR,de;q=0.9", "zh"),
        ("", "zh"),
    ],
)
def test_english_only_when_the_browser_prefers_it(app, header, locale):
    with app.test_request_context("/", headers={"Accept-Language": header}):
        assert i18n.current_locale() == locale


def test_outside_a_request_the_words_are_chinese(default_version):
    # The CLI and a Python shell: no Flask app, Chinese.
    with pytest.raises(selection.SelectionError) as caught:
        selection.clean_picks(default_version, [])
    assert caught.value.message == "至少挑 1 项美好小事吧"
    both = "这些字海报上写不出来：「𪚥」、「𠀀」，换几个字试试"
    assert UndrawableText(["𪚥", "𠀀"]).message == both


def test_the_console_asks_staff_to_sign_in_in_chinese(tmp_path):
    app = limited_client(tmp_path, SECRET_KEY="x" * 40)
    try:
        response = app.test_client().post("/admin/api/validate", json={}, headers=EN)
        assert response.status_code == 401
        assert response.get_json()["error"] == {
            "code": "unauthorized",
            "message": "请先登录活动后台，再进行这个操作",
        }
    finally:
        app.extensions["posterapp"].store.close()


TRANSLATIONS = Path(i18n.__file__).parent / "translations"


@pytest.mark.parametrize("po", sorted(TRANSLATIONS.glob("*/LC_MESSAGES/messages.po")), ids=str)
def test_each_compiled_catalog_says_what_its_po_file_says(po):
    """The .mo files are committed; this fails if one was not recompiled after a .po edit."""
    with po.open("rb") as f:
        catalog = read_po(f)
    with po.with_suffix(".mo").open("rb") as f:
        compiled = gettext.GNUTranslations(f)
    expected = {}
    for message in catalog:
        if not message.id or message.fuzzy:
            continue
        if isinstance(message.id, tuple):
            for index, text in enumerate(message.string):
                expected[(message.id[0], index)] = text
        else:
            expected[message.id] = message.string
    actual = {key: value for key, value in compiled._catalog.items() if key != ""}
    assert actual == expected, "run: .venv/bin/pybabel compile -d posterapp/translations"


def test_every_message_in_the_code_has_an_english_translation():
    root = TRANSLATIONS.parent.parent
    with (root / "babel.cfg").open() as f:
        methods, options = parse_mapping_cfg(f)
    template = {
        message if isinstance(message, str) else message[0]
        for _, _, message, *_ in extract_from_dir(root, methods, options)
    }
    assert template, "nothing extracted: check babel.cfg"
    for po in TRANSLATIONS.glob("*/LC_MESSAGES/messages.po"):
        with po.open("rb") as f:
            catalog = read_po(f)
        done = {
            m.id if isinstance(m.id, str) else m.id[0]
            for m in catalog
            if m.id and not m.fuzzy and all(m.string if isinstance(m.string, tuple) else [m.string])
        }
        assert template <= done, f"{po}: untranslated {sorted(template - done)}"


# ---- the pages themselves: every word a person reads, in their language ----------------------

CJK = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uf900-\ufaff\uff00-\uffef]")


def visible_words(html: str) -> str:
    """Return what a person reads or hears on a page: the title, the body's text without
    styles and scripts (the scripts' word tables are checked on their own), and the
    attributes that are read out or shown: alt, placeholder, aria-label, title, and the name
    a saved picture gets."""
    title = re.search(r"<title>(.*?)</title>", html, re.S)[1]
    body = re.search(r"<body.*</body>", html, re.S)[0]
    body = re.sub(r"<(style|script|noscript)\b.*?</\1>", " ", body, flags=re.S)
    attributes = re.findall(r'\b(?:alt|placeholder|aria-label|title|download)="([^"]*)"', body)
    body = re.sub(r"</?(?:b|span|small|strong|em)\b[^>]*>", "", body)  # inside a sentence
    text = " ".join([title, re.sub(r"<[^>]+>", " ", body), *attributes])
    return re.sub(r"\s+", " ", unescape(text)).strip()


def script_table(html: str, element_id: str) -> dict:
    found = re.search(rf'<script type="application/json" id="{element_id}"[^>]*>(.*?)</script>',
                      html, re.S)  # fmt: skip
    assert found, f"no #{element_id} word table"
    return json.loads(found[1])


def catalog_words(studio, *extra: str) -> list[str]:
    """The catalog's own words (labels, categories, cities, campaign texts): as it says them."""
    version = studio.active
    catalog = version.catalog
    campaign = catalog.campaign
    words = [choice.label for choice in catalog.choices]
    words += [category.label for category in catalog.categories]
    words += [region.label for region in catalog.regions]
    words += [campaign.title, campaign.brand, campaign.slogan]
    words += [layout.label for layout in version.layouts.values()]
    words += [offer.title for offer in getattr(catalog, "offers", ())]
    return sorted({w for w in [*words, *extra] if w}, key=len, reverse=True)


def without(text: str, words: list[str]) -> str:
    for word in words:  # longest first, so no shorter label breaks a longer one up
        text = text.replace(word, " ")
    return text


@pytest.fixture
def poster_id(client):
    made = client.post("/api/posters", json={"choices": PICKS, "name": "小满"})
    assert made.status_code == 201, made.get_data(as_text=True)
    return made.get_json()["id"]


def name_step(client, headers):
    # Step two as the server sends it: the name was refused, so the page opens on step two.
    return client.post("/", data={"choices": PICKS, "name": "官方"}, headers=headers)


# (what, how to ask, the status, the word table's id, UI words in Chinese, the same in English)
UI_PAGES = [
    pytest.param(
        lambda client, poster, headers: client.get(f"/?city=wuhan&ref={poster}", headers=headers),
        200, "picker-words",
        ["跳到署名和生成海报", "从 105 件小事里，挑出你想要的美好生活",
         "小满 分享了 TA 的美好生活清单，你也来挑一挑吧。", "挑选", "署名和样式", "搜索选项",
         "我在", "全国", "武汉 · 本地精选", "没有找到相关的选项，换个词试试？", "已选 0/12",
         "最少选 1 项，最多 12 项", "下一步", "生成我的海报", "搜一搜：热干面、旅行…"],
        ["Skip to your name and making the poster",
         "Pick the good life you want from 105 little things",
         "小满 shared their good-life list. Come and pick yours too.", "Pick", "Name and style",
         "Search the list", "I’m in", "All of China", "武汉 · Local picks",
         "Nothing matches. Try another word?", "Picked 0/12", "Pick 1 to 12", "Next",
         "Make my poster", "Search: noodles, travel…"],
        id="picker",
    ),
    pytest.param(
        lambda client, poster, headers: name_step(client, headers),
        422, "picker-words",
        ["‹ 返回挑选", "最后一步：署名和样式", "海报预览", "海报署名（可不填）", "比如：小满",
         "最多 12 个字，会印在海报上", "海报样式", "自动", "按数量挑", "1–2 项", "已选 3/12",
         "名字里不能有「官方」这样的词，换一个吧"],
        ["‹ Back to picking", "Last step: name and style", "Poster preview",
         "Name on the poster (optional)", "For example: Xiaoman",
         "Up to 12 characters, printed on the poster", "Poster style", "Automatic",
         "Chosen by how many you pick", "1–2 picks", "Picked 3/12",
         "Names can't contain words like “官方”. Please choose another one."],
        id="step-two",
    ),
    pytest.param(
        lambda client, poster, headers: client.get(f"/s/{poster}?new=1", headers=headers),
        200, "share-words",
        ["小满的美好生活清单", "海报做好了，快分享给朋友吧", "分享海报", "保存图片", "复制链接",
         "分享到微博", "长按图片保存，或长按识别二维码", "你挑的美好小事，现在就去实现",
         "去看看", "分享链接", "再做一张", "美好生活海报.png"],
        ["小满’s 美好生活清单", "Your poster is ready. Share it with your friends!",
         "Share the poster", "Save the picture", "Copy the link", "Share on Weibo",
         "Press and hold the picture to save it, or to scan its QR code",
         "The good things you picked: make them happen now", "Have a look", "Link to share",
         "Make another one", "good-life-poster.png"],
        id="share-maker",
    ),
    pytest.param(
        lambda client, poster, headers: client.get(f"/s/{poster}", headers=headers),
        200, "share-words",
        ["小满的美好生活清单", "我也要做一张", "TA 挑的美好小事，你也去看看", "去看看",
         "长按图片保存，或长按识别二维码", "保存图片", "复制链接"],
        ["小满’s 美好生活清单", "Make one of my own",
         "The good things they picked: have a look too", "Have a look",
         "Press and hold the picture to save it, or to scan its QR code",
         "Save the picture", "Copy the link"],
        id="share-friend",
    ),
    pytest.param(
        lambda client, poster, headers: client.get("/no-such-page", headers=headers),
        404, None,
        ["这个页面不存在", "这个页面不存在，回首页挑选你的美好生活吧", "去挑选我的美好生活"],
        ["This page doesn't exist", "There's nothing at this address.", "Pick my good life"],
        id="404",
    ),
]  # fmt: skip


@pytest.mark.parametrize(("send", "status", "table", "chinese", "english"), UI_PAGES)
def test_a_page_speaks_chinese_by_default_with_no_english_words(
    client, poster_id, send, status, table, chinese, english
):
    for headers in (ZH, {}, {"Accept-Language": "fr-FR,de;q=0.9"}):
        response = send(client, poster_id, headers)
        assert response.status_code == status
        html = response.get_data(as_text=True)
        assert '<html lang="zh-CN">' in html
        text = visible_words(html)
        for phrase in chinese:
            assert phrase in text, (phrase, text)
        # No English UI word: nothing of four letters or more, once ids and URLs are out.
        assert english_words(text) == [], text
        if table:  # the scripts keep their Chinese source: nothing to look up
            assert script_table(html, table) == {}
    assert "Accept-Language" in response.headers.get("Vary", "") or status != 404


@pytest.mark.parametrize(("send", "status", "table", "chinese", "english"), UI_PAGES)
def test_a_page_speaks_english_if_the_browser_prefers_it(
    client, studio, poster_id, send, status, table, chinese, english
):
    response = send(client, poster_id, EN)
    assert response.status_code == status
    html = response.get_data(as_text=True)
    assert '<html lang="en">' in html
    text = visible_words(html)
    for phrase in english:
        assert phrase in text, (phrase, text)
    # Outside the catalog's own words (and the name 小满, and the refused word 官方 quoted
    # back), nothing is Chinese.
    rest = without(text, catalog_words(studio, "小满", "“官方”"))
    assert not CJK.findall(rest), rest
    if table:
        words = script_table(html, table)
        assert words, "the script's words were not translated"
        for source, translated in words.items():
            assert CJK.search(source)  # keyed by the Chinese the script is written in
            assert not CJK.search(translated), translated
            # The placeholders the script fills survive the translation.
            assert sorted(re.findall(r"%\((\w+)\)s", source)) == sorted(
                re.findall(r"%\((\w+)\)s", translated)
            ), (source, translated)


def script_sources(path: Path) -> set[str]:
    """The words a script looks up: every t("…") in it."""
    return set(re.findall(r'\bt\("([^"]+)"', path.read_text(encoding="utf-8")))


@pytest.mark.parametrize(
    ("script", "words"),
    [("picker.js", "PICKER_SCRIPT_WORDS"), ("share.js", "SHARE_SCRIPT_WORDS")],
)
def test_every_word_a_script_says_is_in_its_pages_table(script, words):
    from posterapp.web import picker, share

    listed = set(getattr(picker, words, None) or getattr(share, words))
    static = Path(i18n.__file__).parent / "static" / script
    used = script_sources(static)
    assert used and used == listed, (used - listed, listed - used)
    # No Chinese of its own outside t(): anything else would never be translated.
    code = re.sub(r'\bt\("[^"]+"', "", static.read_text(encoding="utf-8"))
    code = "\n".join(line for line in code.splitlines() if not line.strip().startswith("//"))
    assert not CJK.findall(code)


def test_the_picker_script_speaks_english_in_an_english_browser(browser, live_server):
    # No bypass_csp: the word table must reach the script under the real policy.
    context = browser.new_context(locale="en-US", viewport={"width": 390, "height": 844})
    try:
        page = context.new_page()
        errors = []
        page.on("console", lambda message: message.type == "error" and errors.append(message.text))
        page.goto(live_server.url + "/")
        assert page.locator("html").get_attribute("lang") == "en"
        assert page.locator("#hint").inner_text() == "Pick 1 more to make your poster"
        page.locator("#city").select_option("wuhan")
        assert page.locator("#group-local h3").inner_text() == "武汉 · Local picks"
        page.locator("#group-local .choice").first.click()
        assert page.locator("#hint").inner_text() == "You can pick 11 more"
        page.locator("#next").click()
        page.locator("#name").fill("一二三四五六七八九十一二三")
        assert page.locator("#name-error").inner_text() == (
            "Names can be up to 12 characters. Please make it shorter (it has 13 now)."
        )
        assert errors == []
    finally:
        context.close()


def test_the_look_alike_table_matches_unicodes_confusables():
    """posterapp/look_alikes.json must be remade (tools/look_alikes.py) after an upgrade."""
    import sys

    from posterapp.selection import LOOK_ALIKES, fold

    from .conftest import ROOT

    sys.path.insert(0, str(ROOT / "tools"))
    try:
        import look_alikes
    finally:
        sys.path.pop(0)
    assert look_alikes.table() == LOOK_ALIKES
    assert fold("发现\u2f63活") == fold("发现生活")  # ⽣ KANGXI RADICAL LIFE
    assert fold("ⅰ") != "ⅰ" and fold("Ol") == "ol"  # a look-alike folds; plain letters stay
