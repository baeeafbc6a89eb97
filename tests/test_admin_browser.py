"""Staff edit a label, preview it and publish it, in real headless Chromium."""

from __future__ import annotations

import json
import urllib.request

import pytest

from posterapp import staff
from posterapp.store import Store

from .servers import gunicorn

NAME, PASSWORD = "wang.fang", "a long enough password"


@pytest.fixture(scope="module")
def console_server(tmp_path_factory):
    """A server of its own with one staff account: publishing must not disturb other tests."""
    data_dir = tmp_path_factory.mktemp("console")
    store = Store(f"sqlite:///{data_dir / 'posterapp.db'}")
    store.create_schema()
    staff.add_user(store, NAME, PASSWORD)
    store.close()
    with gunicorn(data_dir) as url:
        yield url


@pytest.mark.parametrize(
    "viewport", [{"width": 1280, "height": 900}, {"width": 390, "height": 844}]
)
def test_edit_preview_publish(browser, console_server, viewport):
    old, new = (
        ("过早来碗热干面", "过早就要热干面")
        if viewport["width"] > 500
        else ("过早就要热干面", "过早吃碗热干面")
    )
    # Playwright's wait_for_function evaluates strings, which the pages' CSP rightly forbids.
    context = browser.new_context(viewport=viewport, bypass_csp=True, locale="zh-CN")
    page = context.new_page()
    page.goto(console_server + "/admin/catalog")
    assert "/admin/login" in page.url  # the console needs a login
    page.fill("input[name=name]", NAME)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/admin/catalog")

    page.wait_for_function(
        "document.getElementById('check-summary').textContent.startsWith('没有问题')"
    )
    page.click("#tab-yaml")  # the expert view of the same draft
    source = page.locator("#source")
    text = source.input_value()
    assert f"label: {old}" in text
    source.fill(text.replace(f"label: {old}", f"label: {new}"))
    page.wait_for_function(
        "document.getElementById('check-summary').textContent.startsWith('没有问题')"
    )
    page.click("#preview-button")
    page.wait_for_function("document.querySelectorAll('#previews img').length === 3")
    assert page.locator("#previews img").first.get_attribute("alt") == "主角排版预览"

    # A mistake is shown with its line before anything is published.
    source.fill(text.replace(f"label: {old}", "label: no\n    lable: x"))
    page.wait_for_function("document.querySelectorAll('#check-problems li').length > 0")
    problems = page.locator("#check-problems").inner_text()
    assert "行（选项「no」）：没有 lable 这一项，是不是想写 label？" in problems
    source.fill(text.replace(f"label: {old}", f"label: {new}"))

    page.click("#publish-button")
    page.wait_for_url("**/admin/history")
    assert "已发布版本" in page.locator(".flash").inner_text()
    assert page.locator(".history li.is-live").count() == 1
    context.close()

    request = urllib.request.Request(
        console_server + "/api/catalog", headers={"Cache-Control": "no-cache"}
    )
    import time

    deadline = time.monotonic() + 5  # every worker switches within a second
    while True:
        with urllib.request.urlopen(request) as response:
            catalog = json.load(response)
        labels = {c["id"]: c["label"] for c in catalog["choices"]}
        if labels["wuhan-hot-dry-noodles"] == new or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert labels["wuhan-hot-dry-noodles"] == new


def sign_in(context, url):
    page = context.new_page()
    page.goto(url + "/admin/catalog")
    page.fill("input[name=name]", NAME)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/admin/catalog")
    page.wait_for_function("document.getElementById('check-summary').textContent !== '正在检查…'")
    page.click("#tab-yaml")
    return page


def saved(page):
    page.wait_for_function(
        "document.getElementById('save-state').textContent.startsWith('草稿已保存')"
    )


