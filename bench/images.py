"""Image bytes: the PNG, the share page's light WebP, and a progressive JPEG of the same.

    .venv/bin/python bench/images.py [--posters 6] [--json]

For each layout in each theme, new posters (random picks and names, a production-length QR
link) are rendered as the PNG people save; then the light rendition the share page carries
(``render_light``: the poster drawn at half size from its bands, 540×960, WebP), and for
comparison a progressive JPEG of the same half-size picture at the same quality. Each is
decoded back and read with zxing-cpp: its QR code must give the poster's link. "PSNR" is
against the half-size picture without loss (higher: closer; text is where lossy formats
smear first). "light ms" is what ``render_light`` costs, once per poster.

A second table makes the light rendition other ways from the same posters: other WebP
efforts, and the way before it was drawn from the bands (decode the PNG, Lanczos to 480 px,
WebP q55 effort 6).
"""

from __future__ import annotations

import argparse
import io
import json
import math
import random
import statistics
import sys
import time
from pathlib import Path

import zxingcpp
from PIL import Image, ImageChops, ImageStat

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from posterapp import versions  # noqa: E402
from posterapp.assets import Assets  # noqa: E402
from posterapp.render.poster import (  # noqa: E402
    LIGHT_METHOD,
    LIGHT_QUALITY,
    LIGHT_REDUCE,
    render_light,
    render_png,
    render_small,
)
from posterapp.selection import make_poster  # noqa: E402
from posterapp.urls import scan_url  # noqa: E402

NAMES = ["小满", "Lily 王", "阿May", "", "陈一一", "🌸花花"]
HOST = "https://posters.example-campaign.cn"  # a production-length address


def psnr(image: Image.Image, reference: Image.Image) -> float:
    rms = ImageStat.Stat(ImageChops.difference(image.convert("RGB"), reference)).rms
    mse = sum(r * r for r in rms) / len(rms)
    return 99.0 if mse == 0 else 20 * math.log10(255 / math.sqrt(mse))


def reads(data: bytes, url: str) -> bool:
    with Image.open(io.BytesIO(data)) as image:
        return [r.text for r in zxingcpp.read_barcodes(image)] == [url]


def encode(image: Image.Image, **options) -> tuple[bytes, float]:
    """Return ``image`` saved with ``options`` and the milliseconds that took."""
    out = io.BytesIO()
    started = time.perf_counter()
    image.save(out, **options)
    return out.getvalue(), (time.perf_counter() - started) * 1000


def new_posters(version, layout: str, count: int, rng: random.Random) -> list:
    ids = [c.id for c in version.catalog.choices]
    chosen = version.layouts[layout]
    made = []
    for _ in range(count):
        picks = rng.sample(ids, rng.randint(chosen.min_picks, min(chosen.max_picks, len(ids))))
        url = scan_url(HOST, "".join(rng.choice("0123456789ABCDEFGHJKMNPQRSTVWXYZ")
                                     for _ in range(12)))  # fmt: skip
        made.append((version, make_poster(version, picks, rng.choice(NAMES), url, layout), url))
    return made


def measure(posters: list) -> dict:
    rows = []
    for version, poster, url in posters:
        png = render_png(version, poster)
        started = time.perf_counter()
        webp = render_light(version, poster)
        light_ms = (time.perf_counter() - started) * 1000
        exact = render_small(version, poster, LIGHT_REDUCE).convert("RGB")
        jpeg, _ = encode(exact, format="JPEG", quality=LIGHT_QUALITY, progressive=True,
                         optimize=True)  # fmt: skip
        rows.append({
            "png": len(png), "webp": len(webp), "jpeg": len(jpeg), "light_ms": light_ms,
            "webp_psnr": psnr(Image.open(io.BytesIO(webp)), exact),
            "jpeg_psnr": psnr(Image.open(io.BytesIO(jpeg)), exact),
            "png_qr": reads(png, url), "webp_qr": reads(webp, url), "jpeg_qr": reads(jpeg, url),
        })  # fmt: skip
    found = {key: statistics.mean(r[key] for r in rows) for key in rows[0] if "qr" not in key}
    found["light_ms"] = statistics.median(r["light_ms"] for r in rows)
    for key in ("png_qr", "webp_qr", "jpeg_qr"):
        found[key] = sum(r[key] for r in rows)
    return {"posters": len(rows), **found}


