"""The poster's QR code scans from a phone photo of a screen, with zxing and with zbar.

A friend photographs the poster on someone else's screen: smaller, a little turned and
tilted, soft, noisy, JPEG. The photo is simulated with a fixed seed, so the test is
deterministic; then both decoders must read the poster's own scan URL.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import random
import re
import shutil
import subprocess

import pytest
import zxingcpp
from PIL import Image, ImageChops, ImageColor, ImageDraw, ImageFilter

from posterapp.model import is_poster_id, new_poster_id
from posterapp.render import qr
from posterapp.render.poster import render
from posterapp.selection import make_poster

from .conftest import unavailable

POSTER_ID = "7K3M9Q2XZ0AB"  # a new-style id: 12 characters of Crockford base32
# The longest production host that must still fit a version 4 code: exactly 40 characters.
LONG_HOST = "meihao-shenghuo.campaign.example-pay.com"
HOSTS = {"short-host": "https://posters.example", "40-char-host": f"https://{LONG_HOST}"}
# Each layout gets the most picks it takes from these: the fullest poster around the QR tile.
PICKS = [
    "wuhan-hot-dry-noodles", "parents-pension-insurance", "travel-fund",
    "shanghai-huaihai-road", "nanjing-plum-blossom-cake", "wuhan-whu-cherry-blossoms",
    "wuhan-yellow-crane-tower", "wuhan-east-lake-greenway", "wuhan-yangtze-bridge",
    "family-portrait", "learn-to-swim", "fifty-books",
]  # fmt: skip
LAYOUTS = ("hero", "list", "grid")
CASES = [(layout, host) for layout in LAYOUTS for host in HOSTS]
ZBARIMG = "zbarimg"
SCREEN = (38, 38, 42)  # what the camera sees around the poster


def scan_url(studio, host: str) -> str:
    return dataclasses.replace(studio, public_url=HOSTS[host]).scan_url(POSTER_ID)


@pytest.fixture(scope="module")
def posters(default_version, app):
    """Render each layout with each host's scan URL once: {(layout, host): (url, image)}."""
    studio = app.extensions["posterapp"]
    made = {}
    for layout, host in CASES:
        url = scan_url(studio, host)
        picks = PICKS[: default_version.layouts[layout].max_picks]
        poster = make_poster(default_version, picks, "小满", url, layout)
        made[layout, host] = (url, render(default_version, poster).convert("RGB"))
    return made


