"""Design v2 checks on real pixels and real assets: rhythm, decoration zones, contrast, breaks.

Every poster is rendered from the shipped catalog and assets, in both themes, for every pick
count each layout accepts. Versions are loaded once per module; the whole file runs in seconds.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from posterapp import themes, versions
from posterapp.assets import Assets
from posterapp.errors import InvalidSource
from posterapp.layouts import _overlap
from posterapp.model import Poster
from posterapp.render import text
from posterapp.render.poster import render

ROOT = Path(__file__).resolve().parent.parent
CATALOG = ROOT / "choices" / "default.yaml"
ASSETS = ROOT / "assets"
URL = "https://posters.example/q/ABCDEFGHJK"
CANVAS_H = 1920
MAX_EMPTY_BAND = int(0.08 * CANVAS_H)  # 153 px
ROW_TOLERANCE = 6  # max - min per channel across a row that still counts as empty
THEMES = ("warm", "night")
LAYOUTS = ("hero", "list", "grid")
CONTENT_TEXTS = ("name", "title", "life_tag", "count", "cta", "cta_hint", "brand")

_VERSIONS: dict[str, versions.CatalogVersion] = {}


def version(theme: str, tmp_dir: Path) -> versions.CatalogVersion:
    """The shipped catalog with ``campaign.theme`` set to ``theme``, loaded once per module."""
    if theme not in _VERSIONS:
        source = CATALOG.read_text(encoding="utf-8")
        assert "theme: warm" in source
        path = tmp_dir / f"catalog-{theme}.yaml"
        path.write_text(source.replace("theme: warm", f"theme: {theme}", 1), encoding="utf-8")
        _VERSIONS[theme] = versions.load_sources(path, Assets(ASSETS))
        assert _VERSIONS[theme].theme is not None and _VERSIONS[theme].theme.id == theme
    return _VERSIONS[theme]


@pytest.fixture(scope="module")
def by_theme(tmp_path_factory) -> dict[str, versions.CatalogVersion]:
    tmp = tmp_path_factory.mktemp("design")
    return {theme: version(theme, tmp) for theme in THEMES}


def picks_for(v: versions.CatalogVersion, count: int) -> tuple[str, ...]:
    """``count`` real choice ids spread over the catalog (longer labels first, to stress it)."""
    choices = sorted(v.catalog.choices, key=lambda c: (-len(c.label), c.id))
    return tuple(c.id for c in choices[:count])


def empty_bands(image) -> tuple[int, int]:
    """Return (height, top row) of the tallest run of rows that are one flat colour."""
    width, height = image.size
    best, best_top, run, top = 0, 0, 0, 0
    for y in range(height):
        extrema = image.crop((0, y, width, y + 1)).getextrema()
        flat = all(high - low <= ROW_TOLERANCE for low, high in extrema)
        if flat:
            if run == 0:
                top = y
            run += 1
            if run > best:
                best, best_top = run, top
        else:
            run = 0
    return best, best_top


# 1. Vertical rhythm -----------------------------------------------------------------------------


@pytest.mark.parametrize("theme", THEMES)
@pytest.mark.parametrize("layout_id", LAYOUTS)
def test_no_empty_band_taller_than_8_percent(by_theme, theme, layout_id):
    v = by_theme[theme]
    layout = v.layouts[layout_id]
    measured = {}
    for count in range(layout.min_picks, layout.max_picks + 1):
        image = render(v, Poster(picks_for(v, count), "小满", URL, layout_id))
        assert image.size[1] == CANVAS_H
        measured[count] = empty_bands(image)
    worst = max(measured, key=lambda n: measured[n][0])
    band, top = measured[worst]
    assert band <= MAX_EMPTY_BAND, (
        f"{theme}/{layout_id}: empty band of {band} px at rows {top}–{top + band} with "
        f"{worst} picks (limit {MAX_EMPTY_BAND}); per count: "
        f"{ {n: h for n, (h, _) in measured.items()} }"
    )


# 2. No decoration over content ------------------------------------------------------------------


@pytest.mark.parametrize("layout_id", LAYOUTS)
def test_decoration_stays_out_of_content(by_theme, layout_id):
    layout = by_theme["warm"].layouts[layout_id]
    decorations = {f"shape {i}": s.box for i, s in enumerate(layout.shapes)}
    assert layout.keyvisual is not None, f"{layout_id} has no keyvisual box"
    decorations["keyvisual"] = layout.keyvisual
    content = {k: e.box for k, e in layout.texts().items() if k in CONTENT_TEXTS}
    content["qr"] = (layout.qr.x, layout.qr.y, layout.qr.size, layout.qr.size)
    if layout.panel is not None:
        content["panel"] = layout.panel.box
    if layout.arrow is not None:
        content["arrow"] = layout.arrow
    width = layout.slots.card.width
    for count in range(layout.min_picks, layout.max_picks + 1):
        height = layout.card_height(count)
        for i, (x, y) in enumerate(layout.card_positions(count)):
            content[f"card {i + 1}/{count}"] = (x, y, width, height)
    hits = [
        f"{d} {list(dbox)} covers {c} {list(cbox)}"
        for d, dbox in decorations.items()
        for c, cbox in content.items()
        if _overlap(dbox, cbox)
    ]
    assert not hits, f"{layout_id}: " + "; ".join(hits)


def test_cards_stay_inside_the_slots_box_at_every_count(by_theme):
    for layout in by_theme["warm"].layouts.values():
        x0, y0, w0, h0 = layout.slots.box
        for count in range(layout.min_picks, layout.max_picks + 1):
            height = layout.card_height(count)
            for x, y in layout.card_positions(count):
                assert x0 <= x and y0 <= y, (layout.id, count, x, y)
                assert x + layout.slots.card.width <= x0 + w0, (layout.id, count, x)
                assert y + height <= y0 + h0, (layout.id, count, y, height)


# 3. Contrast ------------------------------------------------------------------------------------


@pytest.mark.parametrize("theme", THEMES)
def test_text_pairs_meet_their_minimum(by_theme, theme):
    t = by_theme[theme].theme
    grounds_bg = {"top": t.background.top, "bottom": t.background.bottom}
    failures = []
    for role, under, minimum, shown in themes.TEXT_PAIRS:
        grounds = grounds_bg if under == "background" else {under: t.role(under)}
        for where, ground in grounds.items():
            ratio = themes.contrast(t.role(role), ground)
            if ratio < minimum:
                failures.append(f"{role} on {under}/{where}: {ratio:.2f} < {minimum} ({shown})")
    assert not failures, f"{theme}: " + "; ".join(failures)


@pytest.mark.parametrize("theme", THEMES)
def test_cards_and_panel_are_set_off_from_the_background(by_theme, theme):
    t = by_theme[theme].theme
    for surface, edge in (("card", "card_edge"), ("panel", "panel_edge")):
        for ground in (t.background.top, t.background.bottom):
            ratio = max(
                themes.contrast(t.role(surface), ground), themes.contrast(t.role(edge), ground)
            )
            assert ratio >= themes.MIN_SURFACE_CONTRAST, (
                f"{theme}: {surface} ({t.role(surface)}, edge {t.role(edge)}) on {ground}: "
                f"{ratio:.2f}:1"
            )


def test_a_low_contrast_theme_is_refused(tmp_path):
    assets = tmp_path / "assets"
    for part in ("layouts", "icons", "themes"):
        shutil.copytree(ASSETS / part, assets / part)
    warm = assets / "themes" / "warm.yaml"
    source = warm.read_text(encoding="utf-8")
    assert 'soft: "#7A4A33"' in source
    warm.write_text(source.replace('soft: "#7A4A33"', 'soft: "#FFE9DA"', 1), encoding="utf-8")
    catalog = tmp_path / "default.yaml"
    catalog.write_text(CATALOG.read_text(encoding="utf-8"), encoding="utf-8")
    with pytest.raises(InvalidSource) as caught:
        versions.load_sources(catalog, Assets(assets))
    message = str(caught.value)
    assert "对比度" in message and "#FFE9DA" in message, message
    # The untouched copy loads: the refusal is the colour, not the copy.
    warm.write_text(source, encoding="utf-8")
    assert versions.load_sources(catalog, Assets(assets)).theme.id == "warm"


# 4. Word breaks ---------------------------------------------------------------------------------


def _boundaries(label: str) -> set[int]:
    out, at = {0}, 0
    for word in text.segmenter()(label):  # jieba plus assets/words.txt
        at += len(word)
        out.add(at)
    return out


def _break_offsets(label: str, lines) -> list[int]:
    """Offsets in ``label`` where each line after the first begins (spaces skipped)."""
    offsets, i = [], 0
    for index, line in enumerate(lines):
        while i < len(label) and label[i] == " ":
            i += 1
        if index:
            offsets.append(i)
        for char in line:
            while label[i] != char:
                i += 1
            i += 1
    return offsets


def _word_at(label: str, offset: int) -> str:
    at = 0
    for word in text.segmenter()(label):  # jieba plus assets/words.txt
        if at < offset < at + len(word):
            return word
        at += len(word)
    return ""


def test_card_labels_break_between_words(by_theme):
    style = by_theme["warm"].layouts["grid"].slots.label
    bad = []
    for choice in by_theme["warm"].catalog.choices:
        label = choice.label
        set_text = text.fit_style(label, style)
        lines = [line.rstrip(text.ELLIPSIS) for line in set_text.lines]
        if set_text.truncated:
            lines = lines[:-1]  # the ellipsis line ends the label wherever it must
        if len(lines) < 2:
            continue
        words = _boundaries(label)
        for offset in _break_offsets(label, lines):
            if offset in words:
                continue
            word = _word_at(label, offset)
            if text.width(word, style.font, set_text.size) > style.box[2]:
                continue  # a word wider than the line may break anywhere
            bad.append(f"{label!r} → {' / '.join(set_text.lines)} splits {word!r}")
    assert not bad, "; ".join(bad)


def test_cta_line_never_starts_with_a_particle():
    lines = text.wrap("扫码挑选你的美好生活", "bold", 60, 440)
    assert len(lines) >= 2, lines
    assert "".join(lines) == "扫码挑选你的美好生活"
    assert not any(line.startswith("的") for line in lines), lines


# The QR code ------------------------------------------------------------------------------------


@pytest.mark.parametrize("layout_id", LAYOUTS)
def test_qr_modules_are_at_least_9_px(by_theme, layout_id):
    from posterapp.render import qr

    layout = by_theme["warm"].layouts[layout_id]
    code = qr.code_for(URL, layout.qr.size)
    assert code.module_px >= 9, f"{layout_id}: {code.module_px} px modules in {layout.qr.size} px"


@pytest.mark.parametrize("theme", ["warm", "night"])
def test_the_link_card_wears_the_posters_theme(by_theme, theme):
    from posterapp.render.card import render_card

    version = by_theme[theme]
    ids = tuple(c.id for c in version.catalog.choices[:3])
    card = render_card(
        version, Poster(picks=ids, name="小满", url="https://x.example/Q/A", layout="list")
    )
    paper = version.theme.background.top
    assert card.getpixel((5, 5)) == tuple(int(paper[i : i + 2], 16) for i in (1, 3, 5))
