"""Validation of catalogs and layouts: every kind of problem, where it is and what it says.

Bad files are made by small textual edits of the shipped files; expected lines are found in
the edited text, never written down by hand.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest
import yaml
from PIL import Image

from posterapp import layouts, yamldoc
from posterapp.cli import main
from posterapp.errors import Problem
from posterapp.render import fonts

from .conftest import ASSETS, DEFAULT_CATALOG

GRID = ASSETS / "layouts" / "grid.yaml"
LAYOUT_IDS = sorted(p.stem for p in (ASSETS / "layouts").glob("*.yaml"))

# The first choice of the shipped catalog, line by line, as the edits below rely on it.
FIRST_ID = "  - id: wuhan-hot-dry-noodles"
FIRST_LABEL = "    label: 过早来碗热干面"
FIRST_ICON = "    icon: icons/wuhan-hot-dry-noodles.svg"
FIRST_DESCRIPTION = "    description: 芝麻酱拌得匀匀的，武汉的早晨从这碗面开始"
SECOND_ID = "  - id: wuhan-hubu-alley-doupi"
SECOND_ICON = "    icon: icons/wuhan-hubu-alley-doupi.svg"


def lines_of(text: str, needle: str) -> list[int]:
    """Return the 1-based numbers of the lines of ``text`` that contain ``needle``."""
    return [n for n, line in enumerate(text.splitlines(), start=1) if needle in line]


def line_of(text: str, needle: str) -> int:
    """Return the number of the one line of ``text`` that contains ``needle``."""
    found = lines_of(text, needle)
    assert len(found) == 1, f"{needle!r} is on lines {found}, expected exactly one"
    return found[0]


def edit(text: str, old: str, new: str) -> str:
    """Replace the first ``old`` in ``text`` by ``new``; fail if ``old`` is not there."""
    assert old in text, f"{old!r} is not in the file any more"
    return text.replace(old, new, 1)


def at(problems: list[Problem], path: str) -> Problem:
    """Return the one problem reported at key path ``path``."""
    found = [p for p in problems if p.path == path]
    assert len(found) == 1, f"expected one problem at {path!r}, got: {problems}"
    return found[0]


def assert_reads(problem: Problem, line: int, words: list[str]) -> None:
    """Check the problem's file name, line and the words a person reads in it."""
    assert Path(problem.file).name == "catalog.yaml"
    assert problem.line == line, str(problem)
    for word in words:
        assert word in problem.message, f"{word!r} not in {problem.message!r}"


def shipped(key: str) -> list[str]:
    """Return the ids of the shipped catalog's categories or regions."""
    return [item["id"] for item in yaml.safe_load(DEFAULT_CATALOG.read_text("utf-8"))[key]]


# --- catalogs -----------------------------------------------------------------------------


def test_the_shipped_catalog_has_no_problems(catalog_problems, catalog_text):
    assert catalog_problems(catalog_text) == []


@pytest.mark.parametrize(
    ("old", "new", "needle"),
    [
        pytest.param(FIRST_LABEL, "  " + FIRST_LABEL, "      label:", id="bad-indent"),
        pytest.param(FIRST_LABEL, "\t" + FIRST_LABEL.lstrip(), "\tlabel:", id="tab"),
    ],
)
def test_yaml_syntax_error_points_at_the_broken_line(
    catalog_problems, catalog_text, old, new, needle
):
    text = edit(catalog_text, old, new)
    [problem] = catalog_problems(text)
    assert (problem.path, problem.line) == ("", line_of(text, needle))
    assert problem.subject == "选项「过早来碗热干面」"
    assert "缩进" in problem.message


def test_unclosed_quote_names_the_line_where_the_quote_opens(catalog_problems, catalog_text):
    text = edit(catalog_text, FIRST_LABEL, "    label: '过早来碗热干面")
    quote_line = line_of(text, "label: '过早")
    [problem] = catalog_problems(text)
    assert problem.line == quote_line, str(problem)
    assert problem.where == f"第 {quote_line} 行（选项「过早来碗热干面」）"
    assert problem.message.startswith("引号没有闭合")


def test_unsafe_tag_is_refused_and_never_run(catalog_problems, catalog_text, tmp_path):
    pwned = tmp_path / "pwned"
    text = edit(
        catalog_text, FIRST_ICON, f'    icon: !!python/object/apply:os.system ["touch {pwned}"]'
    )
    [problem] = catalog_problems(text)
    assert problem.path == "choices[0].icon"
    assert_reads(
        problem, line_of(text, "!!python"), ["不能用 !!python/object/apply:os.system 这样的标记"]
    )
    assert not pwned.exists()


