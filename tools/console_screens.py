"""Screenshots of every console page, on a laptop (1280×900) and a phone (390×844).

    .venv/bin/python tools/console_screens.py [--out docs/console]

Starts a throwaway server (gunicorn, SQLite in a temporary folder), makes a small campaign
through the public pages (posters, share views, scans, friends' posters, taps through
/go/<poster>/<choice>), uploads a few icons, publishes a few versions and provokes a
conflict, then drives Debian's Chromium through the console as staff would. Needs
/usr/bin/chromium and Playwright (as tests/test_admin_browser.py).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import sys
import tempfile
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")

from posterapp import staff, urls  # noqa: E402
from posterapp.store import Store  # noqa: E402
from tests.conftest import ARGS, CHROMIUM  # noqa: E402
from tests.servers import gunicorn  # noqa: E402

ADMIN, EDITOR, PASSWORD = "wang.fang", "li.na", "a long enough password"
SIZES = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}
FOOD = [
    "wuhan-hot-dry-noodles", "wuhan-hubu-alley-doupi", "wuhan-duck-neck", "nanjing-big-buns",
    "nanjing-plum-blossom-cake", "shanghai-xiaolongbao", "beijing-roast-duck",
    "chongqing-hotpot", "chengdu-chuanchuan", "guangzhou-morning-tea", "xian-roujiamo",
]  # fmt: skip
CITIES = ["wuhan", "wuhan", "nanjing", "shanghai", "beijing", "chengdu", None]


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def fetch(url: str, data: dict | None = None) -> tuple[int, bytes]:
    """One request from a fresh visitor (no cookies); redirects are not followed."""
    body = json.dumps(data).encode() if data is not None else None
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.build_opener(NoRedirect).open(request) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def campaign(url: str) -> None:
    """Posters, views, scans, friends' posters and taps: enough for every chart to have bars."""
    rng = random.Random(12)
    made: list[tuple[str, list[str]]] = []
    for n in range(28):
        picks = rng.sample(FOOD, rng.randint(3, 6))
        body = {"choices": picks, "name": rng.choice(["小满", "阿杰", "朵朵", "老王", "Momo"])}
        city = rng.choice(CITIES)
        if city:
            body["city"] = city
        if made and n > 6:
            body["ref"] = rng.choice(made)[0]  # made after a friend's poster
        status, answer = fetch(url + "/api/posters", body)
        assert status == 201, (status, answer[:300])
        made.append((json.loads(answer)["id"], picks))
    for poster_id, picks in made:
        for _ in range(rng.randint(1, 5)):
            fetch(urls.absolute(url, urls.share_page(poster_id)))
        for _ in range(rng.randint(0, 3)):
            fetch(urls.absolute(url, urls.scan(poster_id)))
        for choice in rng.sample(picks, rng.randint(0, 2)):
            fetch(urls.absolute(url, urls.go_choice(poster_id, choice)))


