"""One place for public paths, the poster-id format, the layout order and the text placeholders."""

from __future__ import annotations

import dataclasses
import inspect
import re

import pytest

from posterapp import layouts, urls
from posterapp.layouts import PLACEHOLDERS, TextElement
from posterapp.model import ID_ALPHABET, Poster, is_poster_id, new_poster_id
from posterapp.posters import Studio
from posterapp.render import compose, proof
from posterapp.web import openapi

NEW_ID = "7K3M9Q2XZ0AB"
OLD_ID = "Ab3_dE9-kLmN"  # made before ids went upper case

# Each builder, a path it builds, and the route (endpoint, arguments) it must reach.
ROUTES = {
    "poster_image": (urls.poster_image(NEW_ID), "share.poster_image", {"poster_id": NEW_ID}),
    "light_image": (urls.light_image(OLD_ID), "share.light_image", {"poster_id": OLD_ID}),
    "card_image": (urls.card_image(NEW_ID), "share.card_image", {"poster_id": NEW_ID}),
    "share_page": (urls.share_page(NEW_ID, just_made=True), "share.share_page",
                   {"poster_id": NEW_ID}),
    "scan": (urls.scan(NEW_ID), "share.scan", {"poster_id": NEW_ID}),
    "go_choice": (urls.go_choice(NEW_ID, "travel-fund"), "go.go",
                  {"poster_id": NEW_ID, "choice_id": "travel-fund"}),
    "go_offer": (urls.go_offer(NEW_ID, "spring-trip"), "go.go_offer",
                 {"poster_id": NEW_ID, "offer_id": "spring-trip"}),
    "picker": (urls.picker(ref=OLD_ID), "picker.picker", {}),
    "preview": (urls.preview("abc123", ["travel-fund", "family-portrait"], "小满", "hero"),
                "picker.preview", {}),
    "layout_thumbnail": (urls.layout_thumbnail("abc123", "grid"), "picker.layout_thumbnail",
                         {"version_id": "abc123", "layout_id": "grid"}),
    "catalog_asset": (urls.catalog_asset("abc123", "icons/noodles.png"), "picker.catalog_asset",
                      {"version_id": "abc123", "path": "icons/noodles.png"}),
}  # fmt: skip
NOT_PATHS = {"absolute", "scan_url", "upper_case_host"}  # they build on a path from above


def test_every_path_builder_is_checked_against_the_routes():
    builders = {
        name
        for name, value in vars(urls).items()
        if inspect.isfunction(value) and value.__module__ == urls.__name__
    }
    assert builders - NOT_PATHS == set(ROUTES)


@pytest.mark.parametrize("builder", sorted(ROUTES))
def test_a_built_path_reaches_its_route(app, builder):
    path, endpoint, arguments = ROUTES[builder]
    adapter = app.url_map.bind("posters.example")
    assert adapter.match(path.split("?")[0], method="GET") == (endpoint, arguments)


def test_the_paths_of_a_poster_are_the_ones_its_qr_code_and_links_always_had():
    assert urls.poster_image(OLD_ID) == "/p/Ab3_dE9-kLmN.png"
    assert urls.light_image(NEW_ID) == "/p/7K3M9Q2XZ0AB.webp"
    assert urls.card_image(NEW_ID) == "/c/7K3M9Q2XZ0AB.png"
    assert urls.share_page(NEW_ID) == "/s/7K3M9Q2XZ0AB"
    assert urls.share_page(NEW_ID, just_made=True) == "/s/7K3M9Q2XZ0AB?new=1"
    assert urls.share_page(NEW_ID, from_scan=True) == "/s/7K3M9Q2XZ0AB?from=scan"
    assert urls.picker(ref=OLD_ID) == "/?ref=Ab3_dE9-kLmN" and urls.picker() == "/"
    assert urls.go_offer(NEW_ID, "x") == "/go/7K3M9Q2XZ0AB/offer/x"
    assert (
        urls.preview("v1", ["a", "b"], "小 满", "")
        == "/preview.jpg?v=v1&choices=a%2Cb&name=%E5%B0%8F+%E6%BB%A1&layout="
    )
    assert (
        urls.scan_url("https://posters.example/", NEW_ID)
        == "https://POSTERS.EXAMPLE/Q/7K3M9Q2XZ0AB"
    )


def test_the_posters_made_before_ids_went_upper_case_still_scan(app):
    adapter = app.url_map.bind("posters.example")
    assert adapter.match(f"/q/{OLD_ID}") == ("share.scan", {"poster_id": OLD_ID})


def test_the_share_page_reads_the_query_its_builder_writes(client, studio):
    made = studio.create(["travel-fund", "family-portrait"], name="小满")
    maker = client.get(urls.share_page(made.id, just_made=True)).get_data(as_text=True)
    friend = client.get(urls.share_page(made.id)).get_data(as_text=True)
    assert 'class="share is-maker"' in maker and 'class="share is-friend"' in friend
    scanned = client.get(urls.scan(made.id))
    assert scanned.status_code == 302
    assert scanned.headers["Location"] == urls.share_page(made.id, from_scan=True)
    page = client.get("/").get_data(as_text=True)
    assert f'action="{urls.picker()}"' in page and 'data-share="/s/"' in page


# --- the poster-id format -------------------------------------------------------------------

