"""The posterapp command: render, sheet, versions and the demo."""

from __future__ import annotations

import re

import pytest
import zxingcpp
from PIL import Image

from posterapp.cli import main

from .conftest import ASSETS, DEFAULT_CATALOG


def invoke(runner, tmp_path, *args):
    return runner.invoke(
        main, ["--assets", str(ASSETS), "--data-dir", str(tmp_path / "data"), *args]
    )


def test_render_writes_a_poster_whose_qr_code_opens_the_url(runner, tmp_path):
    out = tmp_path / "poster.png"
    url = "https://example.org/s/CLI-test_42"
    result = invoke(
        runner,
        tmp_path,
        "render",
        "--choices",
        "wuhan-hot-dry-noodles, travel-fund,shanghai-huaihai-road",
        "--name",
        "小满",
        "--url",
        url,
        "-o",
        str(out),
    )
    assert result.exit_code == 0, result.output
    assert f"海报画好了：{out}（1080×1920，排版 list，3 项，目录版本 " in result.output
    with Image.open(out) as image:
        assert image.format == "PNG" and image.size == (1080, 1920)
        assert [r.text for r in zxingcpp.read_barcodes(image)] == [url]


def test_render_refuses_bad_input_with_a_message(runner, tmp_path):
    result = invoke(
        runner, tmp_path, "render", "--choices", "no-such-choice", "-o", str(tmp_path / "x.png")
    )
    assert result.exit_code == 1
    assert "清单里没有「no-such-choice」这一项" in result.output
    assert not (tmp_path / "x.png").exists()


def test_render_with_an_earlier_version_reproduces_the_poster(
    runner, tmp_path, write_catalog, catalog_text
):
    first, second = tmp_path / "first.png", tmp_path / "second.png"
    args = ["--choices", "wuhan-hot-dry-noodles", "--url", "https://example.org/s/v"]
    result = invoke(runner, tmp_path, "render", *args, "-o", str(first))
    version = re.search(r"目录版本 ([0-9a-f]{16})", result.output).group(1)
    edited = write_catalog(catalog_text.replace("label: 过早来碗热干面", "label: 热干面"))
    result = invoke(
        runner, tmp_path, "render", "--catalog", str(edited), *args, "-o", str(tmp_path / "new.png")
    )
    assert version not in result.output
    assert (tmp_path / "new.png").read_bytes() != first.read_bytes()
    result = invoke(
        runner, tmp_path, "render", "--catalog-version", version, *args, "-o", str(second)
    )
    assert result.exit_code == 0, result.output
    assert second.read_bytes() == first.read_bytes()
    listed = invoke(runner, tmp_path, "versions").output.split()
    assert listed[0] == version and len(listed) == 2


def test_unknown_catalog_version_is_reported(runner, tmp_path):
    result = invoke(
        runner,
        tmp_path,
        "render",
        "--catalog-version",
        "0123456789abcdef",
        "--choices",
        "travel-fund",
        "-o",
        str(tmp_path / "x.png"),
    )
    assert result.exit_code == 1
    assert "没有目录版本「0123456789abcdef」" in result.output


@pytest.mark.parametrize(("flags", "themes"), [((), 1), (("--all-themes",), 2)])
def test_sheet_shows_every_layout_at_feed_size(runner, tmp_path, flags, themes):
    out = tmp_path / "sheet.png"
    result = invoke(runner, tmp_path, "sheet", "-o", str(out), *flags)
    assert result.exit_code == 0, result.output
    assert f"样张画好了：{out}（3 种排版 × {themes} 个主题，目录版本 " in result.output
    with Image.open(out) as image:
        # hero 1 and 2 picks, list 3, 4 and 6, grid 7, 9 and 12: eight 270 px posters a row
        assert image.size[0] == 32 + 8 * (270 + 24) - 24 + 32
        # and every QR code still scans at the size a feed shows it
        assert len(zxingcpp.read_barcodes(image)) == 8 * themes


def test_demo_renders_a_poster_per_layout(runner, tmp_path):
    result = invoke(runner, tmp_path, "demo", "-o", str(tmp_path / "out"))
    assert result.exit_code == 0, result.output
    made = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert made == ["demo-grid.png", "demo-hero.png", "demo-list.png", "sheet.png"]


def test_validate_warns_about_a_label_that_breaks_inside_a_word(runner, tmp_path, catalog_text):
    catalog = tmp_path / "catalog.yaml"
    # One word wider than a grid card's line: it can only be cut inside itself.
    catalog.write_text(
        catalog_text.replace("label: 过早来碗热干面", "label: 吃一二三四五六七八九十", 1),
        encoding="utf-8",
    )
    result = invoke(runner, tmp_path, "validate", str(catalog))
    assert result.exit_code == 0, result.output  # a warning, not a problem
    assert (
        "提醒" in result.output
        and "「吃一二三四五六七八九十」在「网格」排版里只能从词中间换行" in (result.output)
    )


def test_validate_gives_no_warning_for_the_shipped_catalog(runner, tmp_path):
    result = invoke(runner, tmp_path, "validate", str(DEFAULT_CATALOG))
    assert result.exit_code == 0 and "提醒" not in result.output, result.output