def test_unsafe_tag_on_a_key_is_refused_not_a_crash(catalog_problems, catalog_text):
    text = edit(catalog_text, FIRST_LABEL, "    !!python/name:os.system label: 过早来碗热干面")
    problems = catalog_problems(text)
    assert [p.line for p in problems] == [line_of(text, "!!python")]
    assert "不能用 !!python/name:os.system 这样的标记" in problems[0].message


# Edits and the problem each makes at its path: (old, new, needle on its line, path, words).
CATALOG_EDITS = [
    pytest.param(
        FIRST_LABEL,
        "    lable: 过早来碗热干面",
        "lable:",
        "choices[0].lable",
        ["没有 lable 这一项", "是不是想写 label"],
        id="unknown-key",
    ),
    pytest.param(
        FIRST_ID,
        "  - id: no",
        "  - id: no",
        "choices[0].id",
        ["要写文字", "是/否", "放进引号"],
        id="id-read-as-yes-no",
    ),
    pytest.param(
        "  min_picks: 1\n",
        '  min_picks: "3"\n',
        '  min_picks: "3"',
        "campaign.min_picks",
        ["要写一个整数", "文字「3」"],
        id="number-as-text",
    ),
    pytest.param(
        FIRST_LABEL + "\n", "", FIRST_ID, "choices[0].label", ["缺少 label"], id="missing-key"
    ),
    pytest.param(
        FIRST_ICON,
        "    icon: icons/nope.png",
        "icons/nope.png",
        "choices[0].icon",
        ["assets/icons/nope.png", "找不到文件"],
        id="icon-missing",
    ),
    pytest.param(
        FIRST_ICON,
        "    icon: ../../etc/passwd.png",
        "passwd",
        "choices[0].icon",
        ["「../../etc/passwd.png」", "assets/ 外面"],
        id="icon-leaves-assets",
    ),
    pytest.param(
        FIRST_ICON,
        "    icon: /etc/passwd",
        "passwd",
        "choices[0].icon",
        ["「/etc/passwd」", "assets/ 里面的路径"],
        id="icon-absolute",
    ),
    pytest.param(
        "  min_picks: 1\n",
        "  min_picks: 13\n",
        "  min_picks: 13",
        "campaign.min_picks",
        ["最少选 13 项比最多选 12 项还多"],
        id="min-above-max",
    ),
    pytest.param(
        "  max_picks: 12\n",
        "  max_picks: 200\n",
        "  max_picks: 200",
        "campaign.max_picks",
        ["最多能选 200 项", "只有 105 个选项"],
        id="max-above-choices",
    ),
    pytest.param(
        FIRST_ICON,
        '    icon: "ab"',
        'icon: "ab"',
        "choices[0].icon",
        ["图标「ab」", "一个 emoji"],
        id="icon-letters",
    ),
    pytest.param(
        FIRST_ICON,
        '    icon: "🍜🍜"',
        'icon: "🍜🍜"',
        "choices[0].icon",
        ["图标「🍜🍜」", "一个 emoji"],
        id="icon-two-emoji",
    ),
    pytest.param(
        "{layout: hero,",
        "{layout: x,",
        "{layout: x,",
        "campaign.layout_rules.rules[0].layout",
        ["没有 x 这个排版", f"可用的排版：{', '.join(LAYOUT_IDS)}"],
        id="rule-layout",
    ),
    pytest.param(
        '    color: "#C0392B"',
        "    color: red",
        "color: red",
        "categories[0].color",
        ["「red」不是颜色", "#RRGGBB"],
        id="colour",
    ),
]


@pytest.mark.parametrize(("old", "new", "needle", "path", "words"), CATALOG_EDITS)
def test_catalog_problem_is_located_and_explained(
    catalog_problems, catalog_text, old, new, needle, path, words
):
    text = edit(catalog_text, old, new)
    assert_reads(at(catalog_problems(text), path), line_of(text, needle), words)


