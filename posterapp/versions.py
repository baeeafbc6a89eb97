"""Catalog versions: a catalog with its layouts and images, named by a hash of its content.

A poster records the version it was made with. Versions are kept, never changed, in the
store (``posterapp.store``), keyed by that hash, with their images keyed by SHA-256; so a
poster made before any later edit of the catalog, a layout or an icon still renders
pixel-identically from its own version.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from . import catalog as catalog_module
from . import layouts as layouts_module
from .assets import Assets
from .catalog import Catalog
from .errors import InvalidSource, Problem, VersionNotFound
from .layouts import Layout
from .themes import Theme

FORMAT = 1


@dataclass(frozen=True, eq=False)
class CatalogVersion:
    """Everything a poster's pixels depend on, apart from the picks, name and URL."""

    catalog: Catalog
    layouts: dict[str, Layout]
    assets: dict[str, bytes] = field(repr=False)
    version: str = ""
    # The catalog's theme (none for versions made before themes: their layouts hold colours).
    themes: dict[str, Theme] = field(default_factory=dict)

    def asset(self, path: str) -> bytes:
        return self.assets[path]

    @property
    def layouts_in_order(self) -> list[Layout]:
        """Return the layouts in the order people and staff see them (``layouts.in_order``)."""
        return layouts_module.in_order(self.layouts.values())

    @property
    def theme(self) -> Theme | None:
        return self.themes.get(self.catalog.campaign.theme or "")

    def manifest(self) -> dict:
        """Return the JSON-ready description whose hash is the version."""
        return {
            "format": FORMAT,
            "catalog": self.catalog.model_dump(mode="json", by_alias=True),
            "layouts": {
                k: v.model_dump(mode="json", by_alias=True) for k, v in sorted(self.layouts.items())
            },
            "assets": {path: _sha256(data) for path, data in sorted(self.assets.items())},
            # Only when present, so that versions made before themes keep their ids.
            **(
                {
                    "themes": {
                        k: v.model_dump(mode="json", by_alias=True) for k, v in self.themes.items()
                    }
                }
                if self.themes
                else {}
            ),
        }


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _canonical(manifest: dict) -> bytes:
    return json.dumps(manifest, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


def build(
    catalog: Catalog,
    layouts: dict[str, Layout],
    assets: dict[str, bytes],
    themes: dict[str, Theme] | None = None,
) -> CatalogVersion:
    """Make a CatalogVersion and name it by the hash of its content."""
    draft = CatalogVersion(catalog, dict(layouts), dict(assets), themes=dict(themes or {}))
    version = _sha256(_canonical(draft.manifest()))[:16]
    return CatalogVersion(catalog, dict(layouts), dict(assets), version, dict(themes or {}))


def in_theme(version: CatalogVersion, theme_id: str) -> CatalogVersion:
    """Return ``version`` drawn in another of its themes (an experiment's variant).

    Its id is the version's with the theme appended: caches keep the two apart, and the
    poster still records only the version it was made with.
    """
    if theme_id == version.catalog.campaign.theme or theme_id not in version.themes:
        return version
    return _in_theme(version, theme_id)


@functools.lru_cache(maxsize=16)
def _in_theme(version: CatalogVersion, theme_id: str) -> CatalogVersion:
    campaign = version.catalog.campaign.model_copy(update={"theme": theme_id})
    catalog = version.catalog.model_copy(update={"campaign": campaign})
    return CatalogVersion(
        catalog, version.layouts, version.assets, f"{version.version}+{theme_id}", version.themes
    )


def theme_ids(assets: Assets) -> list[str]:
    """Return the ids of the themes under ``assets/themes``."""
    return sorted(p.stem for p in (assets.root / "themes").glob("*.yaml"))


def load_theme(assets: Assets, theme_id: str) -> tuple[Theme | None, list[Problem]]:
    """Parse ``assets/themes/<theme_id>.yaml``; return it and its problems."""
    from . import themes as themes_module  # noqa: PLC0415

    path = assets.root / "themes" / f"{theme_id}.yaml"
    if not path.is_file():
        known = theme_ids(assets)
        message = f"没有名为 '{theme_id}' 的主题；可用的主题：{', '.join(known) or '（无）'}"
        return None, [Problem(_shown(path), 0, "campaign.theme", message)]
    theme, doc = themes_module.parse(path.read_bytes(), _shown(path), assets)
    return (theme if not doc.problems else None), doc.problems


def load_layouts(assets: Assets) -> tuple[dict[str, Layout], list[Problem]]:
    """Parse every ``*.yaml`` in ``assets/layouts``; return the good ones and all problems."""
    from .render import proof  # noqa: PLC0415 - proof needs the fonts, loaded lazily

    found: dict[str, Layout] = {}
    problems: list[Problem] = []
    for path in sorted(assets.layouts_dir.glob("*.yaml")):
        layout, doc = layouts_module.parse(path.read_bytes(), _shown(path), assets)
        if layout is not None and not doc.problems:
            proof.check_layout(layout, doc)
        problems += doc.problems
        if layout is not None and not doc.problems:
            found[layout.id] = layout
    if not found and not problems:
        problems.append(Problem(_shown(assets.layouts_dir), 0, "", "no layout files (*.yaml) here"))
    return found, problems


def load_sources(catalog_path: Path, assets: Assets, theme: str | None = None) -> CatalogVersion:
    """Load a catalog file and the layouts under ``assets/layouts``; raise with every problem."""
    return load_text(catalog_path.read_bytes(), _shown(catalog_path), assets, theme)


def load_text(
    text: str | bytes, file: str, assets: Assets, theme: str | None = None
) -> CatalogVersion:
    """Load catalog YAML text with the layouts; raise InvalidSource listing every problem.

    ``theme`` overrides the catalog's own (to preview or compare themes).
    """
    from .render import proof  # noqa: PLC0415

    layouts, problems = load_layouts(assets)
    catalog, doc = catalog_module.parse(text, file, assets)
    if layouts and not problems:
        # Every problem at once: fit and glyph problems are not held back by others.
        if catalog is not None:
            layouts_module.check_rules(catalog, layouts, doc)
        if doc.parts is not None:
            proof.check_parts(doc.parts, layouts, doc)
    problems += doc.problems
    themes: dict[str, Theme] = {}
    if catalog is not None and theme:
        campaign = catalog.campaign.model_copy(update={"theme": theme})
        catalog = catalog.model_copy(update={"campaign": campaign})
    if catalog is not None:
        # The catalog's theme, and those of an experiment's variants.
        experiment = catalog.campaign.experiment
        wanted = (
            [catalog.campaign.theme, *(v.theme for v in experiment.variants)]
            if experiment
            else [catalog.campaign.theme]
        )
        for theme_id in dict.fromkeys(t for t in wanted if t):
            found, theme_problems = load_theme(assets, theme_id)
            problems += theme_problems
            if found is not None:
                themes[found.id] = found
    if problems or catalog is None:  # no catalog without a problem that says why
        raise InvalidSource(problems)
    paths = {c.icon for c in catalog.choices if c.icon_is_image}
    paths |= {theme.keyvisual_path for theme in themes.values()}
    paths |= {
        lay.background.image for lay in layouts.values() if lay.background and lay.background.image
    }
    images = {p: assets.read(p, max_bytes=8 * 1024 * 1024) for p in sorted(paths)}
    return build(catalog, layouts, images, themes)


def _shown(path: Path) -> str:
    """Show a path relative to the working directory when it is under it."""
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def encode(version: CatalogVersion) -> bytes:
    """Return the canonical manifest to store; its hash is the version id."""
    return _canonical(version.manifest())


def blobs(version: CatalogVersion) -> dict[str, bytes]:
    """Return the version's images by their SHA-256, as stored beside the manifest."""
    return {_sha256(data): data for data in version.assets.values()}


def is_version_id(value: str) -> bool:
    return len(value) == 16 and all(c in "0123456789abcdef" for c in value)


def decode(version_id: str, manifest: bytes, blob: Callable[[str], bytes | None]) -> CatalogVersion:
    """Rebuild a stored version, fetching images with ``blob(sha256)``; check its hashes.

    The stored bytes are checked, not a re-serialisation of them: a version stored before
    the models gained a field (a theme, a badge …) must load, and keep its id, for ever.
    """
    manifest = bytes(manifest)
    found = _sha256(manifest)[:16]
    if found != version_id:
        raise VersionNotFound(f"目录版本「{version_id}」已损坏：内容的校验值是「{found}」")
    data = json.loads(manifest)
    catalog = Catalog.model_validate(data["catalog"], strict=False)
    layouts = {k: Layout.model_validate(v, strict=False) for k, v in data["layouts"].items()}
    themes = {k: Theme.model_validate(v, strict=False) for k, v in data.get("themes", {}).items()}
    assets = {}
    for path, sha in data["assets"].items():
        content = blob(sha)
        if content is None or _sha256(content) != sha:
            raise VersionNotFound(f"目录版本「{version_id}」已损坏：缺少图片 {path}")
        assets[path] = content
    return CatalogVersion(catalog, layouts, assets, version_id, themes)