def test_a_draft_survives_a_reload_and_an_ended_session(browser, console_server):
    context = browser.new_context(
        viewport={"width": 1280, "height": 900}, bypass_csp=True, locale="zh-CN"
    )
    page = sign_in(context, console_server)
    source = page.locator("#source")
    text = source.input_value()
    source.fill(text.replace("label: 买一袋金陵大肉包", "label: 买两袋金陵大肉包"))
    saved(page)
    page.reload()
    assert "label: 买两袋金陵大肉包" in page.locator("#source").input_value()
    assert page.locator("#draft-note").is_visible()
    # Let the page's first check finish: its answer would set the session cookie again.
    page.wait_for_function(
        "document.getElementById('check-summary').textContent.startsWith('没有问题')"
    )
    page.wait_for_load_state("networkidle")

    # The session ends (cookies gone): the next save says so in red and keeps the text.
    context.clear_cookies()
    source = page.locator("#source")
    later = source.input_value().replace("label: 买两袋金陵大肉包", "label: 买三袋金陵大肉包")
    source.fill(later)
    page.wait_for_selector("#session-box:not([hidden])")
    assert "登录已过期" in page.locator("#check-summary").inner_text()
    assert page.locator("#check").get_attribute("class") == "check failed"
    assert page.locator("#source").input_value() == later
    # Sign in again in another tab, come back, carry on: the text reaches the server.
    other = sign_in(context, console_server)
    other.close()
    page.click("#resume-button")
    saved(page)
    assert page.locator("#session-box").is_hidden()
    again = context.new_page()
    again.goto(console_server + "/admin/catalog")
    assert "label: 买三袋金陵大肉包" in again.locator("#source").input_value()
    # Give the draft up, so other tests start from the live catalog.
    again.on("dialog", lambda dialog: dialog.accept())
    with again.expect_navigation():
        again.click("#discard-button")
    context.close()


def test_a_stale_publish_is_merged_in_the_page(browser, console_server):
    mine = browser.new_context(
        viewport={"width": 1280, "height": 900}, bypass_csp=True, locale="zh-CN"
    )
    theirs = browser.new_context(
        viewport={"width": 1280, "height": 900}, bypass_csp=True, locale="zh-CN"
    )
    page = sign_in(mine, console_server)
    text = page.locator("#source").input_value()
    page.locator("#source").fill(
        text.replace("label: 吃甜甜的周氏梅花糕", "label: 吃一块周氏梅花糕")
    )
    saved(page)
    # Someone else (another machine, same account here) publishes a different line first.
    other = sign_in(theirs, console_server)
    other.on("dialog", lambda dialog: dialog.accept())
    if other.locator("#discard-button").count():
        with other.expect_navigation():
            other.click("#discard-button")
        other.wait_for_function(
            "document.getElementById('check-summary').textContent !== '正在检查…'"
        )
    theirs_text = other.locator("#source").input_value()
    assert "吃甜甜的周氏梅花糕" in theirs_text
    other.locator("#source").fill(
        theirs_text.replace("label: 给爸妈买份养老保险", "label: 给爸妈买份健康保险")
    )
    other.click("#publish-button")
    other.wait_for_url("**/admin/history")
    theirs.close()

    page.click("#publish-button")
    page.wait_for_selector("#conflict:not([hidden])")
    assert "自动合并" in page.locator("#conflict-message").inner_text()
    merged = page.locator("#source").input_value()
    assert "吃一块周氏梅花糕" in merged and "给爸妈买份健康保险" in merged
    page.wait_for_function(
        "document.getElementById('check-summary').textContent.startsWith('没有问题')"
    )
    page.click("#publish-button")
    page.wait_for_url("**/admin/history")
    mine.close()
    with urllib.request.urlopen(console_server + "/api/catalog") as response:
        labels = {c["label"] for c in json.load(response)["choices"]}
    assert {"吃一块周氏梅花糕", "给爸妈买份健康保险"} <= labels


def source_has(page, text):
    page.wait_for_function(
        "text => document.getElementById('source').value.includes(text)", arg=text
    )


