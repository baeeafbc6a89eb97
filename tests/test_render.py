"""Posters: reference images, determinism, colour emoji, refused text, and the QR round trip."""

from __future__ import annotations

import io
import os

import pytest
import zxingcpp
from PIL import Image, ImageChops, ImageStat

from posterapp.errors import SelectionError, UndrawableText
from posterapp.model import Poster
from posterapp.render import fonts
from posterapp.render.poster import render, render_png
from posterapp.selection import make_poster

from .conftest import DATA

URL = "https://posterapp.example/s/Xy7_k2PqR9"
REFERENCES = DATA / "reference"
# Picks that exercise each layout: long and short labels, city tags, several categories.
SAMPLES = {
    "hero": (["wuhan-hot-dry-noodles", "parents-pension-insurance"], "小满"),
    "list": (
        [
            "shanghai-huaihai-road",
            "nanjing-plum-blossom-cake",
            "travel-fund",
            "wuhan-whu-cherry-blossoms",
            "parents-pension-insurance",
        ],
        "Lily 王",
    ),
    "grid": (
        [
            "wuhan-hot-dry-noodles",
            "shanghai-huaihai-road",
            "nanjing-plum-blossom-cake",
            "travel-fund",
            "wuhan-whu-cherry-blossoms",
            "parents-pension-insurance",
            "wuhan-yellow-crane-tower",
            "wuhan-east-lake-greenway",
            "wuhan-yangtze-bridge",
        ],
        "",
    ),
}


def sample(version, layout: str) -> Poster:
    picks, name = SAMPLES[layout]
    return make_poster(version, picks, name, URL, layout)


def assert_similar(image: Image.Image, reference_path, tolerance: float = 1.0) -> None:
    """Fail unless the mean per-channel difference to the reference is within tolerance."""
    if os.environ.get("POSTERAPP_UPDATE_REFERENCES") == "1":
        image.save(reference_path)
    with Image.open(reference_path) as reference:
        assert reference.size == image.size
        diff = ImageChops.difference(image.convert("RGB"), reference.convert("RGB"))
    mean = sum(ImageStat.Stat(diff).mean) / 3
    assert mean <= tolerance, f"mean difference {mean:.2f} > {tolerance} from {reference_path}"


def decode(image: Image.Image) -> list[str]:
    return [
        result.text
        for result in zxingcpp.read_barcodes(image)
        if result.format == zxingcpp.BarcodeFormat.QRCode
    ]


@pytest.mark.parametrize("layout", sorted(SAMPLES))
def test_poster_matches_its_reference_image(default_version, layout):
    image = render(default_version, sample(default_version, layout))
    assert image.size == (1080, 1920)
    assert_similar(image, REFERENCES / f"{layout}.png")


def test_reference_comparison_notices_a_changed_label(default_version):
    """The tolerance is tight enough that one different card fails the comparison."""
    picks = list(SAMPLES["hero"][0])
    picks[1] = "travel-fund"
    image = render(default_version, make_poster(default_version, picks, "小满", URL, "hero"))
    with pytest.raises(AssertionError, match="mean difference"):
        assert_similar(image, REFERENCES / "hero.png", tolerance=1.0)


def test_same_inputs_give_the_same_bytes(default_version):
    poster = sample(default_version, "list")
    assert render_png(default_version, poster) == render_png(default_version, poster)


@pytest.mark.parametrize("layout", sorted(SAMPLES))
def test_qr_code_decodes_from_the_png_and_from_a_small_recompressed_jpeg(default_version, layout):
    png = render_png(default_version, sample(default_version, layout))
    image = Image.open(io.BytesIO(png))
    assert decode(image) == [URL]
    small = image.resize((270, 480), Image.Resampling.BILINEAR)
    buffer = io.BytesIO()
    small.save(buffer, format="JPEG", quality=60)
    assert decode(Image.open(buffer)) == [URL]


def test_emoji_icons_are_drawn_in_colour(default_version):
    image = render(default_version, sample(default_version, "hero"))
    layout = default_version.layouts["hero"]
    x, y = layout.card_positions(2)[0]
    ix, iy, size, _ = layout.slots.icon.box
    _, saturation, value = (
        image.crop((x + ix, y + iy, x + ix + size, y + iy + size)).convert("HSV").split()
    )
    vivid = ImageChops.multiply(
        saturation.point(lambda p: 255 if p > 120 else 0),
        value.point(lambda p: 255 if p > 80 else 0),
    )
    saturated = vivid.histogram()[255]
    assert saturated > size * size * 0.05, "the noodle emoji should be drawn in colour"


