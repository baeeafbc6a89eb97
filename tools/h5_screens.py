"""Screenshots of the picker and the share page on phones (390×844 and 320×640, scale 2).

    .venv/bin/python tools/h5_screens.py [--out docs/screens]

Starts two throwaway servers (gunicorn, SQLite in temporary folders; the second allows one
poster every 4 seconds, for the busy state), then drives Debian's Chromium through the states
docs/h5.md lists, as a person would: five picks in Wuhan, a name, a refused name, one too long,
the same refusal without JavaScript, a busy server, and the share page as maker and as friend.
Needs /usr/bin/chromium and Playwright (as tests/test_h5.py).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")

from tests.conftest import ARGS, CHROMIUM  # noqa: E402
from tests.servers import gunicorn  # noqa: E402

SIZES = {390: 844, 320: 640}
PICKS = [
    "过早来碗热干面",
    "登黄鹤楼看江景",
    "吃甜甜的周氏梅花糕",
    "给爸妈买份养老保险",
    "存一笔旅游资金",
]
NAME, REFUSED, TOO_LONG = "小满", "官方", "小满小满小满小满小满小满小"  # the last is 13

# Every picture in the viewport has arrived, the fonts are in, and a frame has been painted.
SETTLED = """async () => {
  await document.fonts.ready;
  const shown = [...document.images].filter(i => {
    const r = i.getBoundingClientRect();
    return r.width > 0 && r.bottom > 0 && r.top < innerHeight;
  });
  if (!shown.every(i => i.complete && i.naturalWidth > 0)) return false;
  await Promise.all(shown.map(i => i.decode().catch(() => null)));
  await new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
  return true;
}"""
PREVIEW_OF = """name => {
  const p = document.getElementById('preview');
  return p.complete && p.naturalWidth === 270 && !p.hasAttribute('aria-busy')
    && new URL(p.src).searchParams.get('name') === name;
}"""
POSTER = """() => {
  const i = document.querySelector('img.poster');
  return i.complete && i.naturalWidth === 1080;
}"""


def phone(browser, width: int, **extra):
    return browser.new_context(
        viewport={"width": width, "height": SIZES[width]}, device_scale_factor=2,
        is_mobile=True, has_touch=True, locale="zh-CN", bypass_csp=True,
        reduced_motion="reduce", **extra,
    )  # fmt: skip


def shoot(page, out: Path, name: str, width: int, settled: bool = True) -> None:
    if settled:  # (without JavaScript the caller has waited by polling)
        page.wait_for_function(SETTLED)
    path = out / f"{name}-{width}.png"
    page.screenshot(path=str(path), animations="disabled")
    print(f"{path.name}: {path.stat().st_size // 1024} KB")


def pick(page, url: str) -> None:
    """Five picks in Wuhan (the city's own come first), then step two with a name."""
    page.goto(url + "/?city=wuhan")
    for label in PICKS:
        page.get_by_label(label).first.check()
    assert page.locator("input[name=choices]:checked").count() == 5


def step_two(page, name: str = NAME) -> None:
    page.locator("#next").click()
    page.locator("#step-2").wait_for(state="visible")
    page.fill("#name", name)
    page.wait_for_function(PREVIEW_OF, arg=name)


def name_error(page, says: str) -> None:
    page.wait_for_function(
        "says => { const e = document.getElementById('name-error');"
        " return !e.hidden && e.textContent.includes(says); }",
        arg=says,
    )


def with_script(browser, url: str, out: Path, width: int) -> None:
    context = phone(browser, width)
    page = context.new_page()
    pick(page, url)
    page.evaluate("window.scrollTo(0, 0)")
    page.wait_for_function("document.getElementById('tab-local').classList.contains('is-current')")
    shoot(page, out, "picker", width)
    step_two(page)
    shoot(page, out, "step2", width)
    page.fill("#name", REFUSED)  # the preview's live check answers with the server's words
    name_error(page, REFUSED)
    shoot(page, out, "step2-error", width)
    page.fill("#name", TOO_LONG)  # counted in the page, nothing sent
    name_error(page, "13")
    shoot(page, out, "step2-too-long", width)
    page.fill("#name", NAME)
    page.wait_for_function(PREVIEW_OF, arg=NAME)
    page.locator("#make").click()
    page.wait_for_url("**/s/*?new=1")
    page.wait_for_function(POSTER)
    shoot(page, out, "share-maker", width)
    page.goto(page.url.split("?")[0])  # as a friend lands after the scan's redirect
    page.wait_for_function(POSTER)
    shoot(page, out, "share-friend", width)
    context.close()


def without_script(browser, url: str, out: Path, width: int) -> None:
    context = phone(browser, width, java_script_enabled=False)
    page = context.new_page()
    pick(page, url)
    page.fill("#name", REFUSED)
    page.locator("#make").click()
    page.wait_for_load_state()
    assert page.locator("#name-error").is_visible()
    page.locator("#name").evaluate("field => field.scrollIntoView({block: 'center'})")
    preview = page.locator("#preview")
    for _ in range(100):  # scripts are off: no wait_for_function, so poll
        if preview.evaluate("img => img.complete && img.naturalWidth") == 270:
            break
        page.wait_for_timeout(100)
    shoot(page, out, "error-nojs", width, settled=False)
    context.close()


def busy(browser, url: str, out: Path, width: int) -> None:
    context = phone(browser, width)
    page = context.new_page()
    pick(page, url)
    step_two(page)
    # Someone at this address just made one: the limit is spent (or already was).
    request = urllib.request.Request(
        url + "/api/posters", data=json.dumps({"choices": ["travel-fund"]}).encode(),
        headers={"Content-Type": "application/json"},
    )  # fmt: skip
    try:
        urllib.request.urlopen(request).close()
    except urllib.error.HTTPError as error:
        if error.code != 429:
            raise
    page.locator("#make").click()
    page.wait_for_function("document.getElementById('hint').textContent.includes('秒后重试')")
    shoot(page, out, "busy-429", width)
    assert "/s/" not in page.url, "it retried before the picture was taken"
    context.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default=str(ROOT / "docs" / "screens"))
    out = Path(parser.parse_args().out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    from playwright.sync_api import sync_playwright

    strict = {"POSTERAPP_RATE_LIMIT_POSTERS": "1 per 4 seconds"}
    with (
        tempfile.TemporaryDirectory() as one,
        tempfile.TemporaryDirectory() as two,
        gunicorn(Path(one)) as url,
        gunicorn(Path(two), workers=1, env=strict) as strict_url,
        sync_playwright() as playwright,
    ):
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        for width in SIZES:
            with_script(browser, url, out, width)
            without_script(browser, url, out, width)
            busy(browser, strict_url, out, width)
        browser.close()


if __name__ == "__main__":
    main()