def test_staff_edit_add_reorder_and_publish_in_the_form(browser, console_server):
    context = browser.new_context(
        viewport={"width": 1280, "height": 900}, bypass_csp=True, locale="zh-CN"
    )
    page = sign_in(context, console_server)
    page.on("dialog", lambda dialog: dialog.accept())
    if page.locator("#discard-button").count():  # start from the live catalog
        with page.expect_navigation():
            page.click("#discard-button")
    page.click("#tab-form")
    page.wait_for_selector("#choice-list li")
    rows = page.locator("#choice-list li")
    first_label = rows.first.inner_text()
    rows.first.locator(".choice-pick").click()
    assert page.locator("#f-label").input_value() in first_label

    # A per-field check as staff type, in plain words.
    page.fill("#f-label", "过早" * 21)
    assert "名称太长了：最多 40 个字，现在有 42 个字" in page.locator("#p-label").inner_text()
    # Change a label: the YAML (same draft) follows, its comments kept.
    page.fill("#f-label", "过早必吃热干面")
    source_has(page, "    label: 过早必吃热干面\n")
    assert "# ───────── 城市美食" in page.locator("#source").input_value()

    # Add a choice with an emoji, right after the first.
    page.click("#add-choice")
    page.wait_for_function("document.getElementById('choice-count').textContent === '106'")
    page.fill("#f-label", "去东湖骑绿道")
    page.fill("#f-icon", "🚲")
    page.fill("#f-id", "wuhan-east-lake-bike")
    page.select_option("#f-region", "wuhan")
    source_has(page, "  - id: wuhan-east-lake-bike\n    label: 去东湖骑绿道\n")
    source_has(page, 'icon: "🚲"')
    source_has(page, 'region: wuhan\n    icon: "🚲"')

    # Reorder by keyboard: the new choice (second) moves up to first.
    page.locator("#choice-list li").nth(1).locator(".move-up").focus()
    page.keyboard.press("Enter")
    page.wait_for_function(
        "document.querySelector('#choice-list li').textContent.includes('去东湖骑绿道')"
    )
    # … and by drag and drop: the third row onto the first.
    third = page.locator("#choice-list li").nth(2).locator(".choice-pick").text_content()
    page.drag_and_drop("#choice-list li:nth-child(3) .drag-handle", "#choice-list li:nth-child(1)")
    page.wait_for_function(
        "t => document.querySelector('#choice-list li .choice-pick').textContent === t", arg=third
    )
    page.wait_for_function(
        "document.getElementById('check-summary').textContent.startsWith('没有问题')"
    )
    page.click("#publish-button")
    page.wait_for_url("**/admin/history")
    context.close()

    with urllib.request.urlopen(console_server + "/api/catalog") as response:
        choices = json.load(response)["choices"]
    by_id = {c["id"]: c for c in choices}
    assert by_id["wuhan-east-lake-bike"]["label"] == "去东湖骑绿道"
    assert by_id["wuhan-east-lake-bike"]["icon"] == "🚲"
    assert by_id["wuhan-hot-dry-noodles"]["label"] == "过早必吃热干面"
    assert [c["id"] for c in choices[:3]] == [
        "wuhan-hubu-alley-doupi",
        "wuhan-east-lake-bike",
        "wuhan-hot-dry-noodles",
    ]


def icon_png(colour: tuple[int, int, int]) -> bytes:
    """A small icon as staff would upload one: a filled circle on a transparent square."""
    import io

    from PIL import Image, ImageDraw

    image = Image.new("RGBA", (96, 96), (0, 0, 0, 0))
    ImageDraw.Draw(image).ellipse((8, 8, 88, 88), fill=(*colour, 255))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def upload_in(page, form: str, name: str, data: bytes) -> str:
    """Upload an image through a console upload form; return its uploads/… path."""
    import re

    page.set_input_files(
        f"{form} input[type=file]", files=[{"name": name, "mimeType": "image/png", "buffer": data}]
    )
    page.click(f"{form} button[type=submit]")
    page.wait_for_url("**/admin/uploads")
    flash = page.locator(".flash").inner_text()
    assert f"已上传「{name}」" in flash
    return re.search(r"icon: (uploads/[0-9a-f]+\.png)", flash).group(1)


def start_from_live(page):
    """Give up any draft this account left, so the test starts from the live catalog."""
    page.on("dialog", lambda dialog: dialog.accept())
    if page.locator("#discard-button").count():
        with page.expect_navigation():
            page.click("#discard-button")
    page.wait_for_function("document.getElementById('check-summary').textContent !== '正在检查…'")


def open_editor_from_nav(page):
    page.click(".admin-nav a:text-is('编辑目录')")
    page.wait_for_url("**/admin/catalog")
    page.wait_for_function("document.getElementById('check-summary').textContent !== '正在检查…'")


def live_catalog(url, until, seconds=5):
    """The public catalog once ``until(catalog)`` holds (every worker switches within a second)."""
    import time

    request = urllib.request.Request(url + "/api/catalog", headers={"Cache-Control": "no-cache"})
    deadline = time.monotonic() + seconds
    while True:
        with urllib.request.urlopen(request) as response:
            catalog = json.load(response)
        if until(catalog) or time.monotonic() > deadline:
            return catalog
        time.sleep(0.2)


