"""Render speed: the fast PNG path against Pillow saving the same finished poster.

    .venv/bin/python bench/render.py [--rounds 60] [--memory 10000] [--json]

For each layout in each theme, every round makes a new poster (random picks, a new name and
QR code, as real traffic does) and times: the fast path (``render_png``: draw and encode),
Pillow saving that same finished image as PNG at compress level 1 (the reference), and the
plain path (draw everything, Pillow PNG). Ratios are fast / reference, measured in this run;
the target is 0.35 for every layout in every theme (issue 14). Then every render cache is
listed (``posterapp.render.caches``): its limit, what it holds, hits and misses.
``--memory N`` then renders N posters, from empty caches, and reports the process's RSS.
"""

from __future__ import annotations

import argparse
import io
import json
import random
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from posterapp import versions  # noqa: E402
from posterapp.assets import Assets  # noqa: E402
from posterapp.render import caches  # noqa: E402
from posterapp.render.poster import render, render_png, render_png_reference  # noqa: E402
from posterapp.selection import make_poster  # noqa: E402

NAMES = ["小满", "Lily 王", "阿May", "", "陈一一", "🌸花花"]
TARGET = 0.35  # fast / Pillow's own PNG save, for every layout and theme


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def new_poster(version, layout, rng: random.Random, serial: int):
    ids = [c.id for c in version.catalog.choices]
    chosen = version.layouts[layout]
    count = rng.randint(chosen.min_picks, min(chosen.max_picks, len(ids)))
    url = f"https://posters.example/q/{serial:012d}"
    return make_poster(version, rng.sample(ids, count), rng.choice(NAMES), url, layout)


def measure(version, layout: str, rounds: int, rng: random.Random) -> dict:
    fast, reference, plain = [], [], []
    for serial in range(rounds):
        poster = new_poster(version, layout, rng, serial)
        started = time.perf_counter()
        render_png(version, poster)
        fast.append(time.perf_counter() - started)
        image = render(version, poster)
        started = time.perf_counter()
        image.save(io.BytesIO(), format="PNG", compress_level=1)
        reference.append(time.perf_counter() - started)
        started = time.perf_counter()
        render_png_reference(version, poster)
        plain.append(time.perf_counter() - started)
    ms = 1000
    return {
        "layout": layout,
        "fast_p50_ms": round(statistics.median(fast) * ms, 2),
        "fast_p95_ms": round(percentile(fast, 0.95) * ms, 2),
        "reference_p50_ms": round(statistics.median(reference) * ms, 2),
        "reference_p95_ms": round(percentile(reference, 0.95) * ms, 2),
        "plain_p50_ms": round(statistics.median(plain) * ms, 2),
        "ratio_p50": round(statistics.median(fast) / statistics.median(reference), 3),
        "posters_per_s_one_core": round(1 / statistics.median(fast), 1),
    }


def memory(version, renders: int, rng: random.Random) -> list[dict]:
    layouts = sorted(version.layouts)
    samples = []
    for serial in range(1, renders + 1):
        render_png(version, new_poster(version, rng.choice(layouts), rng, 10**9 + serial))
        if serial in {1, 100, 1000} or serial % 2000 == 0 or serial == renders:
            samples.append({"renders": serial, "rss_mb": round(rss_mb(), 1)})
    return samples


def memory_in_child(renders: int) -> list[dict]:
    """Measure RSS in a new process that renders only (the timing above inflates this one)."""
    done = subprocess.run(
        [sys.executable, __file__, "--memory-child", str(renders)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return json.loads(done.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=60, help="posters per layout")
    # A worker that has served a while: every choice's face cut, the caches full and dropping
    # the least used (hero's 105 faces per theme are not all drawn after 30 posters).
    parser.add_argument("--warmup", type=int, default=200, help="untimed posters per layout")
    parser.add_argument("--memory", type=int, default=0, help="renders for the RSS check")
    parser.add_argument("--json", action="store_true", help="print JSON instead of tables")
    parser.add_argument("--memory-child", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.memory_child:  # a fresh process that only renders, as a worker does
        version = versions.load_sources(ROOT / "choices" / "default.yaml", Assets(ROOT / "assets"))
        caches.clear_all()
        print(json.dumps(memory(version, args.memory_child, random.Random(7))))
        return

    catalog = ROOT / "choices" / "default.yaml"
    rows = []
    assets = Assets(ROOT / "assets")
    for theme in versions.theme_ids(assets):  # every layout in every theme
        version = versions.load_sources(catalog, assets, theme=theme)
        default = version.catalog.campaign.layout_rules.default
        rng = random.Random(2020)
        layouts = sorted(version.layouts, key=lambda k: version.layouts[k].min_picks)
        for layout in layouts:  # warm the caches as a running server has them
            measure(version, layout, args.warmup, rng)
        rows += [
            {"theme": theme, **measure(version, layout, args.rounds, rng)} for layout in layouts
        ]
    result = {
        "default_layout": default,
        "targets": {"any_ratio_max": TARGET},
        "layouts": rows,
        "caches": caches.inventory(),
        "memory": memory_in_child(args.memory) if args.memory else [],
    }
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(f"posters per layout: {args.rounds} (new picks, name and QR code each time)")
    print(f"{'theme':<7}{'layout':<8}{'fast p50':>10}{'fast p95':>10}{'ref p50':>10}{'ref p95':>10}"
          f"{'plain p50':>11}{'ratio':>8}{'target':>8}{'/s/core':>9}")  # fmt: skip
    for row in rows:
        target = TARGET
        ok = "ok" if row["ratio_p50"] <= target else "MISS"
        print(f"{row['theme']:<7}{row['layout']:<8}{row['fast_p50_ms']:>8.1f}ms{row['fast_p95_ms']:>8.1f}ms"
              f"{row['reference_p50_ms']:>8.1f}ms{row['reference_p95_ms']:>8.1f}ms"
              f"{row['plain_p50_ms']:>9.1f}ms{row['ratio_p50']:>8.2f}{'≤' + str(target):>6} {ok}"
              f"{row['posters_per_s_one_core']:>7.0f}")  # fmt: skip
    print(
        "ref = Pillow saving the same finished poster as PNG, compress level 1;"
        " plain = draw everything + Pillow PNG (level 6); ratio = fast p50 / ref p50"
    )
    print(f"\n{'cache':<20}{'limit':>10}{'holds':>10}{'entries':>9}{'hits':>9}{'misses':>8}")
    for cache in result["caches"]:
        mb = cache["unit"] == "bytes"
        limit = f"{cache['limit'] / 2**20:.0f} MB" if mb else str(cache["limit"])
        holds = f"{cache['bytes'] / 2**20:.1f} MB" if mb else ""
        print(f"{cache['name']:<20}{limit:>10}{holds:>10}{cache['entries']:>9}"
              f"{cache['hits']:>9}{cache['misses']:>8}")  # fmt: skip
    for sample in result["memory"]:
        print(f"RSS after {sample['renders']:>6} renders: {sample['rss_mb']:.0f} MB")


if __name__ == "__main__":
    main()