def phone_photo(image: Image.Image, seed: int = 2020) -> bytes:
    """Return a JPEG like a phone photo of ``image`` on a screen (deterministic for a seed)."""
    rng = random.Random(seed)
    # 42 %: the 1080 px poster is 454 px wide in the photo, 9 px modules are 3.8 px.
    small = image.resize((454, 807), Image.Resampling.BICUBIC)
    photo = Image.new("RGB", (small.width + 120, small.height + 120), SCREEN)
    photo.paste(small, (60, 60))
    photo = photo.rotate(4, Image.Resampling.BICUBIC, expand=True, fillcolor=SCREEN)
    # The top of the screen is further from the camera: 5 % narrower than the bottom.
    w, h = photo.size
    inset = 0.025 * w
    corners = [(inset, 0), (w - inset, 0), (w, h), (0, h)]
    photo = photo.transform(
        photo.size, Image.Transform.PERSPECTIVE,
        perspective([(0, 0), (w, 0), (w, h), (0, h)], corners),
        Image.Resampling.BICUBIC, fillcolor=SCREEN,
    )  # fmt: skip
    photo = photo.filter(ImageFilter.GaussianBlur(1.2))
    amplitude = 14  # sensor noise: ±14 of 255 per channel
    noise = Image.frombytes("RGB", photo.size, rng.randbytes(w * h * 3))
    photo = ImageChops.add(photo, noise.point(lambda v: v * 2 * amplitude // 255), 1, -amplitude)
    buffer = io.BytesIO()
    photo.save(buffer, format="JPEG", quality=60)
    return buffer.getvalue()


def perspective(out: list, source: list) -> list[float]:
    """Return Pillow's 8 coefficients that map the ``out`` corners to the ``source`` corners."""
    rows = []
    for (x, y), (u, v) in zip(out, source, strict=True):
        rows.append([x, y, 1, 0, 0, 0, -u * x, -u * y, u])
        rows.append([0, 0, 0, x, y, 1, -v * x, -v * y, v])
    for col in range(8):  # Gauss-Jordan elimination with partial pivoting
        pivot = max(range(col, 8), key=lambda r: abs(rows[r][col]))
        rows[col], rows[pivot] = rows[pivot], rows[col]
        for r in range(8):
            if r != col:
                factor = rows[r][col] / rows[col][col]
                rows[r] = [a - factor * b for a, b in zip(rows[r], rows[col], strict=True)]
    return [rows[i][8] / rows[i][i] for i in range(8)]


def zxing(image: Image.Image) -> list[str]:
    return [
        result.text
        for result in zxingcpp.read_barcodes(image)
        if result.format == zxingcpp.BarcodeFormat.QRCode
    ]


def zbar(path) -> list[str]:
    """Decode with Debian's zbar (``zbarimg``); skip without it here, fail without it in CI."""
    if not shutil.which(ZBARIMG):
        unavailable(ZBARIMG, "run `apt-get install -y zbar-tools`")
    found = subprocess.run(
        [ZBARIMG, "--raw", "-q", "-Sdisable", "-Sqrcode.enable", str(path)],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert found.returncode in (0, 4), found.stderr  # 4: nothing found
    return found.stdout.splitlines()


@pytest.mark.parametrize(("layout", "host"), CASES)
def test_a_phone_photo_of_the_poster_scans_with_zxing_and_zbar(posters, tmp_path, layout, host):
    url, image = posters[layout, host]
    photo = tmp_path / f"{layout}-{host}.jpg"
    photo.write_bytes(phone_photo(image))
    with Image.open(photo) as decoded:
        assert zxing(decoded) == [url], f"zxing could not read {photo}"
    assert zbar(photo) == [url], f"zbar could not read {photo}"


@pytest.mark.parametrize(("layout", "host"), CASES)
def test_the_code_has_big_modules_a_quiet_zone_and_strong_error_correction(
    posters, default_version, layout, host
):
    url, image = posters[layout, host]
    [found] = zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)
    assert found.text == url
    assert found.extra["ECLevel"] in ("Q", "H")
    version = int(found.extra["Version"])
    assert version <= 4
    modules = 17 + 4 * version
    left, top = found.position.top_left.x, found.position.top_left.y
    width = found.position.top_right.x - left
    module_px, rest = divmod(width, modules)
    assert rest == 0, f"{width} px for {modules} modules: not a whole number of pixels each"
    assert module_px >= 9
    # At least 4 modules of the tile's background all around the code, inside the tile (only
    # its rounded corners, 4 modules diagonally away from the code's corners, may cut in).
    tile = default_version.layouts[layout].qr
    quiet = 4 * module_px
    ring = (left - quiet, top - quiet, left + width + quiet, top + width + quiet)
    assert ring[0] >= tile.x and ring[1] >= tile.y
    assert ring[2] <= tile.x + tile.size and ring[3] <= tile.y + tile.size
    on_tile = Image.new("1", image.size, 0)
    ImageDraw.Draw(on_tile).rounded_rectangle(
        (tile.x, tile.y, tile.x + tile.size - 1, tile.y + tile.size - 1), tile.radius, fill=1
    )
    ImageDraw.Draw(on_tile).rectangle((left, top, left + width - 1, top + width - 1), fill=0)
    theme = default_version.theme
    paper = ImageColor.getrgb(tile.background or (theme.panel if theme else "#FFFFFF"))
    around = Image.composite(image, Image.new("RGB", image.size, paper), on_tile).crop(ring)
    assert around.getcolors() == [(around.width * around.height, paper)]


def test_a_40_character_production_host_keeps_the_code_at_version_4(studio):
    url = scan_url(studio, "40-char-host")
    assert len(LONG_HOST) == 40
    assert url == f"https://{LONG_HOST.upper()}/Q/{POSTER_ID}"
    code = qr.code_for(url, 370)
    assert (code.version, code.error_correction, code.module_px) == (4, "Q", 9)
    assert code.quiet_px(370) >= 4 * code.module_px


def test_new_poster_ids_are_upper_case_base32_and_old_ids_still_count():
    ids = {new_poster_id() for _ in range(200)}
    assert len(ids) == 200
    assert all(re.fullmatch(r"[0-9A-HJKMNP-TV-Z]{12}", i) and is_poster_id(i) for i in ids)
    assert is_poster_id("Ab3_dE9-kLmN")  # made before ids went upper case


def test_a_new_posters_code_opens_its_share_page_and_counts_a_scan(client, studio):
    made = client.post("/api/posters", json={"choices": ["travel-fund", "family-portrait"]})
    assert made.status_code == 201
    poster_id = made.get_json()["id"]
    record = studio.store.get_poster(poster_id)
    assert record.url == f"https://POSTERS.EXAMPLE/Q/{poster_id}"
    for path in (f"/Q/{poster_id}", f"/q/{poster_id}"):
        response = client.get(path)
        assert response.status_code == 302
        assert response.headers["Location"] == f"/s/{poster_id}?from=scan"
    assert studio.store.event_counts(poster_id)["scan"] == 2
    assert client.get("/Q/AAAAAAAAAAAA").status_code == 404


# Tiles drawn by posterapp before phone codes (EC M, 7 px modules in a 280 or 290 px tile).
# Posters made then render from their own catalog version, with these tiles: same pixels.
OLD_TILES = [
    ("https://posters.example/q/Ab3_dE9-kLmN", 280, "#2A1A10",
     "53e48eed65754985d033e485886a517dd735844adac2d96e56f7c38483d62846"),
    ("https://meihao-shenghuo.campaign.example-pay.com/q/Ab3_dE9-kLmN", 290, "#1B2540",
     "055467b0abff7cf13558dde56e4f4bac232f1d3f5459d0fb32d7608bb1daf1e5"),
    ("http://localhost:8000/q/Ab3_dE9-kLmN", 280, "#1C2437",
     "1ba5563dac5bcf839b9a689bb7733c9d949708ee8e140f8177c2c37ac057ab73"),
]  # fmt: skip


@pytest.mark.parametrize(("url", "size", "color", "sha256"), OLD_TILES)
def test_old_posters_draw_the_code_they_drew_before(url, size, color, sha256):
    tile = qr.qr_tile(url, size, color, "#FFFFFF", 24)
    assert hashlib.sha256(tile.tobytes()).hexdigest() == sha256
    assert qr.code_for(url, size).error_correction == "M"
