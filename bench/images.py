"""Image bytes: the PNG, the share page's light WebP, and a progressive JPEG of the same.

    .venv/bin/python bench/images.py [--posters 6] [--json]

For each layout in each theme, new posters (random picks and names, a production-length QR
link) are rendered as the PNG people save; then the light rendition the share page shows
first (posterapp.render.light: 480 px wide, WebP), and for comparison a progressive JPEG of
the same 480 px picture at the same quality. Each is decoded back and read with zxing-cpp:
its QR code must give the poster's link. "PSNR" is against the same 480 px picture without
loss (higher: closer; text is where lossy formats smear first). "light ms" is what making
the WebP costs once per poster: decode the PNG, scale, encode.
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
from posterapp.render.light import LIGHT_QUALITY, downscale, light_webp  # noqa: E402
from posterapp.render.poster import render_png  # noqa: E402
from posterapp.render.qr import upper_case_host  # noqa: E402
from posterapp.selection import make_poster  # noqa: E402
from posterapp.store import new_poster_id  # noqa: E402

NAMES = ["小满", "Lily 王", "阿May", "", "陈一一", "🌸花花"]
HOST = "https://posters.example-campaign.cn"  # a production-length address


def psnr(image: Image.Image, reference: Image.Image) -> float:
    rms = ImageStat.Stat(ImageChops.difference(image, reference)).rms
    mse = sum(r * r for r in rms) / len(rms)
    return 99.0 if mse == 0 else 20 * math.log10(255 / math.sqrt(mse))


def reads(data: bytes, url: str) -> bool:
    with Image.open(io.BytesIO(data)) as image:
        return [r.text for r in zxingcpp.read_barcodes(image)] == [url]


def measure(version, layout: str, count: int, rng: random.Random, keep: list) -> dict:
    ids = [c.id for c in version.catalog.choices]
    chosen = version.layouts[layout]
    rows = []
    for _ in range(count):
        picks = rng.sample(ids, rng.randint(chosen.min_picks, min(chosen.max_picks, len(ids))))
        url = upper_case_host(f"{HOST}/Q/{new_poster_id()}")
        png = render_png(version, make_poster(version, picks, rng.choice(NAMES), url, layout))
        keep.append((png, url))
        started = time.perf_counter()
        webp = light_webp(png)
        light_ms = (time.perf_counter() - started) * 1000
        exact = downscale(png)
        out = io.BytesIO()
        exact.save(out, format="JPEG", quality=LIGHT_QUALITY, progressive=True, optimize=True)
        jpeg = out.getvalue()
        rows.append({
            "png": len(png), "webp": len(webp), "jpeg": len(jpeg), "light_ms": light_ms,
            "webp_psnr": psnr(Image.open(io.BytesIO(webp)).convert("RGB"), exact),
            "jpeg_psnr": psnr(Image.open(io.BytesIO(jpeg)).convert("RGB"), exact),
            "png_qr": reads(png, url), "webp_qr": reads(webp, url), "jpeg_qr": reads(jpeg, url),
        })  # fmt: skip
    mean = {key: statistics.mean(r[key] for r in rows) for key in rows[0] if "qr" not in key}
    mean["light_ms"] = statistics.median(r["light_ms"] for r in rows)
    for key in ("png_qr", "webp_qr", "jpeg_qr"):
        mean[key] = sum(r[key] for r in rows)
    return {"layout": layout, "posters": count, **mean}


# How the light WebP could be made: the shipped way (posterapp.render.light) and the knobs.
WAYS = {
    "Lanczos, WebP effort 6 (before)": (Image.Resampling.LANCZOS, False, 6),
    "Lanczos, WebP effort 4 (shipped)": (Image.Resampling.LANCZOS, False, 4),
    "Lanczos, WebP effort 2": (Image.Resampling.LANCZOS, False, 2),
    "2x2 box, then Lanczos, effort 4": (Image.Resampling.LANCZOS, True, 4),
    "bicubic, WebP effort 4": (Image.Resampling.BICUBIC, False, 4),
}


def ways(pngs: list[tuple[bytes, str]]) -> list[dict]:
    """Time each way of making the light WebP from the same decoded posters."""
    decoded = []
    for png, url in pngs:
        with Image.open(io.BytesIO(png)) as full:
            decoded.append((full.convert("RGB"), downscale(png), url))
    rows = []
    for label, (resample, halve, method) in WAYS.items():
        scale, encode, size, close, read = [], [], [], [], 0
        for full, exact, url in decoded:
            started = time.perf_counter()
            small = (full.reduce(2) if halve else full).resize(exact.size, resample)
            scaled = time.perf_counter()
            out = io.BytesIO()
            small.save(out, format="WEBP", quality=LIGHT_QUALITY, method=method)
            scale.append(scaled - started)
            encode.append(time.perf_counter() - scaled)
            size.append(len(out.getvalue()))
            close.append(psnr(Image.open(io.BytesIO(out.getvalue())).convert("RGB"), exact))
            read += reads(out.getvalue(), url)
        rows.append({
            "way": label, "scale_ms": statistics.median(scale) * 1000,
            "encode_ms": statistics.median(encode) * 1000, "kb": statistics.mean(size) / 1024,
            "psnr": statistics.mean(close), "reads": read, "posters": len(decoded),
        })  # fmt: skip
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posters", type=int, default=6, help="posters per layout and theme")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    rng = random.Random(14)
    catalog = ROOT / "choices" / "default.yaml"
    results, pngs = [], []
    for theme in versions.theme_ids(ROOT / "assets"):
        version = versions.load_sources(catalog, ROOT / "assets", theme=theme)
        for layout in sorted(version.layouts, key=lambda i: version.layouts[i].min_picks):
            results.append({"theme": theme, **measure(version, layout, args.posters, rng, pngs)})
    decode = []
    for png, _ in pngs:
        started = time.perf_counter()
        with Image.open(io.BytesIO(png)) as full:
            full.load()
        decode.append((time.perf_counter() - started) * 1000)
    made = ways(pngs)
    if args.json:
        print(json.dumps({"layouts": results, "ways": made, "decode_ms": statistics.median(decode)},
                         indent=2))  # fmt: skip
        return
    print(f"mean bytes of {args.posters} posters per row; light: 480 px WebP q{LIGHT_QUALITY}, "
          f"JPEG: the same 480 px picture, progressive, q{LIGHT_QUALITY}")  # fmt: skip
    print(f"{'theme':<6}{'layout':<7}{'PNG KB':>8}{'WebP KB':>9}{'JPEG KB':>9}{'WebP/PNG':>10}"
          f"{'WebP/JPEG':>11}{'PSNR WebP':>11}{'PSNR JPEG':>11}{'QR PNG/WebP/JPEG':>18}"
          f"{'light ms':>10}")  # fmt: skip
    for r in results:
        n = r["posters"]
        qr = f"{r['png_qr']}/{n} {r['webp_qr']}/{n} {r['jpeg_qr']}/{n}"
        print(f"{r['theme']:<6}{r['layout']:<7}{r['png'] / 1024:>8.0f}{r['webp'] / 1024:>9.1f}"
              f"{r['jpeg'] / 1024:>9.1f}{r['webp'] / r['png']:>10.2f}{r['webp'] / r['jpeg']:>11.2f}"
              f"{r['webp_psnr']:>9.1f}dB{r['jpeg_psnr']:>9.1f}dB{qr:>18}"
              f"{r['light_ms']:>10.0f}")  # fmt: skip
    print(f"\nmaking the light WebP from the same {len(pngs)} posters: decoding the PNG takes "
          f"{statistics.median(decode):.0f} ms, then")  # fmt: skip
    print(f"{'':<34}{'scale ms':>9}{'encode ms':>10}{'KB':>7}{'PSNR*':>8}{'QR reads':>10}")
    for w in made:
        print(f"{w['way']:<34}{w['scale_ms']:>9.1f}{w['encode_ms']:>10.1f}{w['kb']:>7.1f}"
              f"{w['psnr']:>6.1f}dB{w['reads']:>6}/{w['posters']}")  # fmt: skip
    print("* against the 480 px Lanczos picture without loss, which favours Lanczos")
    if any(r["webp_qr"] < r["posters"] for r in results):
        sys.exit("a light rendition's QR code did not read")


if __name__ == "__main__":
    main()
