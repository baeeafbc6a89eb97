"""A worker's memory: RSS after posters of every layout and theme and staff previews.

    .venv/bin/python bench/memory.py [--posters 3000] [--preview-every 10] [--json]

One fresh process plays one worker: the app on SQLite in a temporary folder (its database
made first, as `posterapp init-db` does before workers start), with the warm/night theme
experiment on (so both themes' caches fill), driven through Flask's test client. Each round
makes a new poster (POST /api/posters: random layout, picks and name) and opens its share
page (which draws the light WebP); every ``--preview-every`` posters a signed-in staff
member previews an edited catalog (POST /admin/api/preview: a choice's label or description
changed, so the catalog version is new and every layout is drawn). RSS (/proc/self/status)
is read after the app starts and at each step, right after the step's requests and again
at rest: after the heap trim a worker makes within a second (``caches.trim``; right after a
burst of requests RSS holds up to ~10 MB of freed heap not yet handed back). The goal
(issue 14) is ≤ 150 MB after 1,500 posters and 150 previews, and flat after that, at rest.
Then every render cache is listed with the bytes it holds.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

GOAL_MB = 150
GOAL_AT = 1500  # posters (with 150 previews): the point of measure
STEPS = {0, 100, 300, 750, 1500, 2250, 3000, 4500, 6000}
NAMES = ["小满", "Lily 王", "阿May", "", "陈一一", "🌸花花", "王小二", "Kiki"]
EXPERIMENT = """\
  experiment:
    id: theme-bench
    label: 暖阳还是灯火
    variants:
      - {id: warm, theme: warm, weight: 1}
      - {id: night, theme: night, weight: 1}