def test_add_a_choice_with_an_uploaded_icon(browser, console_server):
    context = browser.new_context(
        viewport={"width": 1280, "height": 900}, bypass_csp=True, locale="zh-CN"
    )
    page = sign_in(context, console_server)
    start_from_live(page)

    # Upload in the 图片库, under a Chinese name, as it comes off a phone.
    page.click(".admin-nav a:text-is('图片库')")
    page.wait_for_url("**/admin/uploads")
    path = upload_in(page, "form[enctype]", "小笼包.png", icon_png((214, 120, 60)))
    thumbnail = page.locator(".uploads-library img[alt='小笼包.png']")
    assert thumbnail.is_visible()
    page.wait_for_function(
        "img => img.complete && img.naturalWidth === 96", arg=thumbnail.element_handle()
    )
    assert f"icon: {path}" in page.locator(".uploads-library").inner_text()

    # Add a choice in the form and pick the image in its icon picker.
    open_editor_from_nav(page)
    page.click("#tab-form")
    page.wait_for_selector("#choice-list li")
    count = int(page.locator("#choice-count").inner_text())
    page.locator("#choice-list li").first.locator(".choice-pick").click()
    page.click("#add-choice")
    page.wait_for_function(
        "n => document.getElementById('choice-count').textContent === String(n)", arg=count + 1
    )
    page.fill("#f-label", "来一笼南翔小笼包")
    page.fill("#f-id", "shanghai-nanxiang-xiaolongbao")
    page.select_option("#f-region", "shanghai")
    assert page.locator(f"#f-upload option[value='{path}']").count() == 1
    page.select_option("#f-upload", path)
    assert page.locator("#f-icon").input_value() == path
    source_has(page, "  - id: shanghai-nanxiang-xiaolongbao\n    label: 来一笼南翔小笼包\n")
    source_has(page, f'icon: "{path}"')
    # The picked image shows beside the field and in the list.
    page.wait_for_function("document.querySelector('#icon-preview img')?.naturalWidth === 96")
    row = page.locator("#choice-list li.is-current")
    assert "来一笼南翔小笼包" in row.inner_text()
    assert row.locator("img").count() == 1
    page.wait_for_function(
        "document.getElementById('check-summary').textContent.startsWith('没有问题')"
    )
    page.click("#publish-button")
    page.wait_for_url("**/admin/history")
    assert "已发布版本" in page.locator(".flash").inner_text()
    context.close()

    def has_it(catalog):
        return any(c["id"] == "shanghai-nanxiang-xiaolongbao" for c in catalog["choices"])

    catalog = live_catalog(console_server, has_it)
    by_id = {c["id"]: c for c in catalog["choices"]}
    choice = by_id["shanghai-nanxiang-xiaolongbao"]
    assert choice["label"] == "来一笼南翔小笼包"
    assert choice["icon"] == path
    assert choice["icon_url"].endswith("/" + path)
    with urllib.request.urlopen(choice["icon_url"]) as response:
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("image/")
        assert response.read()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_draft_survives_an_upload(browser, console_server):
    context = browser.new_context(
        viewport={"width": 1280, "height": 900}, bypass_csp=True, locale="zh-CN"
    )
    page = sign_in(context, console_server)
    start_from_live(page)
    page.click("#tab-form")
    page.wait_for_selector("#choice-list li")
    page.locator("#choice-list li").first.locator(".choice-pick").click()
    before = page.locator("#f-label").input_value()
    edited = before + "呀"
    # Type an edit, and at once (no waiting for the save) upload an icon in the editor.
    page.fill("#f-label", edited)
    path = upload_in(page, "#upload-form", "汤包.png", icon_png((90, 150, 210)))

    # Back in the editor: the edit is there, as a draft, in the form and in the YAML.
    open_editor_from_nav(page)
    for attempt in ("after the upload", "after a reload"):
        assert page.locator("#draft-note").is_visible(), attempt
        page.click("#tab-form")
        page.wait_for_selector("#choice-list li")
        assert edited in page.locator("#choice-list li").first.inner_text(), attempt
        assert f"label: {edited}\n" in page.locator("#source").input_value(), attempt
        # … and the new image is offered in the icon picker.
        assert page.locator(f"#f-upload option[value='{path}']").count() == 1, attempt
        page.reload()
        page.wait_for_function(
            "document.getElementById('check-summary').textContent !== '正在检查…'"
        )
    # Nothing was published: the live catalog still has the old label.
    labels = {c["label"] for c in live_catalog(console_server, lambda c: True)["choices"]}
    assert before in labels and edited not in labels
    with page.expect_navigation():
        page.click("#discard-button")
    context.close()
