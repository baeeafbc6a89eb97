"""Which layout a selection gets: by number of picks, by dominant category, or by the user."""

from __future__ import annotations

import shutil

import pytest

from posterapp import versions
from posterapp.assets import Assets
from posterapp.errors import SelectionError
from posterapp.selection import make_poster

from .conftest import ASSETS

URL = "https://example.org/s/layout"
FOOD = ["wuhan-hot-dry-noodles", "nanjing-plum-blossom-cake"]
OTHER = ["travel-fund", "parents-pension-insurance"]
FEAST_RULE = "      - {layout: feast, min_picks: 1, max_picks: 2, category: food, min_share: 0.6}\n"


@pytest.fixture
def feast_assets(tmp_path):
    """Shipped layouts plus 'feast', a copy of hero for food-heavy selections."""
    assets = tmp_path / "assets"
    for folder in ("layouts", "icons", "themes"):
        shutil.copytree(ASSETS / folder, assets / folder)
    hero = (assets / "layouts" / "hero.yaml").read_text(encoding="utf-8")
    (assets / "layouts" / "feast.yaml").write_text(
        hero.replace("id: hero", "id: feast").replace("label: 主角", "label: 美食"),
        encoding="utf-8",
    )
    return Assets(assets)


def with_rule(catalog_text: str, rule: str, user_choice: bool = True) -> str:
    text = catalog_text.replace("    rules:\n", "    rules:\n" + rule, 1)
    return text if user_choice else text.replace("user_choice: true", "user_choice: false", 1)


def test_a_dominant_category_picks_its_layout(write_catalog, catalog_text, feast_assets):
    version = versions.load_sources(
        write_catalog(with_rule(catalog_text, FEAST_RULE)), feast_assets
    )
    assert make_poster(version, FOOD, "", URL).layout == "feast"
    assert make_poster(version, [FOOD[0], OTHER[0]], "", URL).layout == "hero"  # 1 of 2 is food
    assert make_poster(version, OTHER, "", URL).layout == "hero"


def test_the_user_may_choose_any_layout_that_fits(default_version):
    assert make_poster(default_version, OTHER, "", URL, "hero").layout == "hero"
    ids = [c.id for c in default_version.catalog.choices[:5]]
    assert make_poster(default_version, ids, "", URL).layout == "list"


def test_without_user_choice_a_requested_layout_is_refused(
    write_catalog, catalog_text, feast_assets
):
    version = versions.load_sources(
        write_catalog(with_rule(catalog_text, FEAST_RULE, user_choice=False)), feast_assets
    )
    with pytest.raises(SelectionError, match="这次活动会帮你挑好版式") as caught:
        make_poster(version, OTHER, "", URL, "feast")
    assert caught.value.field == "layout"
    assert make_poster(version, OTHER, "", URL, "hero").layout == "hero"  # what rules give


def test_cards_are_centred_and_a_short_last_row_too(default_version):
    grid = default_version.layouts["grid"]
    positions = grid.card_positions(8)
    rows = sorted({y for _, y in positions})
    assert len(rows) == 3
    last = [x for x, y in positions if y == rows[-1]]
    assert len(last) == 2
    left, right = min(last), max(last) + grid.slots.card.width
    box_x, _, box_w, _ = grid.slots.box
    assert abs((left - box_x) - (box_x + box_w - right)) <= 1