def test_name_is_drawn_where_the_layout_puts_it(default_version):
    with_name = render(default_version, sample(default_version, "hero"))
    anonymous = render(
        default_version, make_poster(default_version, SAMPLES["hero"][0], "", URL, "hero")
    )
    box = default_version.layouts["hero"].name_line.box
    crop = (box[0], box[1], box[0] + box[2], box[1] + box[3])
    assert ImageChops.difference(with_name.crop(crop), anonymous.crop(crop)).getbbox()
    # Nothing else on the poster changes with the name.
    rest = (0, box[1] + box[3], 1080, 1920)
    assert ImageChops.difference(with_name.crop(rest), anonymous.crop(rest)).getbbox() is None


@pytest.mark.parametrize(
    "name, words",
    [
        ("小满\U000e0001", "名字里藏着看不见的字符，删掉名字重新输入一遍吧"),
        ("a\u202egnp.exe", "名字里藏着看不见的字符，删掉名字重新输入一遍吧"),
        ("\U00013000王", "这个字海报上写不出来：「\U00013000」，换一个字试试"),
        ("官方客服", "名字里不能有「官方」这样的词，换一个吧"),
        ("一二三四五六七八九十一二三", "名字最多 12 个字，再短一点吧（现在 13 个字）"),
    ],
)
def test_bad_names_are_refused_with_a_message(default_version, name, words):
    if "\U00013000" in words and not fonts.undrawable("\U00013000"):
        pytest.fail("the fonts now draw U+13000; pick another undrawable character")
    with pytest.raises(SelectionError) as caught:
        make_poster(default_version, SAMPLES["hero"][0], name, URL)
    assert caught.value.message == words
    assert caught.value.field == "name"
    assert isinstance(caught.value, UndrawableText) == ("写不出来" in words)


@pytest.mark.parametrize(
    "picks, layout, words",
    [
        ([], None, "至少挑 1 项美好小事吧"),
        (
            ["wuhan-hot-dry-noodles", "nope"],
            None,
            "清单里没有「nope」这一项，可能已经下架了，请重新挑选吧",
        ),
        (
            ["travel-fund", "travel-fund"],
            None,
            "「存一笔旅游资金」选了不止一次，每项只要选一次就好",
        ),
        (["travel-fund"], "grid", "「网格」版式放 7–12 项，你选了 1 项，换一个版式或者增减几项吧"),
        (
            ["travel-fund"],
            "poster-9",
            "没有「poster-9」这种版式，可以选「grid」、「hero」、「list」",
        ),
    ],
)
def test_bad_selections_are_refused_with_a_message(default_version, picks, layout, words):
    with pytest.raises(SelectionError) as caught:
        make_poster(default_version, picks, "", URL, layout)
    assert caught.value.message == words


def test_rules_pick_the_layout_by_number_of_picks(default_version):
    ids = [c.id for c in default_version.catalog.choices]
    chosen = {n: make_poster(default_version, ids[:n], "", URL).layout for n in (1, 2, 3, 6, 7, 12)}
    assert chosen == {1: "hero", 2: "hero", 3: "list", 6: "list", 7: "grid", 12: "grid"}


@pytest.mark.parametrize("layout", sorted(SAMPLES))
def test_the_fast_png_has_exactly_the_pixels_of_the_plain_render(default_version, layout):
    """Banded, cached encoding must never change a pixel, whatever was cached before."""
    import random

    from posterapp.render import banding
    from posterapp.render.poster import render_png_reference

    rng = random.Random(layout)
    ids = [c.id for c in default_version.catalog.choices]
    chosen = default_version.layouts[layout]
    for round_ in range(3):
        count = rng.randint(chosen.min_picks, chosen.max_picks)
        name = rng.choice(["", "小满", "Lily 王", "🌸阿May"])
        poster = make_poster(default_version, rng.sample(ids, count), name,
                             f"{URL}{round_}", layout)  # fmt: skip
        fast = Image.open(io.BytesIO(render_png(default_version, poster))).convert("RGB")
        plain = Image.open(io.BytesIO(render_png_reference(default_version, poster)))
        assert ImageChops.difference(fast, plain.convert("RGB")).getbbox() is None
    joined = banding.adler32_combine(zlib_adler(b"abc"), zlib_adler(b"defg"), 4)
    assert joined == zlib_adler(b"abcdefg")


def zlib_adler(data: bytes) -> int:
    import zlib

    return zlib.adler32(data)
