"""Screenshot the numbers page of a campaign running an experiment (docs/console/).

    .venv/bin/python tools/experiment_screen.py [-o docs/console/numbers-experiment.png]

Starts its own server on a temporary SQLite database, with the shipped catalog plus an
experiment (暖阳 against 灯火), makes posters, views, scans and service taps through HTTP,
signs in as a staff account and photographs 数据 in headless Chromium.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from posterapp import staff, urls  # noqa: E402
from posterapp.store import Store  # noqa: E402
from tests.conftest import ARGS, CHROMIUM  # noqa: E402
from tests.servers import start, stop  # noqa: E402

EXPERIMENT = """  experiment:
    id: theme-test
    label: 暖阳还是灯火
    variants:
      - {id: warm, theme: warm, weight: 1}
      - {id: night, theme: night, weight: 1}
"""
NAME, PASSWORD = "li.na", "a long enough password"


class Stay(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def hit(url: str, body: dict | None = None):
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.build_opener(Stay).open(request, timeout=30) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, b""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-o", "--output", default=str(ROOT / "docs/console/numbers-experiment.png"))
    args = parser.parse_args()
    data = Path(tempfile.mkdtemp(prefix="posterapp-experiment-"))
    anchor = "  life_tag_default: 热爱生活的多面手\n"
    text = (ROOT / "choices/default.yaml").read_text(encoding="utf-8")
    (data / "catalog.yaml").write_text(text.replace(anchor, anchor + EXPERIMENT), encoding="utf-8")
    store = Store(f"sqlite:///{data / 'posterapp.db'}")
    store.create_schema()
    staff.add_user(store, NAME, PASSWORD)
    store.close()
    base, process = start(data, workers=1, env={"POSTERAPP_CATALOG": str(data / "catalog.yaml")})
    try:
        picks = [["travel-fund", "family-portrait"], ["wuhan-hot-dry-noodles", "travel-fund"]]
        ids = []
        for i in range(24):
            ref = ids[i // 3] if i > 6 else None
            _, body = hit(f"{base}/api/posters", {"choices": picks[i % 2], "ref": ref})
            ids.append(json.loads(body)["id"])
        for i, poster in enumerate(ids):
            for _ in range(1 + i % 3):
                hit(urls.absolute(base, urls.share_page(poster)))
            if i % 2:
                hit(urls.absolute(base, urls.scan(poster)))
            if i % 4 == 0:
                hit(urls.absolute(base, urls.go_choice(poster, "travel-fund")))
        from playwright.sync_api import sync_playwright

        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="zh-CN")
            page.goto(f"{base}/admin/login")
            page.fill("input[name=name]", NAME)
            page.fill("input[name=password]", PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_url(f"{base}/admin/**")
            page.goto(f"{base}/admin/")
            Path(args.output).parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(
                path=args.output,
                full_page=False,
                clip={"x": 0, "y": 0, "width": 1280, "height": 1300},
            )
            browser.close()
        print(f"wrote {args.output}")
    finally:
        stop(process)


if __name__ == "__main__":
    main()