def test_duplicate_id_points_at_the_second_and_names_the_first(catalog_problems, catalog_text):
    text = edit(catalog_text, SECOND_ID, FIRST_ID)
    first, second = lines_of(text, FIRST_ID)
    [problem] = catalog_problems(text)
    assert problem.path == "choices[1].id"
    assert_reads(problem, second, ["编号 wuhan-hot-dry-noodles 重复了", f"第 {first} 行"])


def test_duplicate_key_points_at_the_second_and_names_the_first(catalog_problems, catalog_text):
    text = edit(catalog_text, FIRST_LABEL, FIRST_LABEL + "\n    label: 再来一碗")
    first, second = line_of(text, FIRST_LABEL), line_of(text, "label: 再来一碗")
    [problem] = catalog_problems(text)
    assert problem.path == "choices[0].label"
    assert_reads(problem, second, ["label 写了两次", f"第 {first} 行"])


@pytest.mark.parametrize(
    ("key", "old", "new", "path", "words"),
    [
        pytest.param(
            "categories",
            "    category: food",
            "    category: snacks",
            "choices[0].category",
            ["没有「snacks」这个分类"],
            id="category",
        ),
        pytest.param(
            "regions",
            "    region: wuhan",
            "    region: atlantis",
            "choices[0].region",
            ["没有「atlantis」这个地区", "nationwide"],
            id="region",
        ),
    ],
)
def test_unknown_category_or_region_lists_the_allowed_ones(
    catalog_problems, catalog_text, key, old, new, path, words
):
    text = edit(catalog_text, old, new)
    problem = at(catalog_problems(text), path)
    assert_reads(problem, line_of(text, new), [*words, ", ".join(sorted(shipped(key)))])


@pytest.fixture
def assets_copy(tmp_path) -> Path:
    """A temporary assets folder: the shipped layouts and a few icon files."""
    assets = tmp_path / "assets"
    shutil.copytree(ASSETS / "layouts", assets / "layouts")
    shutil.copytree(ASSETS / "icons", assets / "icons")
    shutil.copytree(ASSETS / "themes", assets / "themes")
    icons = assets / "icons"
    icons.mkdir(exist_ok=True)
    Image.new("RGB", (64, 64), "#C0392B").save(icons / "fine.png")
    noise = Image.frombytes("RGB", (600, 600), os.urandom(600 * 600 * 3))
    noise.save(icons / "heavy.png")
    Image.new("RGB", (1100, 1000), "#C0392B").save(icons / "huge.png")
    (icons / "fake.png").write_bytes(b"this is not a picture")
    (icons / "notes.txt").write_text("not an icon", encoding="utf-8")
    (icons / "escape.png").symlink_to("/etc/hostname")
    return assets


@pytest.mark.parametrize(
    ("icon", "words"),
    [
        pytest.param("heavy.png", ["assets/icons/heavy.png", "KB", "最大 512 KB"], id="bytes"),
        pytest.param("huge.png", ["1100×1000 像素", "1024×1024"], id="pixels"),
        pytest.param(
            "fake.png", ["assets/icons/fake.png", "打不开，不是一张完整的图片"], id="not-an-image"
        ),
        pytest.param(
            "notes.txt", ["「assets/icons/notes.txt」", "PNG、JPEG、WebP"], id="not-a-picture-type"
        ),
        pytest.param("escape.png", ["「icons/escape.png」", "assets/ 外面"], id="symlink-out"),
    ],
)
def test_bad_icon_file(catalog_problems, catalog_text, assets_copy, icon, words):
    text = edit(catalog_text, FIRST_ICON, f"    icon: icons/{icon}")
    problems = catalog_problems(text, assets=assets_copy)
    assert_reads(at(problems, "choices[0].icon"), line_of(text, f"icons/{icon}"), words)


def test_a_small_icon_image_inside_assets_is_fine(catalog_problems, catalog_text, assets_copy):
    assert (
        catalog_problems(
            edit(catalog_text, FIRST_ICON, "    icon: icons/fine.png"), assets=assets_copy
        )
        == []
    )


def test_label_too_long_for_its_card_names_every_layout(catalog_problems, catalog_text):
    label = ("过早来碗热干面" * 5)[:30]
    text = edit(catalog_text, FIRST_LABEL, f"    label: {label}")
    problems = catalog_problems(text)
    assert {p.path for p in problems} == {"choices[0].label"}
    assert {p.line for p in problems} == {line_of(text, label)}
    assert len(problems) == len(LAYOUT_IDS)
    for problem in problems:
        assert "放不下" in problem.message
        assert problem.subject == f"选项「{label[:20]}…」"  # long labels are shortened


