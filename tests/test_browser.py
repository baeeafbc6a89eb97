"""The end user's journey in real headless Chromium on a phone-sized screen."""

from __future__ import annotations

import pytest

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def phone(browser):
    # Playwright's wait_for_function evaluates strings, which the pages' CSP rightly forbids.
    context = browser.new_context(
        viewport=PHONE,
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
        locale="zh-CN",
        bypass_csp=True,
    )
    page = context.new_page()
    yield page
    context.close()


def test_pick_make_see_share_and_make_my_own(phone, live_server):
    page = phone
    page.goto(live_server.url + "/")
    next_step = page.locator("#next")
    assert next_step.is_disabled()
    assert page.locator("#hint").inner_text() == "再选 1 项就能生成"

    for label in ("过早来碗热干面", "存一笔旅游资金", "给爸妈买份养老保险"):
        page.get_by_label(label).check()  # native checkboxes, found by their labels
    assert page.locator("#count").inner_text() == "3"
    assert next_step.is_enabled()
    # Search narrows the list without losing the picks.
    page.fill("#search", "樱花")
    assert page.locator(".choice:not([hidden])").count() == 1
    page.fill("#search", "")
    next_step.click()  # step two: name and layout
    page.fill("input[name=name]", "小满")
    page.locator("#make").click()

    page.wait_for_url("**/s/*?new=1")
    poster_id = page.url.split("/s/")[1].split("?")[0]
    poster = page.locator("img.poster")
    poster.wait_for()
    page.wait_for_function("document.querySelector('img.poster').naturalWidth === 1080")
    assert "小满的美好生活清单" in poster.get_attribute("alt")
    assert page.locator("#save-hint").is_visible()

    page.locator("#make-own").click()
    page.wait_for_url(f"**/?ref={poster_id}")
    assert "小满 分享了 TA 的美好生活清单" in page.locator(".referral").inner_text()
    assert page.locator('input[name="ref"]').get_attribute("value") == poster_id


def test_the_maximum_is_enforced_while_picking(phone, live_server):
    page = phone
    page.goto(live_server.url + "/")
    boxes = page.locator('input[name="choices"]')
    for index in range(12):
        boxes.nth(index).check()
    assert page.locator("#hint").inner_text() == "已选满 12 项"
    assert boxes.nth(12).is_disabled()
    boxes.nth(0).uncheck()
    assert boxes.nth(12).is_enabled()
    # Layouts that cannot take 11 picks are switched off.
    assert page.locator('input[name="layout"][value="hero"]').is_disabled()
    assert page.locator('input[name="layout"][value="grid"]').is_enabled()


def test_choosing_a_city_brings_its_choices_first_in_the_browser(phone, live_server):
    page = phone
    page.goto(live_server.url + "/")
    page.get_by_label("过早来碗热干面").check()
    page.select_option("#city", "nanjing")
    local = page.locator("#group-local")
    assert local.is_visible()
    assert "南京 · 本地精选" in local.locator("h3").inner_text()
    assert local.locator(".choice").count() == 6
    assert page.get_by_label("过早来碗热干面").is_checked()  # picks survive the move


def test_the_share_page_in_wechat_shows_the_long_press_hint(browser, live_server):
    context = browser.new_context(
        viewport=PHONE,
        user_agent="Mozilla/5.0 (Linux; Android 13) AppleWebKit/537.36 Chrome/116 Mobile "
        "MicroMessenger/8.0.43",
        locale="zh-CN",  # the words follow the browser's language (WeChat in China: Chinese)
    )
    page = context.new_page()
    page.goto(live_server.url + "/")
    page.get_by_label("存一笔旅游资金").check()
    page.locator("#next").click()
    page.locator("#make").click()
    page.wait_for_url("**/s/*")
    assert page.evaluate("document.body.classList.contains('in-wechat')")
    assert not page.locator("#download").is_visible()
    assert page.locator("#save-hint").inner_text() == "长按图片保存，或长按识别二维码"
    context.close()


def test_the_pages_work_under_their_content_security_policy(browser, live_server):
    """With the CSP enforced, the pages load their scripts and styles and violate nothing."""
    context = browser.new_context(viewport=PHONE)
    page = context.new_page()
    problems = []
    page.on("console", lambda message: problems.append(message.text)
            if message.type == "error" else None)  # fmt: skip
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.goto(live_server.url + "/")
    page.get_by_label("存一笔旅游资金").check()
    assert page.locator("#count").inner_text() == "1"  # picker.js ran
    accent = page.locator("#group-food").evaluate(
        "element => getComputedStyle(element).getPropertyValue('--accent').trim()"
    )
    assert accent.upper() == "#C0392B"  # the nonce'd category colours applied
    page.locator("#next").click()
    page.locator("#make").click()
    page.wait_for_url("**/s/*")
    page.locator("img.poster").wait_for()
    assert problems == []
    context.close()
