"""Catalog versions: content-derived ids, an immutable store, old posters unchanged by edits."""

from __future__ import annotations

import datetime as dt
import json
import shutil

import pytest
import sqlalchemy as sa

from posterapp import versions
from posterapp.assets import Assets
from posterapp.errors import VersionNotFound
from posterapp.render.poster import render_png
from posterapp.selection import make_poster
from posterapp.store import Store, _load_version, catalog_versions

from .conftest import ASSETS

URL = "https://posterapp.example/s/Version1"
PICKS = ["wuhan-hot-dry-noodles", "travel-fund"]


def test_version_is_derived_from_content(write_catalog, catalog_text, default_version):
    same = versions.load_sources(write_catalog(catalog_text), Assets(ASSETS))
    assert same.version == default_version.version
    comment_only = versions.load_sources(write_catalog("# a note\n" + catalog_text), Assets(ASSETS))
    assert comment_only.version == default_version.version, "comments are not content"
    edited = versions.load_sources(
        write_catalog(catalog_text.replace("label: 过早来碗热干面", "label: 过早吃碗热干面")),
        Assets(ASSETS),
    )
    assert edited.version != default_version.version
    assert len(edited.version) == 16


def test_a_catalog_edit_leaves_an_old_poster_pixel_identical(tmp_path, write_catalog, catalog_text):
    store = Store(f"sqlite:///{tmp_path / 'store.db'}")
    store.create_schema()
    before = versions.load_sources(write_catalog(catalog_text), Assets(ASSETS))
    store.save_version(before)
    poster = make_poster(before, PICKS, "小满", URL)
    original = render_png(before, poster)

    # Staff edit the label of a picked choice and publish the catalog again.
    after = versions.load_sources(
        write_catalog(catalog_text.replace("label: 过早来碗热干面", "label: 过早吃碗热干面")),
        Assets(ASSETS),
    )
    store.save_version(after)
    assert render_png(after, make_poster(after, PICKS, "小满", URL)) != original

    _load_version.cache_clear()  # as a fresh process would: read the version from disk
    reloaded = store.load_version(before.version)
    assert reloaded.catalog.choice("wuhan-hot-dry-noodles").label == "过早来碗热干面"
    assert render_png(reloaded, poster) == original
    assert store.version_ids() == [before.version, after.version]


def test_an_icon_image_is_kept_with_its_version(tmp_path, write_catalog, catalog_text):
    """Replacing an icon file does not change posters made before."""
    from PIL import Image

    assets = tmp_path / "assets"
    shutil.copytree(ASSETS / "layouts", assets / "layouts")
    shutil.copytree(ASSETS / "icons", assets / "icons")
    shutil.copytree(ASSETS / "themes", assets / "themes")
    Image.new("RGBA", (64, 64), "#E0472B").save(assets / "icons" / "noodles.png")
    text = catalog_text.replace(
        "icon: icons/wuhan-hot-dry-noodles.svg", "icon: icons/noodles.png", 1
    )
    store = Store(f"sqlite:///{tmp_path / 'store.db'}")
    store.create_schema()
    before = versions.load_sources(write_catalog(text), Assets(assets))
    store.save_version(before)
    original = render_png(before, make_poster(before, PICKS, "", URL))

    Image.new("RGBA", (64, 64), "#2B6BE0").save(assets / "icons" / "noodles.png")
    after = versions.load_sources(write_catalog(text), Assets(assets))
    assert after.version != before.version
    _load_version.cache_clear()
    assert (
        render_png(store.load_version(before.version), make_poster(before, PICKS, "", URL))
        == original
    )


@pytest.mark.parametrize("bad", ["nope", "../../etc/passwd", "0123456789abcdef", "ABCDEF"])
def test_unknown_or_malformed_versions_are_not_found(store, bad):
    with pytest.raises(VersionNotFound, match="没有目录版本"):
        store.load_version(bad)


def test_a_tampered_stored_version_is_refused(store, default_version):
    store.save_version(default_version)
    table = catalog_versions
    with store.engine.begin() as db:
        row = table.c.version == default_version.version
        manifest = json.loads(db.scalar(sa.select(table.c.manifest).where(row)))
        manifest["catalog"]["choices"][0]["label"] = "被改过的标签"
        db.execute(table.update().where(row).values(manifest=json.dumps(manifest).encode()))
    _load_version.cache_clear()
    with pytest.raises(VersionNotFound, match="已损坏"):
        store.load_version(default_version.version)


def test_saving_is_idempotent_and_never_rewrites(store, default_version):
    store.save_version(default_version)
    store.save_version(default_version)
    assert store.version_ids() == [default_version.version]


def test_a_version_stored_before_the_models_grew_still_loads_and_renders(store, default_version):
    """Stored manifests are checked as stored: new optional fields must not 'damage' them."""
    from posterapp.model import Poster
    from posterapp.render.poster import render
    from posterapp.versions import _canonical, _sha256

    manifest = json.loads(versions.encode(default_version))
    # What a version looked like before themes, badges, panels and growing cards existed.
    manifest.pop("themes")
    for key in ("theme", "life_tags", "life_tag_default"):
        manifest["catalog"]["campaign"].pop(key)
    for layout in manifest["layouts"].values():
        for key in ("keyvisual", "life_tag", "panel", "cta", "cta_hint", "arrow"):
            layout.pop(key)
        layout["slots"]["card"].pop("grow_to")
        layout["background"] = {"color": "#FFF4E8", "gradient": None, "image": None}
    old_bytes = _canonical(manifest)
    old_id = _sha256(old_bytes)[:16]
    store.save_version(default_version)  # its images
    with store.engine.begin() as db:
        db.execute(
            catalog_versions.insert().values(
                version=old_id, manifest=old_bytes, created_at=dt.datetime.now(dt.UTC)
            )
        )
    _load_version.cache_clear()
    old = store.load_version(old_id)
    assert old.version == old_id and old.theme is None
    ids = [c.id for c in old.catalog.choices[:4]]
    image = render(
        old, Poster(picks=tuple(ids), name="小满", url="https://x.example/q/A", layout="list")
    )
    assert image.getpixel((5, 5)) == (0xFF, 0xF4, 0xE8)  # its own background, no keyvisual