def icon(colour: tuple[int, int, int], shape: str) -> bytes:
    from PIL import Image, ImageDraw

    image = Image.new("RGBA", (128, 128), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    if shape == "circle":
        draw.ellipse((10, 10, 118, 118), fill=(*colour, 255))
        draw.ellipse((40, 40, 88, 88), fill=(255, 244, 220, 255))
    elif shape == "bowl":
        draw.pieslice((8, 20, 120, 120), 0, 180, fill=(*colour, 255))
        draw.rectangle((8, 66, 120, 72), fill=(90, 60, 40, 255))
    else:
        draw.rounded_rectangle((14, 14, 114, 114), 24, fill=(*colour, 255))
        draw.polygon([(64, 30), (98, 96), (30, 96)], fill=(255, 255, 255, 255))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


UPLOADS = [
    ("小笼包.png", (214, 120, 60), "circle"),
    ("热干面 碗.png", (200, 150, 60), "bowl"),
    ("东湖绿道.png", (60, 150, 110), "square"),
]


def checked(page) -> None:
    page.wait_for_function("document.getElementById('check-summary').textContent !== '正在检查…'")


def sign_in(context, url: str, name: str):
    page = context.new_page()
    page.goto(url + "/admin/login")
    page.fill("input[name=name]", name)
    page.fill("input[name=password]", PASSWORD)
    page.click("form button[type=submit]")
    page.wait_for_url(lambda u: "/admin/login" not in u)
    return page


def label_line(text: str, word: str) -> str:
    return next(ln.strip() for ln in text.split("\n") if "label:" in ln and word in ln)


def publish_yaml(page, url: str, old: str, new: str) -> None:
    page.goto(url + "/admin/catalog")
    checked(page)
    page.click("#tab-yaml")
    text = page.locator("#source").input_value()
    assert old in text, old
    page.locator("#source").fill(text.replace(old, new, 1))
    page.wait_for_function(
        "document.getElementById('check-summary').textContent.startsWith('没有问题')"
    )
    page.click("#publish-button")
    page.wait_for_url("**/admin/history")


def prepare(browser, url: str) -> None:
    """The console's own history: uploads, a few publishes, an editor's draft in conflict."""
    context = browser.new_context(viewport=SIZES["desktop"], bypass_csp=True, locale="zh-CN")
    page = sign_in(context, url, ADMIN)
    page.goto(url + "/admin/uploads")
    paths = []
    for name, colour, shape in UPLOADS:
        page.set_input_files(
            "form[enctype] input[type=file]",
            files=[{"name": name, "mimeType": "image/png", "buffer": icon(colour, shape)}],
        )
        page.click("form[enctype] button[type=submit]")
        page.wait_for_url("**/admin/uploads")
        paths.append(
            page.locator(".flash").inner_text().split("icon: ")[1].split(" ")[0].rstrip("。")
        )
    publish_yaml(page, url, "label: 过早来碗热干面", "label: 过早就要热干面")
    page.goto(url + "/admin/catalog")
    checked(page)
    text = page.locator("#source").input_value()
    start = text.index("  - id: shanghai-xiaolongbao")
    block = text[start : text.index("\n  - id:", start + 5)]
    lines = [ln for ln in block.split("\n") if not ln.strip().startswith("icon:")]
    lines.insert(4, f'    icon: "{paths[0]}"')
    publish_yaml(page, url, block, "\n".join(lines))
    publish_yaml(page, url, "label: 给爸妈买份养老保险", "label: 给爸妈买份健康保险")
    page.goto(url + "/admin/accounts")
    page.fill("section.uploads input[name=name]", "zhao.lei")
    page.select_option("section.uploads select[name=role]", "viewer")
    page.fill("section.uploads input[name=password]", PASSWORD)
    page.click("section.uploads button[type=submit]")
    page.wait_for_url("**/admin/accounts")
    context.close()


def shoot(page, path: Path, full: bool = False) -> None:
    page.wait_for_load_state("networkidle")
    page.screenshot(path=str(path), full_page=full)
    size = path.stat().st_size
    print(f"{path.name}: {size // 1024} KB")


def screens(browser, url: str, out: Path, size: str) -> None:
    viewport = SIZES[size]
    context = browser.new_context(
        viewport=viewport, bypass_csp=True, locale="zh-CN", device_scale_factor=1,
        is_mobile=size == "phone", has_touch=size == "phone",
    )  # fmt: skip
    page = context.new_page()
    page.goto(url + "/admin/catalog")
    shoot(page, out / f"login-{size}.png")
    page.fill("input[name=name]", ADMIN)
    page.fill("input[name=password]", PASSWORD)
    page.click("form button[type=submit]")
    page.wait_for_url("**/admin/catalog")

    page.goto(url + "/admin")
    shoot(page, out / f"numbers-{size}.png")
    page.evaluate("document.querySelector('.charts').scrollIntoView()")
    shoot(page, out / f"numbers-charts-{size}.png")

    # The form: pick the choice with an uploaded icon.
    page.goto(url + "/admin/catalog")
    checked(page)
    page.click("#tab-form")
    page.wait_for_selector("#choice-list li")
    row = page.locator("#choice-list li", has_text="小笼包").first
    row.scroll_into_view_if_needed()
    row.locator(".choice-pick").click()
    page.wait_for_timeout(300)
    page.evaluate("window.scrollTo(0, 0)")
    shoot(page, out / f"editor-form-{size}.png")
    if size == "phone":
        page.evaluate("document.getElementById('choice-form').scrollIntoView()")
        shoot(page, out / f"editor-form-fields-{size}.png")

    # A problem, shown where it is: a label that is too long, then a YAML typo.
    page.fill(
        "#f-label",
        "来一笼皮薄汤多的南翔小笼包，蘸点香醋，配一碗鸡鸭血汤，再加两个生煎馒头，最后去城隍庙逛逛吃梨膏糖",
    )
    page.evaluate("document.getElementById('f-label').scrollIntoView({block: 'center'})")
    page.wait_for_timeout(200)
    shoot(page, out / f"editor-form-problem-{size}.png")
    page.fill("#f-label", "来一笼南翔小笼包")
    page.wait_for_function(
        "document.getElementById('source').value.includes('label: 来一笼南翔小笼包\\n')"
    )
    page.wait_for_load_state("networkidle")
    page.click("#tab-yaml")
    text = page.locator("#source").input_value()
    page.locator("#source").fill(
        text.replace("label: 买一袋金陵大肉包", "label: 买一袋金陵大肉包\n    lable: 大肉包", 1)
    )
    page.wait_for_function("document.querySelectorAll('#check-problems li').length > 0")
    page.click("#check-problems li button")  # jumps to the line in the text box
    page.evaluate("document.getElementById('check').scrollIntoView({block: 'end'})")
    shoot(page, out / f"editor-yaml-problem-{size}.png")
    page.locator("#source").fill(text)
    page.wait_for_function(
        "document.getElementById('check-summary').textContent.startsWith('没有问题')"
    )
    page.evaluate("window.scrollTo(0, 0)")
    shoot(page, out / f"editor-yaml-{size}.png")
    page.on("dialog", lambda dialog: dialog.accept())
    if page.locator("#discard-button").count():
        with page.expect_navigation():
            page.click("#discard-button")
        checked(page)

    # A conflict: a draft here; the same lines published differently from another computer.
    page.click("#tab-yaml")
    text = page.locator("#source").input_value()
    cake, care = label_line(text, "梅花糕"), label_line(text, "给爸妈买份")
    page.locator("#source").fill(
        text.replace(cake, "label: 吃一块刚出炉的梅花糕").replace(care, "label: 给爸妈买份重疾保险")
    )
    page.wait_for_function(
        "document.getElementById('save-state').textContent.startsWith('草稿已保存')"
    )
    other = browser.new_context(viewport=SIZES["desktop"], bypass_csp=True, locale="zh-CN")
    them = sign_in(other, url, ADMIN)
    them.goto(url + "/admin/catalog")
    checked(them)
    them.on("dialog", lambda dialog: dialog.accept())
    with them.expect_navigation():
        them.click("#discard-button")
    checked(them)
    publish_yaml(
        them,
        url,
        cake,
        "label: " + {"desktop": "来一块周氏梅花糕", "phone": "尝一块周氏梅花糕"}[size],
    )
    other.close()
    page.click("#publish-button")
    page.wait_for_selector("#conflict:not([hidden])")
    page.evaluate("document.getElementById('conflict').scrollIntoView()")
    shoot(page, out / f"conflict-{size}.png")
    if page.locator("#discard-button").count() == 0:
        page.reload()
        checked(page)
    if page.locator("#discard-button").count():
        with page.expect_navigation():
            page.click("#discard-button")

    page.goto(url + "/admin/uploads")
    shoot(page, out / f"uploads-{size}.png")
    page.goto(url + "/admin/history")
    shoot(page, out / f"history-{size}.png")
    page.locator(".history li").nth(2).locator("button").click()
    page.wait_for_selector(".confirm")
    shoot(page, out / f"rollback-confirm-{size}.png")
    page.goto(url + "/admin/accounts")
    shoot(page, out / f"accounts-{size}.png")
    page.goto(url + "/admin/audit")
    shoot(page, out / f"audit-{size}.png")
    context.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default=str(ROOT / "docs" / "console"))
    out = Path(parser.parse_args().out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as folder:
        data_dir = Path(folder)
        store = Store(f"sqlite:///{data_dir / 'posterapp.db'}")
        store.create_schema()
        staff.add_user(store, ADMIN, PASSWORD, "admin")
        staff.add_user(store, EDITOR, PASSWORD, "editor")
        store.close()
        with gunicorn(data_dir) as url, sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            campaign(url)
            prepare(browser, url)
            for size in SIZES:
                screens(browser, url, out, size)
            browser.close()


if __name__ == "__main__":
    main()
