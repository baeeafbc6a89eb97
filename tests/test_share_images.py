"""The share page's light rendition: lighter than the alternatives, and its QR code reads."""

from __future__ import annotations

import io

import pytest
import zxingcpp
from PIL import Image

from posterapp import versions
from posterapp.render.light import LIGHT_QUALITY, LIGHT_WIDTH, downscale, light_webp
from posterapp.render.poster import render_png
from posterapp.selection import make_poster

from .conftest import ASSETS, DEFAULT_CATALOG

URL = "https://POSTERS.EXAMPLE-CAMPAIGN.CN/Q/7K3M9QX2ABCD"  # a production-length link
PICKS = {
    "hero": ["travel-fund"],
    "list": ["wuhan-hot-dry-noodles", "travel-fund", "chongqing-hotpot", "beijing-roast-duck"],
}


@pytest.fixture(scope="module", params=versions.theme_ids(ASSETS))
def themed(request):
    return versions.load_sources(DEFAULT_CATALOG, ASSETS, theme=request.param)


@pytest.mark.parametrize("layout", ["hero", "list", "grid"])
def test_the_light_webp_reads_and_is_lighter_than_png_and_jpeg(themed, layout):
    ids = [c.id for c in themed.catalog.choices]
    picks = PICKS.get(layout, ids[: themed.layouts[layout].max_picks])
    png = render_png(themed, make_poster(themed, picks, "小满🌸", URL, layout))
    webp = light_webp(png)
    image = Image.open(io.BytesIO(webp))
    assert image.format == "WEBP" and image.size == (LIGHT_WIDTH, 853)
    assert [r.text for r in zxingcpp.read_barcodes(image)] == [URL]
    out = io.BytesIO()
    downscale(png).save(out, "JPEG", quality=LIGHT_QUALITY, progressive=True, optimize=True)
    assert len(webp) < 0.8 * len(out.getvalue())  # measured: 0.66-0.69
    assert len(webp) < len(png) / 5  # measured: 0.14-0.15