@pytest.mark.parametrize("char", ["\ue000", "\U00013000"], ids=["private-use", "hieroglyph"])
def test_character_no_font_can_draw(catalog_problems, catalog_text, char):
    assert fonts.undrawable(char) == [char], "a shipped font draws it; pick another character"
    text = edit(catalog_text, FIRST_LABEL, f"    label: 过早来碗{char}热干面")
    problem = at(catalog_problems(text), "choices[0].label")
    assert_reads(
        problem, line_of(text, char), ["海报字体写不出来", f"'{char}'", f"U+{ord(char):04X}"]
    )


def test_anchor_and_alias_are_refused_where_they_are_written(catalog_problems, catalog_text):
    text = edit(catalog_text, FIRST_ICON, '    icon: &noodles "🍜"')
    text = edit(text, SECOND_ICON, "    icon: *noodles")
    anchor, alias = catalog_problems(text)
    assert_reads(anchor, line_of(text, "&noodles"), ["不能用 & 和 *"])
    assert_reads(alias, line_of(text, "*noodles"), ["不能用 & 和 *"])


def test_nesting_too_deep_is_refused(catalog_problems, catalog_text):
    deep = "[" * 15 + "x" + "]" * 15
    text = edit(catalog_text, FIRST_DESCRIPTION, f"    description: {deep}")
    [problem] = catalog_problems(text)
    assert problem.path.startswith("choices[0].description[0]")
    assert_reads(problem, line_of(text, deep), [f"嵌套太深了（超过 {yamldoc.MAX_DEPTH} 层）"])


def test_file_too_big_is_refused(catalog_problems, catalog_text):
    text = catalog_text + "# " + "x" * yamldoc.MAX_BYTES + "\n"
    [problem] = catalog_problems(text)
    assert problem.path == ""
    assert_reads(problem, 0, [f"{len(text.encode()):,} 字节", f"最多 {yamldoc.MAX_BYTES:,} 字节"])


