"""SVG icons: drawn sharp at the tile size, cached, and hostile drawings refused in Chinese."""

from __future__ import annotations

import base64
import io
import time

import pytest
from PIL import Image

from posterapp.assets import AssetError, check_icon
from posterapp.catalog import is_image_path
from posterapp.render import icons

from .conftest import ASSETS

RED, GREEN = (200, 40, 40), (40, 160, 60)
DRAWING = b"""<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 128 128">
  <rect x="10" y="10" width="54" height="108" fill="#C82828"/>
  <rect x="64" y="10" width="54" height="108" fill="#28A03C"/>
</svg>"""


def colours(tile: Image.Image) -> set[tuple[int, int, int]]:
    return {pixel[:3] for pixel in tile.get_flattened_data() if pixel[3] == 255}


def picture_uri() -> str:
    out = io.BytesIO()
    Image.new("RGB", (4, 4), RED).save(out, format="PNG")
    return "data:image/png;base64," + base64.b64encode(out.getvalue()).decode()


@pytest.mark.parametrize("size", [120, 40])
def test_an_svg_icon_is_drawn_with_its_colours_filling_the_tile(size):
    tile = icons.image_tile(DRAWING, size)
    assert tile.size == (size, size) and tile.mode == "RGBA"
    assert tile.getbbox() == (0, 0, size, size)  # padding cropped, as emoji tiles are
    assert {RED, GREEN} <= colours(tile)
    assert tile.getpixel((size // 4, size // 2))[:3] == RED
    assert tile.getpixel((3 * size // 4, size // 2))[:3] == GREEN


def test_an_svg_is_rasterised_at_the_tile_size_not_scaled_up():
    # A hard vertical edge between the colours stays one pixel wide at any size.
    tile = icons.svg_tile(DRAWING, 240)
    row = [tile.getpixel((x, 120))[:3] for x in range(240)]
    blended = [p for p in row if p not in (RED, GREEN)]
    assert len(blended) <= 1


def test_a_shipped_svg_icon_draws_in_its_colours():
    data = (ASSETS / "icons" / "wuhan-yellow-crane-tower.svg").read_bytes()
    check_icon("assets/icons/wuhan-yellow-crane-tower.svg", data)
    tile = icons.image_tile(data, 120)
    assert tile.getbbox() is not None
    assert (
        sum(
            1
            for r, g, b, a in tile.get_flattened_data()
            if a and r > 200 and 150 < g < 200 and b < 60
        )
        > 200
    )
    assert tile.getpixel((0, 0))[3] == 0  # transparent around the art


def test_svg_tiles_are_cached():
    icons.svg_tile.cache_clear()
    icons.svg_tile(DRAWING, 96)
    started = time.perf_counter()
    for _ in range(100):
        icons.svg_tile(DRAWING, 96)
    assert time.perf_counter() - started < 0.01
    assert icons.svg_tile.cache_info().hits == 100


def test_every_shipped_svg_icon_is_safe_square_and_padded():
    drawings = sorted((ASSETS / "icons").glob("*.svg"))
    assert drawings
    for path in drawings:
        data = path.read_bytes()
        check_icon(f"assets/icons/{path.name}", data)
        assert b'viewBox="0 0 128 128"' in data, path.name
        # Drawn at its own size, the art is centred with a margin of ~8 % on every side, so
        # a shared frame around icons treats every drawing alike.
        left, top, right, bottom = icons._rasterise(data.decode(), 128).getbbox()
        assert min(left, top, 128 - right, 128 - bottom) >= 8, path.name
        assert abs(left - (128 - right)) <= 2 and abs(top - (128 - bottom)) <= 2, path.name


def test_svg_paths_are_image_icons():
    assert is_image_path("icons/wuhan-hot-dry-noodles.svg")
    assert is_image_path("x.SVG")


HOSTILE = [
    pytest.param(
        b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
        ["<script>", "脚本"],
        id="script",
    ),
    pytest.param(
        b'<svg xmlns="http://www.w3.org/2000/svg"><foreignObject><div '
        b'xmlns="http://www.w3.org/1999/xhtml">hi</div></foreignObject></svg>',
        ["<foreignObject>"],
        id="foreign-object",
    ),
    pytest.param(
        b'<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink">'
        b'<image xlink:href="http://169.254.169.254/x.png" width="9" height="9"/></svg>',
        ["外部资源", "http://169.254.169.254/x.png"],
        id="external-image",
    ),
    pytest.param(
        b'<svg xmlns="http://www.w3.org/2000/svg"><image href="file:///etc/passwd"/></svg>',
        ["外部资源", "file:///etc/passwd"],
        id="local-file",
    ),
    pytest.param(
        b'<svg xmlns="http://www.w3.org/2000/svg"><use href="other.svg#a"/></svg>',
        ["外部资源", "other.svg#a"],
        id="use-other-file",
    ),
    pytest.param(
        b'<svg xmlns="http://www.w3.org/2000/svg"><rect fill="url(https://e.vil/p#g)"/></svg>',
        ["外部资源", "https://e.vil/p#g"],
        id="css-url",
    ),
    pytest.param(
        b'<svg xmlns="http://www.w3.org/2000/svg"><style>@font-face{font-family:x;'
        b"src:url(https://fonts.example/x.woff)}</style></svg>",
        ["外部字体"],
        id="web-font",
    ),
    pytest.param(
        b'<svg xmlns="http://www.w3.org/2000/svg"><style>@import "https://e.vil/a.css";'
        b"</style></svg>",
        ["@import"],
        id="css-import",
    ),
    pytest.param(
        b'<svg xmlns="http://www.w3.org/2000/svg"><text x="0" y="9">hi</text></svg>',
        ["<text>", "转成路径"],
        id="text-needs-fonts",
    ),
    pytest.param(
        b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>',
        ["onload", "事件属性"],
        id="event-attribute",
    ),
    pytest.param(
        b'<svg xmlns="http://www.w3.org/2000/svg"><a href="javascript:alert(1)">'
        b'<rect width="9" height="9"/></a></svg>',
        ["外部资源", "javascript:"],
        id="javascript-link",
    ),
    pytest.param(
        b'<svg xmlns="http://www.w3.org/2000/svg"><set attributeName="href" '
        b'to="javascript:alert(1)"/></svg>',
        ["<set>", "动画"],
        id="animation",
    ),
    pytest.param(
        b'<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY a "aaaaaaaaaa">'
        b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
        b'<svg xmlns="http://www.w3.org/2000/svg"><desc>&b;</desc></svg>',
        ["DOCTYPE"],
        id="entity-expansion",
    ),
    pytest.param(
        b'<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        b'<svg xmlns="http://www.w3.org/2000/svg"><desc>&x;</desc></svg>',
        ["DOCTYPE"],
        id="external-entity",
    ),
    pytest.param(
        b'<?xml-stylesheet href="https://e.vil/a.css"?><svg xmlns="http://www.w3.org/2000/svg"/>',
        ["外部样式表"],
        id="xml-stylesheet",
    ),
    pytest.param(b"<html><body>hi</body></html>", ["<html>", "不是 <svg>"], id="not-svg"),
    pytest.param(b'<svg xmlns="http://www.w3.org/2000/svg"><rect', ["第 1 行"], id="cut-off"),
    pytest.param(b"", ["第 1 行"], id="empty"),
    pytest.param("<svg>热</svg>".encode("utf-16"), ["UTF-8"], id="not-utf8"),
    pytest.param(
        b'<svg xmlns="http://www.w3.org/2000/svg">' + b"<g/>" * 6000 + b"</svg>",
        ["元素超过"],
        id="too-many-elements",
    ),
    pytest.param(
        b'<svg xmlns="http://www.w3.org/2000/svg" width="0" height="0"/>',
        ["画不出来"],
        id="no-size",
    ),
]


@pytest.mark.parametrize("data, words", HOSTILE)
def test_a_hostile_or_broken_svg_is_refused_saying_what_is_wrong(data, words):
    with pytest.raises(AssetError) as refused:
        check_icon("uploads/evil.svg", data)
    message = str(refused.value)
    assert message.startswith("uploads/evil.svg")
    for word in words:
        assert word in message


def test_an_svg_may_use_its_own_ids_and_embedded_pictures():
    drawing = f"""<svg xmlns="http://www.w3.org/2000/svg"
        xmlns:xlink="http://www.w3.org/1999/xlink" viewBox="0 0 10 10">
      <defs><linearGradient id="g"><stop offset="0" stop-color="#f00"/></linearGradient>
        <clipPath id="c"><circle cx="5" cy="5" r="5"/></clipPath></defs>
      <rect width="10" height="10" fill="url(#g)" clip-path="url('#c')"/>
      <use xlink:href="#c"/>
      <image href="{picture_uri()}" width="4" height="4"/>
    </svg>""".encode()
    check_icon("uploads/fine.svg", drawing)


def test_an_embedded_picture_bomb_is_refused():
    import struct
    import zlib

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    header = chunk(b"IHDR", struct.pack(">IIBBBBB", 50_000, 50_000, 8, 2, 0, 0, 0))
    png = b"\x89PNG\r\n\x1a\n" + header + chunk(b"IEND", b"")
    drawing = (
        b'<svg xmlns="http://www.w3.org/2000/svg"><image href="data:image/png;base64,'
        + base64.b64encode(png)
        + b'"/></svg>'
    )
    with pytest.raises(AssetError, match="声称有极多像素"):
        check_icon("uploads/bomb.svg", drawing)
