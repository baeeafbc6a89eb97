"""The share page's light rendition, in every layout and theme: it reads, and it is lightest."""

from __future__ import annotations

import io

import pytest
import zxingcpp
from PIL import Image

from posterapp import versions
from posterapp.assets import Assets
from posterapp.render.poster import (
    LIGHT_QUALITY,
    LIGHT_REDUCE,
    render_light,
    render_png,
    render_small,
)
from posterapp.selection import make_poster

from .conftest import ASSETS, DEFAULT_CATALOG

URL = "https://POSTERS.EXAMPLE-CAMPAIGN.CN/Q/7K3M9QX2ABCD"  # a production-length link
PICKS = {
    "hero": ["travel-fund"],
    "list": ["wuhan-hot-dry-noodles", "travel-fund", "chongqing-hotpot", "beijing-roast-duck"],
}


@pytest.fixture(scope="module", params=versions.theme_ids(Assets(ASSETS)))
def themed(request):
    return versions.load_sources(DEFAULT_CATALOG, Assets(ASSETS), theme=request.param)


@pytest.mark.parametrize("layout", ["hero", "list", "grid"])
def test_the_light_webp_reads_and_is_lighter_than_png_and_jpeg(themed, layout):
    ids = [c.id for c in themed.catalog.choices]
    poster = make_poster(themed, PICKS.get(layout, ids[:12]), "小满🌸", URL, layout)
    webp = render_light(themed, poster)
    image = Image.open(io.BytesIO(webp))
    assert image.format == "WEBP" and image.size == (540, 960)
    assert [r.text for r in zxingcpp.read_barcodes(image)] == [URL]
    out = io.BytesIO()
    small = render_small(themed, poster, LIGHT_REDUCE).convert("RGB")
    small.save(out, "JPEG", quality=LIGHT_QUALITY, progressive=True, optimize=True)
    assert len(webp) < 0.8 * len(out.getvalue())  # measured: 0.68-0.72
    assert len(webp) < len(render_png(themed, poster)) / 5  # measured: 0.15-0.17