"""
EDITABLE = re.compile(r"^(\s+(?:label|description): )(.+)$", re.M)


def rss_mb() -> dict[str, float]:
    """Return RSS in MB, with its anonymous part (the heap) and its file-backed part."""
    found = {}
    with open("/proc/self/status") as status:
        for line in status:
            key, _, value = line.partition(":")
            if key in {"VmRSS", "RssAnon", "RssFile"}:
                found[key] = round(int(value.split()[0]) / 1024, 1)
    return {"rss_mb": found["VmRSS"], "anon_mb": found["RssAnon"], "file_mb": found["RssFile"]}


def edited(source: str, rng: random.Random, serial: int) -> str:
    """Return the catalog with one choice's label or description changed: a new version
    (a new description is set on two lines, so jieba is loaded for it)."""
    texts = list(EDITABLE.finditer(source))
    found = texts[rng.randrange(len(texts))]
    changed = found[2][:6] + "改" * (serial % 4) + str(serial % 10)
    return source[: found.start(2)] + changed + source[found.end(2) :]


def run(data: str, posters: int, preview_every: int) -> dict:
    from posterapp import create_app, staff
    from posterapp.render import caches

    text = (ROOT / "choices" / "default.yaml").read_text(encoding="utf-8")
    anchor = "  life_tag_default: 热爱生活的多面手\n"
    source = text.replace(anchor, anchor + EXPERIMENT, 1)
    rng = random.Random(7)
    catalog = Path(data) / "catalog.yaml"
    catalog.write_text(source, encoding="utf-8")
    app = create_app({
        "DATA_DIR": data, "CATALOG": str(catalog), "DATABASE_URL": "", "REDIS_URL": "",
        "PUBLIC_URL": "https://posters.example",
        "RATE_LIMIT_POSTERS": "1000000 per minute",
        "RATE_LIMIT_PREVIEWS": "1000000 per minute",
    })  # fmt: skip
    site = app.extensions["posterapp"]
    staff.add_user(site.store, "bench", "bench password 1")
    public, console = app.test_client(), app.test_client()
    login = console.get("/admin/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', login)[1]
    console.post("/admin/login", data={"name": "bench", "password": "bench password 1",
                                       "csrf_token": token})  # fmt: skip
    page = console.get("/admin/catalog").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)[1]
    version = site.active
    ids = [choice.id for choice in version.catalog.choices]
    layouts = list(version.layouts.values())
    at_start = rss_mb()
    samples = [{"posters": 0, "previews": 0, **at_start, "burst_mb": at_start["rss_mb"]}]
    previews = 0
    for serial in range(1, posters + 1):
        layout = rng.choice(layouts)
        count = rng.randint(layout.min_picks, min(layout.max_picks, len(ids)))
        body = {"choices": rng.sample(ids, count), "name": rng.choice(NAMES),
                "layout": layout.id}  # fmt: skip
        made = public.post("/api/posters", json=body)
        assert made.status_code == 201, made.get_data(as_text=True)
        share = public.get(made.get_json()["share_url"].removeprefix(site.url("")))
        assert share.status_code == 200
        if serial % preview_every == 0:
            response = console.post(
                "/admin/api/preview", json={"source": edited(source, rng, serial)},
                headers={"X-CSRFToken": token},
            )  # fmt: skip
            assert response.get_json()["ok"], response.get_data(as_text=True)[:300]
            previews += 1
        for response in (made, share):
            response.close()
        if serial in STEPS or serial == posters:
            # The worker hands freed heap back at most once a second, so right after a burst
            # RSS holds up to ~10 MB of garbage; at rest is after that trim.
            burst = rss_mb()["rss_mb"]
            caches.trim()
            samples.append({"posters": serial, "previews": previews, **rss_mb(),
                            "burst_mb": burst})  # fmt: skip
    site.store.close()
    return {"samples": samples, "caches": caches.inventory()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posters", type=int, default=3000)
    parser.add_argument("--preview-every", type=int, default=10)
    parser.add_argument("--json", action="store_true", help="print JSON instead of tables")
    parser.add_argument("--child", help=argparse.SUPPRESS)  # its data folder
    args = parser.parse_args()
    if args.child:  # the fresh process that plays the worker
        print(json.dumps(run(args.child, args.posters, args.preview_every)))
        return
    with tempfile.TemporaryDirectory(prefix="posterapp-memory-") as data:
        # The database is made first, as `posterapp init-db` does before workers start: a
        # worker finds it current (and never loads Alembic).
        posterapp = Path(sys.executable).with_name("posterapp")
        env = {**os.environ, "POSTERAPP_DATABASE_URL": ""}
        subprocess.run([posterapp, "--data-dir", data, "init-db"], check=True, env=env,
                       capture_output=True)  # fmt: skip
        done = subprocess.run(
            [sys.executable, __file__, "--child", data, "--posters", str(args.posters),
             "--preview-every", str(args.preview_every)],
            capture_output=True, text=True,
        )  # fmt: skip
    if done.returncode:
        sys.exit(done.stderr)
    result = json.loads(done.stdout.splitlines()[-1])
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print("| posters | previews | RSS at rest | of it: heap | files (fonts, libraries) "
          "| RSS just after the request |")  # fmt: skip
    print("|---|---|---|---|---|---|")
    for sample in result["samples"]:
        print(f"| {sample['posters']:,} | {sample['previews']} | {sample['rss_mb']:.1f} MB "
              f"| {sample['anon_mb']:.1f} MB | {sample['file_mb']:.1f} MB "
              f"| {sample['burst_mb']:.1f} MB |")  # fmt: skip
    at_goal = [s for s in result["samples"] if s["posters"] >= GOAL_AT]
    if at_goal:
        highest = max(s["rss_mb"] for s in at_goal)
        first, last = at_goal[0]["rss_mb"], at_goal[-1]["rss_mb"]
        verdict = "met" if highest <= GOAL_MB else "MISSED"
        print(f"\nfrom {GOAL_AT:,} posters on, at rest: at most {highest:.1f} MB (goal ≤ {GOAL_MB}"
              f" MB: {verdict}); {first:.1f} → {last:.1f} MB; just after a request: at most "
              f"{max(s['burst_mb'] for s in at_goal):.1f} MB")  # fmt: skip
    print("\n| cache | holds | limit | entries | hits | misses |\n|---|---|---|---|---|---|")
    for row in result["caches"]:
        if row["unit"] == "bytes":
            holds, limit = f"{row['bytes'] / 2**20:.1f} MB", f"{row['limit'] / 2**20:.0f} MB"
        else:
            holds, limit = "", f"{row['limit']} entries"
        print(f"| {row['name']} | {holds} | {limit} | {row['entries']} | {row['hits']} "
              f"| {row['misses']} |")  # fmt: skip


if __name__ == "__main__":
    main()
