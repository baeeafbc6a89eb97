"""The render caches: keyed by content, bounded, emptied on demand, and never a changed pixel."""

from __future__ import annotations

import dataclasses
import io
import random

import pytest
from PIL import Image, ImageChops, ImageColor

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
    assert caches.CARD_FACES.info().misses == 2  # cut once, for the live poster


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
            for serial in range(8):
                if serial % 2 == 0:  # the next poster has the same picks, another name
                    count = layout.min_picks + serial // 2 % 2  # the same frames come back
                    picks = rng.sample(pool[: count + 1], count)  # mostly the same, reordered
                name = rng.choice(["", "小满", "小满", "Lily 王", "🌸阿May"])
                poster = make_poster(version, picks, name, f"{URL}{serial % 2}", layout_id)
                fast = Image.open(io.BytesIO(render_png(version, poster)))
                assert fast.mode == "RGB"
                plain = render(version, poster)
                assert ImageChops.difference(fast, plain).getbbox() is None, (theme, poster)
    for kept in (caches.BANDS, caches.STATIC_BANDS):
        bands = kept.info()
        assert bands.hits > bands.misses  # the test exercised reuse, not just fresh bands


@pytest.mark.parametrize("factor", [4, 6])
def test_a_small_render_has_the_pixels_of_the_whole_poster_reduced(empty_caches, factor):
    """Previews (÷4) and thumbnails (÷6) draw only the bands parts cover, on block-aligned
    crops: every layout and theme, the placeholder QR code and a poster's own, with and
    without a name, twice each (the second from the kept small layer)."""
    rng = random.Random(factor)
    frames = set()  # (theme, layout, picks): each frame's small layer is drawn once
    for theme in ("warm", "night"):
        version = versions.load_sources(DEFAULT_CATALOG, Assets(ASSETS), theme=theme)
        pool = [c.id for c in version.catalog.choices]
        for layout_id in ("hero", "list", "grid"):
            layout = version.layouts[layout_id]
            for url, name in ((qr.PLACEHOLDER_URL, "小满"), (URL, ""), (qr.PLACEHOLDER_URL, "")):
                count = rng.randint(layout.min_picks, min(layout.max_picks, 12))
                poster = make_poster(version, rng.sample(pool, count), name, url, layout_id)
                frames.add((theme, layout_id, count))
                small = render_small(version, poster, factor)
                plain = render(version, poster).reduce(factor)
                assert small.size == plain.size == (1080 // factor, 1920 // factor)
                assert ImageChops.difference(small, plain).getbbox() is None, (theme, poster)
    kept = caches.SMALL_LAYERS.info()
    assert (kept.hits, kept.misses) == (18 - len(frames), len(frames)) and kept.hits > 0


def test_the_placeholder_qr_code_is_kept_and_a_posters_own_is_not(empty_caches):
    first = qr.dark_modules(qr.PLACEHOLDER_URL, 370)
    assert qr.dark_modules(qr.PLACEHOLDER_URL, 370) is first
    own = qr.dark_modules(URL, 370)
    assert qr.dark_modules(URL, 370) is not own


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
    assert caches.BANDS.info()[:2] == (1, 1)  # (hits, misses): the band
    assert caches.STATIC_BANDS.info()[:2] == (2, 2)  # and the static rows on each side


def _drawn_on_the_card(version, poster):
    """The frame with every pick drawn on its card: what pasting faces must give."""
    layout = version.layouts[poster.layout]
    count = len(poster.picks)
    canvas = compose.frame(version, layout.id, count)
    for choice_id, (x, y) in zip(poster.picks, layout.card_positions(count), strict=True):
        choice = version.catalog.choice(choice_id)
        compose.draw_face(canvas, version, layout, choice, x, y, layout.card_height(count))
    return canvas


def _cards_only(version, poster):
    canvas = compose.frame(version, poster.layout, len(poster.picks))
    for part in compose.parts(version, poster):
        if part.key and part.key[0] == "card":
            part.draw(canvas, (0, 0))
    return canvas


@pytest.mark.parametrize("layout_id", ["hero", "list", "grid"])
def test_a_pasted_face_has_exactly_the_pixels_of_drawing_on_the_card(default_version, layout_id):
    """Every choice, at every card height and place of the layout: each shipped card is a
    face cut from the card's fill and pasted (none is drawn on the poster itself), and the
    pixels are those of drawing the choice on its blank card."""
    layout = default_version.layouts[layout_id]
    ids = [choice.id for choice in default_version.catalog.choices]
    counts = range(layout.min_picks, layout.max_picks + 1)
    for index, count in enumerate(counts):
        height = layout.card_height(count)
        blank = compose._blank_args(default_version, layout, height)
        shift = (height - layout.slots.card.height) // 2
        for start in range(index * count, len(ids), len(counts) * count):
            picks = (ids[start:] + ids)[:count]
            for choice_id in picks:
                face = compose.card_face(default_version, layout_id, choice_id)
                assert face is not None and compose.opaque_under(blank, face.box, shift)
            poster = make_poster(default_version, picks, "", URL, layout_id)
            drawn = _drawn_on_the_card(default_version, poster)
            pasted = _cards_only(default_version, poster)
            assert ImageChops.difference(pasted, drawn).getbbox(alpha_only=False) is None


@pytest.mark.parametrize("change", [{"accent": "bar"}, {"fill": "#FFFFFF99"}])
def test_cards_that_cannot_be_cut_out_are_drawn_on_the_poster(default_version, change):
    """An accent bar grows with its card and a translucent card lets the poster show
    through: no face is kept, and the card is drawn where it stands, the same pixels in the
    fast PNG and the plain render."""
    layout = default_version.layouts["list"]
    card = layout.slots.card.model_copy(update=change)
    slots = layout.slots.model_copy(update={"card": card})
    changed = dataclasses.replace(
        default_version,
        layouts={**default_version.layouts, "list": layout.model_copy(update={"slots": slots})},
        version=f"{default_version.version}-{sorted(change)}",
    )
    picks = ["travel-fund", "wuhan-hot-dry-noodles", "nanjing-plum-blossom-cake"]
    assert all(compose.card_face(changed, "list", pick) is None for pick in picks)
    poster = make_poster(changed, picks, "小满", URL, "list")
    drawn = _drawn_on_the_card(changed, poster)
    assert ImageChops.difference(_cards_only(changed, poster), drawn).getbbox() is None
    plain = render(changed, poster)
    if "fill" in change:  # the poster shows through the card
        assert plain.getpixel((100, layout.card_positions(3)[0][1] + 5)) != (255, 255, 255)
    else:  # the bar, in the category's colour
        x, y = layout.card_positions(3)[0]
        bar = plain.getpixel((x + 4, y + card.height // 2))
        category = changed.catalog.category(changed.catalog.choice(picks[0]).category)
        assert bar == ImageColor.getrgb(category.color)
    for _ in range(2):  # new bands, then kept ones
        fast = Image.open(io.BytesIO(render_png(changed, poster)))
        assert ImageChops.difference(fast, plain).getbbox() is None


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
    assert {"bands", "card_faces", "static_layers", "shape_masks", "emoji_tiles",
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
