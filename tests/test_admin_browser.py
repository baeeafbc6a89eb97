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
    context = browser.new_context(viewport=viewport, bypass_csp=True)
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
    assert "unknown key 'lable'" in page.locator("#check-problems").inner_text()
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
