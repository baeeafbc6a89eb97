"""How fast the H5 pages are on a slow phone network, and how fast the live preview renders.

    .venv/bin/python bench/h5.py [--runs 5] [--previews 200] [--json]

1. The preview (/preview.jpg): p50 and p95 of the whole request through Flask (validate,
   render, downscale to 270 px, JPEG), each with a different name so nothing is reused.
2. Real Chromium (Debian's, via Playwright) against a real gunicorn server, throttled with
   the DevTools protocol to slow 4G (400 kbit/s down, 400 kbit/s up, 400 ms round trip) and
   a 4× slower CPU, cold HTTP cache every run: DOMContentLoaded and Largest Contentful Paint of
   the picker and of the share page as a friend sees it, and the first working tap on the
   picker (the moment picker.js has wired the tiles: performance mark "picker-ready").
Each load runs in a renderer whose fonts are warm (as a phone's system fonts are); the same
figures from a brand-new renderer, which first reads the fonts from disk, follow ("cold").
Medians of the runs are printed as a table against the goals.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.servers import start, stop  # noqa: E402

SLOW_4G = {"offline": False, "latency": 400, "downloadThroughput": 400_000 / 8,
           "uploadThroughput": 400_000 / 8}  # fmt: skip
CPU_SLOWDOWN = 4
GOALS = {"preview p50": 30, "picker DCL": 800, "picker first tap": 1000, "share LCP": 1500}
LCP_SCRIPT = """() => new Promise(resolve => {
  let last = null;
  new PerformanceObserver(list => {
    const entries = list.getEntries();
    last = entries[entries.length - 1];
  }).observe({type: 'largest-contentful-paint', buffered: true});
  setTimeout(() => {
    const nav = performance.getEntriesByType('navigation')[0];
    const bytes = performance.getEntriesByType('resource')
      .reduce((sum, r) => sum + r.transferSize, nav.transferSize);
    const ready = performance.getEntriesByName('picker-ready')[0];
    resolve({dcl: nav.domContentLoadedEventEnd, lcp: last ? last.startTime : null,
             lcp_element: last && last.element ? last.element.tagName + '.' + last.element.className
               + (!last.url ? '' : last.url.startsWith('data:')
                  ? ' ' + last.url.slice(0, last.url.indexOf(';')) + ' inside the page'
                  : ' ' + last.url.split('/').pop()) : null,
             ready: ready ? ready.startTime : null, kb: bytes / 1024});
  }, 300);
})"""


def bench_preview(count: int) -> dict:
    from posterapp import create_app

    data = tempfile.mkdtemp(prefix="posterapp-h5-")
    app = create_app({"TESTING": True, "DATABASE_URL": "", "REDIS_URL": "", "DATA_DIR": data,
                      "PUBLIC_URL": "http://localhost",
                      "RATE_LIMIT_PREVIEWS": "100000 per minute"})  # fmt: skip
    client = app.test_client()
    version = app.extensions["posterapp"].active.version
    ids = [c.id for c in app.extensions["posterapp"].active.catalog.choices]
    sets = [",".join(ids[:2]), ",".join(ids[10:15]), ",".join(ids[20:29])]
    times: dict[str, list[float]] = {"2 picks": [], "5 picks": [], "9 picks": []}
    for warm in range(20):
        client.get(f"/preview.jpg?choices={sets[warm % 3]}&name=w{warm}")
    for i in range(count):
        label = list(times)[i % 3]
        started = time.perf_counter()
        response = client.get(f"/preview.jpg?v={version}&choices={sets[i % 3]}&name=小满{i}")
        times[label].append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.get_data(as_text=True)
    every = [t for found in times.values() for t in found]
    return {
        "per_set": {k: statistics.median(v) for k, v in times.items()},
        "p50": statistics.median(every),
        "p95": statistics.quantiles(every, n=20)[-1],
        "bytes": len(response.data),
    }


def page_figures(browser, url: str, tap: bool = False, warm: bool = True) -> dict:
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, device_scale_factor=3, is_mobile=True,
        has_touch=True, locale="zh-CN",
    )  # fmt: skip
    page = context.new_page()
    if warm:
        # A new renderer here reads ~30 MB of CJK and emoji fonts from disk on its first layout
        # (≈0.5 s at 4× slower CPU); a phone has its system fonts loaded already. One unthrottled
        # visit warms the fonts; the HTTP cache is then switched off for the measured load.
        page.goto(url, wait_until="load")
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
    cdp.send("Network.emulateNetworkConditions", SLOW_4G)
    cdp.send("Emulation.setCPUThrottlingRate", {"rate": CPU_SLOWDOWN})
    page.goto(url, wait_until="load", timeout=60000)
    found = page.evaluate(LCP_SCRIPT)
    if tap:
        page.locator('input[name="choices"]').first.tap()
        assert page.locator("#count").inner_text() == "1"
    context.close()
    return found


def bench_pages(runs: int) -> dict:
    os.environ.setdefault("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")
    from playwright.sync_api import sync_playwright

    data = Path(tempfile.mkdtemp(prefix="posterapp-h5-"))
    base, server = start(data, workers=2)
    try:
        request = urllib.request.Request(
            base + "/api/posters",
            data=json.dumps({"choices": ["travel-fund", "wuhan-hot-dry-noodles"],
                             "name": "小满"}).encode(),
            headers={"Content-Type": "application/json"},
        )  # fmt: skip
        with urllib.request.urlopen(request) as response:
            poster = json.load(response)["id"]
        figures: dict[str, list] = {"picker": [], "share": [], "picker cold": [],
                                    "share cold": []}  # fmt: skip
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path="/usr/bin/chromium", args=["--no-sandbox", "--disable-gpu"]
            )
            for _ in range(runs):
                figures["picker"].append(page_figures(browser, base + "/", tap=True))
                figures["share"].append(page_figures(browser, f"{base}/s/{poster}"))
                figures["picker cold"].append(page_figures(browser, base + "/", warm=False))
                figures["share cold"].append(
                    page_figures(browser, f"{base}/s/{poster}", warm=False)
                )
            browser.close()
    finally:
        stop(server)
    out = {}
    for name, found in figures.items():
        out[name] = {
            key: statistics.median(f[key] for f in found)
            for key in ("dcl", "lcp", "ready", "kb")
            if all(f[key] is not None for f in found)
        }
        out[name]["lcp_element"] = found[-1]["lcp_element"]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="cold page loads per page")
    parser.add_argument("--previews", type=int, default=300, help="preview requests")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    preview = bench_preview(args.previews)
    pages = bench_pages(args.runs)
    result = {"preview": preview, "pages": pages}
    if args.json:
        print(json.dumps(result, ensure_ascii=False, indent=2))
        return
    rows = [
        ("preview p50 (ms)", preview["p50"], GOALS["preview p50"]),
        ("preview p95 (ms)", preview["p95"], None),
        ("picker DCL (ms)", pages["picker"]["dcl"], GOALS["picker DCL"]),
        ("picker LCP (ms)", pages["picker"]["lcp"], None),
        ("picker first tap (ms)", pages["picker"]["ready"], GOALS["picker first tap"]),
        ("picker bytes (KB)", pages["picker"]["kb"], None),
        ("share DCL (ms)", pages["share"]["dcl"], None),
        ("share LCP (ms)", pages["share"]["lcp"], GOALS["share LCP"]),
        ("share bytes (KB)", pages["share"]["kb"], None),
        ("cold renderer:", None, None),
        ("picker DCL (ms)", pages["picker cold"]["dcl"], GOALS["picker DCL"]),
        ("picker first tap (ms)", pages["picker cold"]["ready"], GOALS["picker first tap"]),
        ("share LCP (ms)", pages["share cold"]["lcp"], GOALS["share LCP"]),
    ]
    print(f"slow 4G (400 kbit/s, 400 ms RTT), CPU ÷{CPU_SLOWDOWN}, cold cache, "
          f"median of {args.runs} loads; preview over {args.previews} requests; "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")  # fmt: skip
    print(f"{'what':<24}{'measured':>10}  goal")
    for what, value, goal in rows:
        if value is None:
            print(what)
            continue
        verdict = "" if goal is None else f"≤ {goal} {'ok' if value <= goal else 'MISSED'}"
        print(f"{what:<24}{value:>10.1f}  {verdict}")
    print(f"{'preview by picks':<24}" + "  ".join(f"{k} {v:.1f}" for k, v in
                                                   preview["per_set"].items()))  # fmt: skip
    print(f"share LCP element: {pages['share']['lcp_element']}")


if __name__ == "__main__":
    main()
