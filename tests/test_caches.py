"""The render caches: keyed by content, bounded, emptied on demand, and never a changed pixel."""

from __future__ import annotations

import io
import random

import pytest
from PIL import Image, ImageChops

from posterapp import versions
from posterapp.assets import Assets
from posterapp.render import banding, caches, compose, qr
from posterapp.render.caches import image_bytes
from posterapp.render.poster import render, render_png, render_small
from posterapp.selection import make_poster

from .conftest import ASSETS, DEFAULT_CATALOG

URL = "https://posterapp.example/s/Ca7che0Key9"


@pytest.fixture
def empty_caches():
    caches.clear_all()
    yield
    caches.clear_all()


def test_loading_the_same_catalog_twice_hits_the_static_layer_cache(empty_caches):
    first = versions.load_sources(DEFAULT_CATALOG, Assets(ASSETS))
    again = versions.load_sources(DEFAULT_CATALOG, Assets(ASSETS))
    assert first is not again and first.version == again.version
    layer = compose.static_layer(first, "list")
    assert compose.static_layer(again, "list").tobytes() == layer.tobytes()
    assert caches.STATIC_LAYERS.info()[:2] == (1, 1)  # (hits, misses)
    assert caches.STATIC_LAYERS.used < image_bytes(layer) / 50  # kept deflated


def test_a_preview_of_the_live_yaml_shares_the_live_posters_caches(empty_caches, catalog_text):
    live = versions.load_sources(DEFAULT_CATALOG, Assets(ASSETS))
    poster = make_poster(live, ["travel-fund", "wuhan-hot-dry-noodles"], "小满", URL, "hero")
    render_png(live, poster)
    kept = caches.BANDS.info().currsize
    # The editor builds a new version from the draft's text on every preview request.
    preview = versions.load_text(catalog_text, "draft.yaml", Assets(ASSETS))
    render_png(preview, poster)
    assert caches.STATIC_LAYERS.info().misses == 1
    assert caches.BANDS.info().currsize == kept  # every kept band was found, none added
    assert caches.CARD_TILES.info().misses == 2  # drawn once, for the live poster


def test_another_theme_is_another_key(empty_caches):
    warm = versions.load_sources(DEFAULT_CATALOG, Assets(ASSETS))
    night = versions.load_sources(DEFAULT_CATALOG, Assets(ASSETS), theme="night")
    assert warm.version != night.version
    assert compose.static_layer(warm, "list") is not compose.static_layer(night, "list")
    colours = [compose.static_layer(v, "list").convert("RGB") for v in (warm, night)]
    assert ImageChops.difference(*colours).getbbox()


def test_bands_reused_across_posters_keep_every_pixel_of_a_plain_render(empty_caches):
    """Overlapping picks in varied orders, names and layouts, both themes: cards come back
    at the same places on purpose, so most bands are reused; each poster must still decode
    to exactly the pixels of drawing it whole."""
    rng = random.Random(14)
    for theme in ("warm", "night"):
        version = versions.load_sources(DEFAULT_CATALOG, Assets(ASSETS), theme=theme)
        pool = [c.id for c in version.catalog.choices][:14]  # few choices: they recur
        for layout_id in ("hero", "list", "grid"):
            layout = version.layouts[layout_id]
            for serial in range(5):
                count = rng.randint(layout.min_picks, min(layout.max_picks, len(pool)))
                picks = rng.sample(pool[: count + 2], count)  # mostly the same, reordered
                name = rng.choice(["", "小满", "小满", "Lily 王", "🌸阿May"])
                poster = make_poster(version, picks, name, f"{URL}{serial % 2}", layout_id)
                fast = Image.open(io.BytesIO(render_png(version, poster)))
                assert fast.mode == "RGB"
                plain = render(version, poster)
                assert ImageChops.difference(fast, plain).getbbox() is None, (theme, poster)
    bands = caches.BANDS.info()
    assert bands.hits > bands.misses  # the test exercised reuse, not just fresh bands