BAD_IDS = [
    "",
    "7K3M9Q2XZ0A",  # 11
    "7K3M9Q2XZ0ABC",  # 13
    "7K3M9Q2XZ0A/",
    "7K3M9Q2XZ0A.",
    "7K3M9Q2XZ0AB\n",
    "ÄK3M9Q2XZ0AB",  # a letter, but not ASCII
    "７K3M9Q2XZ0AB",  # a full-width digit
    "7K3M 9Q2XZ0A",
]


def test_new_poster_ids_are_twelve_characters_of_crockford_base32():
    assert ID_ALPHABET == "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # no I, L, O, U
    ids = {new_poster_id() for _ in range(500)}
    assert len(ids) == 500
    assert all(len(i) == 12 and set(i) <= set(ID_ALPHABET) for i in ids)
    assert set("".join(ids)) == set(ID_ALPHABET)  # 6000 draws from 32: every one shows


@pytest.mark.parametrize("value", [NEW_ID, OLD_ID, "0123456789AB", "abcdefghijkl", "-_-_-_-_-_-_"])
def test_every_reader_of_ids_takes_new_and_old_ones(value):
    assert is_poster_id(value)
    assert urls.POSTER_IMAGE.fullmatch(urls.poster_image(value))[1] == value
    for build, letter, ext in ((urls.poster_image, "p", "png"), (urls.light_image, "p", "webp"),
                               (urls.card_image, "c", "png")):  # fmt: skip
        assert urls.POSTER_IMAGES.fullmatch(build(value)).groups() == (letter, value, ext)
    assert re.fullmatch(openapi.ID["pattern"], value)


@pytest.mark.parametrize("value", BAD_IDS)
def test_every_reader_of_ids_refuses_what_is_no_id(value):
    assert not is_poster_id(value)
    assert urls.POSTER_IMAGE.fullmatch(urls.poster_image(value)) is None
    assert urls.POSTER_IMAGES.fullmatch(urls.light_image(value)) is None
    assert not re.fullmatch(openapi.ID["pattern"], value)


def test_an_id_that_cannot_exist_is_a_missing_poster_not_a_lookup(client):
    response = client.get(urls.share_page("7K3M9Q2XZ0A."))
    assert response.status_code == 404
    assert "这张海报找不到了" in response.get_data(as_text=True)


# --- the layout order -----------------------------------------------------------------------


@pytest.fixture
def shuffled(default_version):
    """The shipped layouts declared out of order, with a layout sharing hero's fewest picks.

    ``broad`` accepts 1–6 picks: it ties with ``hero`` (1–2) on the fewest picks and its id
    comes first, but hero accepts fewer at most, so hero comes first. Every surface agrees.
    """
    given = default_version.layouts
    broad = given["list"].model_copy(update={"id": "broad", "min_picks": 1, "label": "宽松"})
    declared = {"grid": given["grid"], "broad": broad, "list": given["list"], "hero": given["hero"]}
    return dataclasses.replace(default_version, layouts=declared)


def test_layouts_come_in_one_order_fewest_picks_first(shuffled):
    assert [lay.id for lay in shuffled.layouts_in_order] == ["hero", "broad", "list", "grid"]
    assert layouts.in_order(shuffled.layouts.values()) == shuffled.layouts_in_order


def test_the_picker_the_api_and_the_proofs_show_layouts_in_the_same_order(
    client, shuffled, monkeypatch
):
    monkeypatch.setattr(Studio, "active", property(lambda self: shuffled))
    expected = [lay.id for lay in shuffled.layouts_in_order]
    page = client.get("/").get_data(as_text=True)
    in_picker = re.findall(r'name="layout" value="([a-z-]+)"', page)
    thumbnails = re.findall(r'src="/layouts/[^/]+/([a-z-]+)\.jpg"', page)
    in_api = [lay["id"] for lay in client.get("/api/catalog").get_json()["layouts"]]
    in_proofs = [lay.id for lay in proof.reachable(shuffled.catalog, shuffled.layouts)]
    assert in_picker == thumbnails == in_api == in_proofs == expected


# --- the text placeholders ------------------------------------------------------------------


def test_every_placeholder_is_filled_in_on_the_poster(default_version):
    template = "/".join("{" + name + "}" for name in PLACEHOLDERS)
    element = TextElement(box=(0, 0, 900, 100), size=40, text=template)
    picks = ("travel-fund", "family-portrait")
    poster = Poster(picks=picks, name="小满", url="https://posters.example/", layout="hero")
    filled = compose.element_text("title", element, default_version.catalog, poster)
    campaign = default_version.catalog.campaign
    tag = compose.life_tag(default_version.catalog, picks)
    values = [campaign.title, campaign.slogan, campaign.brand, campaign.footer, "小满", "2", tag]
    assert filled == "/".join(values)


def test_the_default_texts_use_only_placeholders():
    used = {m for text in layouts.DEFAULT_TEXTS.values() for m in re.findall(r"\{(\w+)\}", text)}
    assert used <= set(PLACEHOLDERS)


def test_placeholders_are_filled_in_their_order_and_no_others():
    assert layouts.fill(
        "{count}·{name}·{nope}·{title.__class__}", {"name": "{count}", "count": "3"}
    ) == ("3·3·{nope}·{title.__class__}")