def ways(posters: list) -> list[dict]:
    """Make the light rendition other ways from the same posters: draw or decode, encode."""
    rows = []
    for label, from_png, quality, method in (
        (f"from the bands, q{LIGHT_QUALITY} effort {LIGHT_METHOD} (shipped)", False,
         LIGHT_QUALITY, LIGHT_METHOD),
        (f"from the bands, q{LIGHT_QUALITY} effort 4", False, LIGHT_QUALITY, 4),
        (f"from the bands, q{LIGHT_QUALITY} effort 6", False, LIGHT_QUALITY, 6),
        ("decode PNG, Lanczos 480 px, q55 effort 6 (before)", True, 55, 6),
    ):  # fmt: skip
        make, code, size, close, read = [], [], [], [], 0
        for version, poster, url in posters:
            if from_png:
                png = render_png(version, poster)
                started = time.perf_counter()
                with Image.open(io.BytesIO(png)) as full:
                    height = round(full.height * 480 / full.width)
                    small = full.convert("RGB").resize((480, height), Image.Resampling.LANCZOS)
            else:
                started = time.perf_counter()
                small = render_small(version, poster, LIGHT_REDUCE).convert("RGB")
            make.append((time.perf_counter() - started) * 1000)
            data, ms = encode(small, format="WEBP", quality=quality, method=method)
            code.append(ms)
            size.append(len(data))
            close.append(psnr(Image.open(io.BytesIO(data)), small))
            read += reads(data, url)
        rows.append({
            "way": label, "make_ms": statistics.median(make), "encode_ms": statistics.median(code),
            "kb": statistics.mean(size) / 1024, "psnr": statistics.mean(close), "reads": read,
            "posters": len(posters),
        })  # fmt: skip
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posters", type=int, default=6, help="posters per layout and theme")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    rng = random.Random(14)
    catalog, assets = ROOT / "choices" / "default.yaml", Assets(ROOT / "assets")
    results, everything = [], []
    for theme in versions.theme_ids(assets):
        version = versions.load_sources(catalog, assets, theme=theme)
        for layout in sorted(version.layouts, key=lambda i: version.layouts[i].min_picks):
            posters = new_posters(version, layout, args.posters, rng)
            for _ in range(2):  # caches warm, as a running server has them
                measure(posters)
            everything += posters
            results.append({"theme": theme, "layout": layout, **measure(posters)})
    made = ways(everything)
    if args.json:
        print(json.dumps({"layouts": results, "ways": made}, indent=2))
        return
    print(f"mean of {args.posters} posters per row; light: render_light, 540×960 WebP "
          f"q{LIGHT_QUALITY}; JPEG: the same picture, progressive, q{LIGHT_QUALITY}")  # fmt: skip
    print(f"{'theme':<6}{'layout':<7}{'PNG KB':>8}{'WebP KB':>9}{'JPEG KB':>9}{'WebP/PNG':>10}"
          f"{'WebP/JPEG':>11}{'PSNR WebP':>11}{'PSNR JPEG':>11}{'QR PNG/WebP/JPEG':>18}"
          f"{'light ms':>10}")  # fmt: skip
    for r in results:
        n = r["posters"]
        qr = f"{r['png_qr']}/{n} {r['webp_qr']}/{n} {r['jpeg_qr']}/{n}"
        print(f"{r['theme']:<6}{r['layout']:<7}{r['png'] / 1024:>8.0f}{r['webp'] / 1024:>9.1f}"
              f"{r['jpeg'] / 1024:>9.1f}{r['webp'] / r['png']:>10.2f}{r['webp'] / r['jpeg']:>11.2f}"
              f"{r['webp_psnr']:>9.1f}dB{r['jpeg_psnr']:>9.1f}dB{qr:>18}"
              f"{r['light_ms']:>10.1f}")  # fmt: skip
    print(f"\nthe light rendition made other ways, the same {len(everything)} posters "
          "(PSNR: against the way's own picture without loss)")  # fmt: skip
    print(f"{'':<52}{'make ms':>8}{'encode ms':>10}{'KB':>7}{'PSNR':>8}{'QR reads':>10}")
    for w in made:
        print(f"{w['way']:<52}{w['make_ms']:>8.1f}{w['encode_ms']:>10.1f}{w['kb']:>7.1f}"
              f"{w['psnr']:>6.1f}dB{w['reads']:>6}/{w['posters']}")  # fmt: skip
    if any(r["webp_qr"] < r["posters"] for r in results):
        sys.exit("a light rendition's QR code did not read")


if __name__ == "__main__":
    main()