@pytest.mark.parametrize("factor", [4, 6])
def test_a_small_render_has_the_pixels_of_the_whole_poster_reduced(empty_caches, factor):
    """Previews (÷4) and thumbnails (÷6) draw only the bands parts cover, on block-aligned
    crops: every layout and theme, the placeholder QR code and a poster's own, with and
    without a name, twice each (the second from the kept small layer)."""
    rng = random.Random(factor)
    for theme in ("warm", "night"):
        version = versions.load_sources(DEFAULT_CATALOG, Assets(ASSETS), theme=theme)
        pool = [c.id for c in version.catalog.choices]
        for layout_id in ("hero", "list", "grid"):
            layout = version.layouts[layout_id]
            for url, name in ((qr.PLACEHOLDER_URL, "小满"), (URL, ""), (qr.PLACEHOLDER_URL, "")):
                count = rng.randint(layout.min_picks, min(layout.max_picks, 12))
                poster = make_poster(version, rng.sample(pool, count), name, url, layout_id)
                small = render_small(version, poster, factor)
                plain = render(version, poster).reduce(factor)
                assert small.size == plain.size == (1080 // factor, 1920 // factor)
                assert ImageChops.difference(small, plain).getbbox() is None, (theme, poster)
    assert caches.SMALL_LAYERS.info()[:2] == (12, 6)  # (hits, misses): kept per theme × layout


def test_the_placeholder_qr_tile_is_kept_and_a_posters_own_is_not(empty_caches):
    first = qr.qr_tile(qr.PLACEHOLDER_URL, 370, "#111111", "#FFFFFF", 24)
    assert qr.qr_tile(qr.PLACEHOLDER_URL, 370, "#111111", "#FFFFFF", 24) is first
    own = qr.qr_tile(URL, 370, "#111111", "#FFFFFF", 24)
    assert qr.qr_tile(URL, 370, "#111111", "#FFFFFF", 24) is not own


@pytest.mark.parametrize("alpha", [255, 128])
def test_bands_blend_as_drawing_the_whole_layer_opaque_or_not(empty_caches, alpha):
    """New bands start from the static rows when the layer is opaque; a translucent one
    blends differently, so its bands are drawn on the layer itself."""
    layer = Image.linear_gradient("L").resize((64, 48)).convert("RGBA")
    layer.putalpha(alpha)
    tile = Image.new("RGBA", (20, 10), (0, 0, 255, 100))

    def draw(canvas, origin):
        canvas.alpha_composite(tile, (30 - origin[0], 20 - origin[1]))

    whole = layer.copy()
    draw(whole, (0, 0))
    for scope in (("test", alpha), ("test", alpha), None):  # new, kept, never kept
        parts = [banding.Part(20, 30, ("tile",), draw, 30, 50)]
        png = banding.encode((64, 48), scope, lambda: layer, parts)
        fast = Image.open(io.BytesIO(png))
        assert ImageChops.difference(fast, whole.convert("RGB")).getbbox() is None
    assert caches.BANDS.info()[:2] == (3, 3)  # the band and the static rows on each side


@pytest.mark.parametrize("layout_id", ["hero", "list", "grid"])
def test_a_card_with_its_opaque_core_pasted_is_alpha_composited_exactly(default_version, layout_id):
    layout = default_version.layouts[layout_id]
    height = layout.card_height(layout.max_picks)
    backdrop = Image.linear_gradient("L").resize((1080, 700)).convert("RGBA")
    translucent = backdrop.copy()
    translucent.putalpha(Image.linear_gradient("L").resize((1080, 700)))
    for choice in default_version.catalog.choices[::9]:
        tile, core = compose.card_tile(default_version, layout_id, choice.id, height)
        assert core is not None  # the shipped cards are opaque inside their corners
        for background in (backdrop, translucent):
            for at in ((40, 60), (-30, -20), (1080 - tile.width + 25, 700 - tile.height + 9)):
                expected, fast = background.copy(), background.copy()
                expected.alpha_composite(tile, at)
                compose.composite(fast, tile, at, core)
                assert ImageChops.difference(fast, expected).getbbox(alpha_only=False) is None


def test_a_cache_keeps_to_its_byte_budget_dropping_the_least_recently_used():
    cache = caches.Budgeted("test", lambda key, value: len(value), budget=10)
    cache.put("a", b"1234")
    cache.put("b", b"1234")
    assert cache.get("a") == b"1234"  # now "b" is the least recently used
    cache.put("c", b"1234")
    assert cache.get("b") is None and cache.get("a") and cache.get("c")
    assert cache.used == 8
    cache.put("huge", b"x" * 11)  # larger than the whole budget: not kept, nothing dropped
    assert cache.get("huge") is None and cache.used == 8
    cache.clear()
    assert cache.used == 0 and cache.get("a") is None


def test_every_cache_is_bounded_and_clear_all_empties_them(default_version):
    poster = make_poster(default_version, ["travel-fund", "nanjing-plum-blossom-cake"], "阿May",
                         URL, "hero")  # fmt: skip
    render_png(default_version, poster)
    found = {row["name"]: row for row in caches.inventory()}
    assert {"bands", "card_tiles", "static_layers", "shape_masks", "emoji_tiles",
            "text.width", "text.fit", "fonts.face", "fonts.full_face"} <= set(found)  # fmt: skip
    for row in found.values():
        assert row["limit"] > 0
        if row["unit"] == "bytes":
            assert row["bytes"] <= row["limit"]
    assert sum(row["limit"] for row in found.values() if row["unit"] == "bytes") <= 170 * 2**20
    caches.clear_all()
    assert all(row["entries"] == 0 for row in caches.inventory())


def test_static_rows_kept_in_deflated_chunks_give_back_any_rows_exactly():
    rng = random.Random(3)
    width, height = 37, 3 * banding.StaticRows.CHUNK + 5  # a last chunk that is not full
    raw = bytes(rng.randrange(4) for _ in range((1 + 3 * width) * height))
    rows = banding.StaticRows(raw, width)
    line = 1 + 3 * width
    spans = [(0, height), (31, 33), (32, 64), (0, 1), (height - 1, height)]
    spans += [(t, rng.randrange(t + 1, height + 1)) for t in rng.sample(range(height), 20)]
    for top, bottom in spans:
        assert rows.between(top, bottom) == raw[top * line : bottom * line], (top, bottom)
    assert rows.size < len(raw) / 2


def test_a_hero_cards_blank_is_kept_deflated_though_larger_than_its_budget_raw(empty_caches):
    """A blank hero card is 1.9 MB of RGBA, more than blank_cards' whole budget: kept as is it
    would be drawn again for every new hero card (~50 ms). Deflated it is kept, and each call
    gets the same pixels in an image of its own."""
    args = (952, 500, "#FFFFFF", "#E3A988", 36)
    first = compose.blank_card(*args)
    assert image_bytes(first) > caches.BUDGETS["blank_cards"]
    again = compose.blank_card(*args)
    assert caches.REGISTRY["blank_cards"].info()[:2] == (1, 1)  # (hits, misses)
    assert again is not first and again.tobytes() == first.tobytes()
    assert caches.REGISTRY["blank_cards"].used < image_bytes(first) / 20