def test_text_too_big_in_bytes_is_refused_when_given_as_str():
    text = "title: " + "美" * (yamldoc.MAX_BYTES // 2) + "\n"
    assert len(text) < yamldoc.MAX_BYTES < len(text.encode())
    doc = yamldoc.parse(text, "catalog.yaml")
    assert [p.message for p in doc.problems if "字节" in p.message], doc.problems


def test_every_problem_is_reported_at_once_sorted_by_line(catalog_problems, catalog_text):
    text = edit(catalog_text, "  max_picks: 12\n", "  max_picks: twelve\n")
    text = edit(text, '    color: "#1F6FB2"', "    color: blue")
    text = edit(text, FIRST_LABEL, "    lable: 过早来碗热干面")
    text = edit(text, "  - id: wuhan-duck-neck", "  - id: no")
    expected = [
        (line_of(text, "max_picks: twelve"), "campaign.max_picks"),
        (line_of(text, "color: blue"), "categories[1].color"),
        (line_of(text, FIRST_ID), "choices[0].label"),  # its label is now missing
        (line_of(text, "lable:"), "choices[0].lable"),
        (line_of(text, "  - id: no"), "choices[2].id"),
    ]
    problems = catalog_problems(text)
    assert [(p.line, p.path) for p in problems] == sorted(expected)


def test_schema_and_cross_check_problems_are_reported_together(catalog_problems, catalog_text):
    text = edit(catalog_text, FIRST_LABEL, "    lable: 过早来碗热干面")
    text = edit(text, SECOND_ID, "  - id: wuhan-duck-neck")
    text = edit(text, "    region: nanjing", "    region: atlantis")
    paths = {p.path for p in catalog_problems(text)}
    assert {"choices[0].lable", "choices[2].id", "choices[4].region"} <= paths


# --- layouts ------------------------------------------------------------------------------


@pytest.mark.parametrize("path", sorted((ASSETS / "layouts").glob("*.yaml")), ids=lambda p: p.stem)
def test_the_shipped_layouts_have_no_problems(path):
    layout, doc = layouts.parse(path.read_text("utf-8"), path.name, ASSETS)
    assert doc.problems == []
    assert layout.id == path.stem


# Edits of grid.yaml: (old, new, needle on the problem's line, path, words).
LAYOUT_EDITS = [
    pytest.param(
        "title: {",
        "titel: {",
        "titel:",
        "titel",
        ["没有 titel 这一项", "是不是想写 title"],
        id="unknown-key",
    ),
    pytest.param(
        "title: {box: [64, 504, 952, 140]",
        "title: {box: [900, 504, 952, 140]",
        "title:",
        "title.box",
        ["[900, 504, 952, 140]", "超出了", "1080×1920"],
        id="outside-canvas",
    ),
    pytest.param(
        "life_tag: {box: [64, 664, 600, 76]",
        "life_tag: {box: [64, 1560, 600, 76]",
        "panel:",
        "panel",
        ["panel 和 life_tag 重叠了"],
        id="overlap",
    ),
    pytest.param(
        "size: 370,", "size: 200,", "qr:", "qr.size", ["200 px", "至少要 369"], id="qr-too-small"
    ),
    pytest.param(
        "max_picks: 12",
        "max_picks: 15",
        "  box: [64, 764, 952, 706]",
        "slots.box",
        ["15 张卡片", "952×706"],
        id="too-many-cards",
    ),
    pytest.param(
        "id: grid",
        "id: tiles",
        "id: tiles",
        "id",
        ["编号 tiles", "grid.yaml"],
        id="id-not-file-name",
    ),
    pytest.param(
        "canvas: {width: 1080, height: 1920}\n",
        'canvas: {width: 1080, height: 1920}\nbackground: {color: "#000000", gradient: '
        '{from: "#000000", to: "#FFFFFF"}}\n',
        "background:",
        "background",
        ["color、gradient、image 只能写一个", "color, gradient"],
        id="colour-and-gradient",
    ),
]


@pytest.mark.parametrize(("old", "new", "needle", "path", "words"), LAYOUT_EDITS)
def test_layout_problem_is_located_and_explained(old, new, needle, path, words):
    text = edit(GRID.read_text("utf-8"), old, new)
    _, doc = layouts.parse(text, "grid.yaml", ASSETS)
    problem = at(doc.problems, path)
    assert (problem.file, problem.line) == ("grid.yaml", line_of(text, needle))
    for word in words:
        assert word in problem.message, f"{word!r} not in {problem.message!r}"


# --- the posterapp validate command -------------------------------------------------------


def validate(runner, tmp_path, *files: Path):
    return runner.invoke(
        main,
        [
            "--assets",
            str(ASSETS),
            "--data-dir",
            str(tmp_path / "data"),
            "validate",
            *map(str, files),
        ],
    )


def test_validate_lists_every_problem_by_line_and_label_in_chinese(
    runner, write_catalog, catalog_text, tmp_path
):
    text = edit(catalog_text, '    color: "#C0392B"', "    color: red")
    text = edit(text, "  - id: wuhan-duck-neck", "  - id: no")
    result = validate(runner, tmp_path, write_catalog(text))
    assert result.exit_code == 1
    lines = [line.strip() for line in result.output.splitlines()]
    assert lines[0].endswith("catalog.yaml：发现 2 个问题："), result.output
    color = line_of(text, "color: red")
    assert (
        f"第 {color} 行（分类「城市美食」的颜色）：「red」不是颜色：写成带引号的" in result.output
    )
    no = line_of(text, "  - id: no")
    assert (
        f"第 {no} 行（选项「啃一盒周黑鸭鸭脖」的编号（id））：这里要写文字，"
        "但 YAML 把它读成了是/否" in result.output
    )
    assert not re.search(r"[A-Za-z]{4,} [a-z]{3,}", "".join(lines[1:]).replace("YAML", ""))


def test_validate_bad_layout_file(runner, tmp_path):
    path = tmp_path / "layouts" / "grid.yaml"
    path.parent.mkdir()
    text = edit(GRID.read_text("utf-8"), "size: 370,", "size: 200,")
    path.write_text(text, encoding="utf-8")
    result = validate(runner, tmp_path, path)
    assert result.exit_code == 1
    assert f"第 {line_of(text, 'qr:')} 行：二维码只有 200 px" in result.output


def test_validate_good_catalog_prints_one_summary_line(runner, tmp_path):
    result = validate(runner, tmp_path, DEFAULT_CATALOG)
    assert result.exit_code == 0, result.output
    [line] = result.output.splitlines()
    assert "105 个选项" in line
    assert re.search(r"版本 [0-9a-f]{16}$", line), line
