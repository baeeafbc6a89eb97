"""The posterapp command: render, sheet, versions and the demo."""

from __future__ import annotations

import re
import sys

import click
import pytest
import zxingcpp
from PIL import Image

from posterapp import cli
from posterapp.cli import main
from posterapp.clickzh import columns

from .conftest import ASSETS, DEFAULT_CATALOG


def invoke(runner, tmp_path, *args):
    return runner.invoke(
        main,
        ["--assets", str(ASSETS), "--data-dir", str(tmp_path / "data"), *args],
        prog_name="posterapp",
    )


def test_render_writes_a_poster_whose_qr_code_opens_the_url(runner, tmp_path):
    out = tmp_path / "poster.png"
    url = "https://example.org/s/CLI-test_42"
    result = invoke(
        runner,
        tmp_path,
        "render",
        "--choices",
        "wuhan-hot-dry-noodles, travel-fund,shanghai-huaihai-road",
        "--name",
        "小满",
        "--url",
        url,
        "-o",
        str(out),
    )
    assert result.exit_code == 0, result.output
    assert f"海报画好了：{out}（1080×1920，排版 list，3 项，目录版本 " in result.output
    with Image.open(out) as image:
        assert image.format == "PNG" and image.size == (1080, 1920)
        assert [r.text for r in zxingcpp.read_barcodes(image)] == [url]


def test_render_refuses_bad_input_with_a_message(runner, tmp_path):
    result = invoke(
        runner, tmp_path, "render", "--choices", "no-such-choice", "-o", str(tmp_path / "x.png")
    )
    assert result.exit_code == 1
    assert "清单里没有「no-such-choice」这一项" in result.output
    assert not (tmp_path / "x.png").exists()


def test_render_with_an_earlier_version_reproduces_the_poster(
    runner, tmp_path, write_catalog, catalog_text
):
    first, second = tmp_path / "first.png", tmp_path / "second.png"
    args = ["--choices", "wuhan-hot-dry-noodles", "--url", "https://example.org/s/v"]
    result = invoke(runner, tmp_path, "render", *args, "-o", str(first))
    version = re.search(r"目录版本 ([0-9a-f]{16})", result.output).group(1)
    edited = write_catalog(catalog_text.replace("label: 过早来碗热干面", "label: 热干面"))
    result = invoke(
        runner, tmp_path, "render", "--catalog", str(edited), *args, "-o", str(tmp_path / "new.png")
    )
    assert version not in result.output
    assert (tmp_path / "new.png").read_bytes() != first.read_bytes()
    result = invoke(
        runner, tmp_path, "render", "--catalog-version", version, *args, "-o", str(second)
    )
    assert result.exit_code == 0, result.output
    assert second.read_bytes() == first.read_bytes()
    listed = invoke(runner, tmp_path, "versions").output.split()
    assert listed[0] == version and len(listed) == 2


def test_unknown_catalog_version_is_reported(runner, tmp_path):
    result = invoke(
        runner,
        tmp_path,
        "render",
        "--catalog-version",
        "0123456789abcdef",
        "--choices",
        "travel-fund",
        "-o",
        str(tmp_path / "x.png"),
    )
    assert result.exit_code == 1
    assert "没有目录版本「0123456789abcdef」" in result.output


@pytest.mark.parametrize(("flags", "themes"), [((), 1), (("--all-themes",), 2)])
def test_sheet_shows_every_layout_at_feed_size(runner, tmp_path, flags, themes):
    out = tmp_path / "sheet.png"
    result = invoke(runner, tmp_path, "sheet", "-o", str(out), *flags)
    assert result.exit_code == 0, result.output
    assert f"样张画好了：{out}（3 种排版 × {themes} 个主题，目录版本 " in result.output
    with Image.open(out) as image:
        # hero 1 and 2 picks, list 3, 4 and 6, grid 7, 9 and 12: eight 270 px posters a row
        assert image.size[0] == 32 + 8 * (270 + 24) - 24 + 32
        # and every QR code still scans at the size a feed shows it
        assert len(zxingcpp.read_barcodes(image)) == 8 * themes


def test_demo_renders_a_poster_per_layout(runner, tmp_path):
    result = invoke(runner, tmp_path, "demo", "-o", str(tmp_path / "out"))
    assert result.exit_code == 0, result.output
    made = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert made == ["demo-grid.png", "demo-hero.png", "demo-list.png", "sheet.png"]


def test_validate_warns_about_a_label_that_breaks_inside_a_word(runner, tmp_path, catalog_text):
    catalog = tmp_path / "catalog.yaml"
    # One word wider than a grid card's line: it can only be cut inside itself.
    catalog.write_text(
        catalog_text.replace("label: 过早来碗热干面", "label: 吃一二三四五六七八九十", 1),
        encoding="utf-8",
    )
    result = invoke(runner, tmp_path, "validate", str(catalog))
    assert result.exit_code == 0, result.output  # a warning, not a problem
    assert (
        "提醒" in result.output
        and "「吃一二三四五六七八九十」在「网格」排版里只能从词中间换行" in (result.output)
    )


def test_validate_gives_no_warning_for_the_shipped_catalog(runner, tmp_path):
    result = invoke(runner, tmp_path, "validate", str(DEFAULT_CATALOG))
    assert result.exit_code == 0 and "提醒" not in result.output, result.output


# ---- every word the command says is Chinese ----------------------------------------------------

# What may stay in ASCII letters: values a person types or copies (in 「」, defaults, URLs),
# option names, paths and file names, acronyms and variable names (PNG, POSTERAPP_CATALOG).
TYPED = re.compile(
    r"「[^」]*」|默认：[^）]*|https?://\S+|(?<![\w-])--?[a-z][\w-]*"
    r"|[\w*.-]*/[\w*./-]*|\b[\w-]+\.[a-z]{2,4}\b|\b[A-Z][A-Z0-9_]+\b"
)


def command_paths(group: click.Group, path: tuple[str, ...] = ()):
    """Yield the words that reach each command of the tree: (), ("render",), ("admin", "list") …"""
    yield path
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            yield from command_paths(command, (*path, name))
        else:
            yield (*path, name)


NAMES = sorted({word for path in command_paths(main) for word in path}, key=len, reverse=True)


def english_words(text: str) -> list[str]:
    """Return the English words left once the things a person types are taken out."""
    text = TYPED.sub(" ", text)
    for name in ["posterapp", "SQLite", *NAMES]:  # the program, a product, the commands
        text = re.sub(rf"(?<![\w-]){re.escape(name)}(?![\w-])", " ", text)
    return re.findall(r"[A-Za-z]{3,}", text)


def test_the_words_test_finds_english():
    assert english_words("Usage: posterapp render [OPTIONS]") == ["Usage"]
    assert english_words("--catalog 文件  用哪个 YAML 目录文件（默认：choices/default.yaml）") == []
    assert english_words("Show this message and exit.") == [
        "Show",
        "this",
        "message",
        "and",
        "exit",
    ]


@pytest.mark.parametrize("path", list(command_paths(main)), ids=" ".join)
def test_every_help_page_speaks_chinese(runner, tmp_path, path):
    result = invoke(runner, tmp_path, *path, "--help")
    assert result.exit_code == 0, result.output
    text = result.output
    assert text.startswith(f"用法：posterapp {' '.join(path)}".rstrip()), text
    assert "选项：" in text and "  --help" in text and "显示这段说明" in text
    assert english_words(text) == [], text
    # Wrapped by terminal columns: a Chinese character takes two, and no line passes 80.
    assert max(columns(line) for line in text.splitlines()) <= 80, text


# (the words after posterapp, what it says first)
USAGE_ERRORS = [
    pytest.param(["render", "--choices", "travel-fund"],
                 "还没写 -o / --output（海报存成哪个 PNG 文件），补上再运行一次吧。",
                 id="missing-option"),
    pytest.param(["validate"], "还少了文件，补上再运行一次吧。", id="missing-argument"),
    pytest.param(["admin", "set-role"], "还少了账号名，补上再运行一次吧。", id="missing-name"),
    pytest.param(["validate", "nope.yaml"], "找不到「nope.yaml」，看看路径有没有写错。",
                 id="no-such-file"),
    pytest.param(["rendr"], "没有「rendr」这个命令。你是想写 render 吗？", id="no-such-command"),
    pytest.param(["admin", "lst"], "没有「lst」这个命令。你是想写 list 吗？",
                 id="no-such-subcommand"),
    pytest.param(["render", "--choice", "x"], "没有 --choice 这个选项。你是想写 --choices 吗？",
                 id="no-such-option"),
    pytest.param(["render", "--choices"], "--choices 后面要写一个值。", id="option-needs-a-value"),
    pytest.param(["sheet", "--all-themes=yes", "-o", "x.png"], "--all-themes 后面不用写值。",
                 id="flag-with-a-value"),
    pytest.param(["versions", "all"], "多写了「all」，这条命令用不上，去掉再运行一次吧。",
                 id="extra-words"),
    pytest.param(["purge", "--before", "yesterday"],
                 "--before：「yesterday」不是日期，请写成 2026-01-01 这样。", id="not-a-day"),
    pytest.param(["publish", "--base", "abc", str(DEFAULT_CATALOG)],
                 "--base：「abc」不是整数，这里要写数字，比如 12。", id="not-a-number"),
    pytest.param([], "还没写要做什么：在 posterapp 后面写上一个命令。", id="no-command"),
]  # fmt: skip


@pytest.mark.parametrize(("args", "first"), USAGE_ERRORS)
def test_a_command_written_wrong_is_answered_in_chinese(runner, tmp_path, args, first):
    result = invoke(runner, tmp_path, *args)
    assert result.exit_code == 2, result.output
    said, usage, hint = result.output.splitlines()
    assert said == first
    assert usage.startswith("用法：posterapp")
    assert re.fullmatch(r"运行 posterapp[ \w-]* --help 看看怎么写。", hint), hint
    assert english_words(result.output) == [], result.output


def test_a_cancelled_question_says_so_in_chinese(runner, tmp_path, monkeypatch):
    def interrupted():
        raise click.Abort

    monkeypatch.setattr(cli, "_new_password", interrupted)
    result = invoke(runner, tmp_path, "admin", "add-user", "li.na")
    assert (result.exit_code, result.output) == (1, "已取消。\n")


def test_stats_and_versions_say_what_to_do_on_an_empty_database(runner, tmp_path):
    stats = invoke(runner, tmp_path, "stats")
    assert stats.exit_code == 1
    assert stats.output == (
        "还没有发布过目录，暂时没有数据。先启动一次应用（会发布默认目录），"
        "或者用 posterapp publish 发布一个目录。\n"
    )
    listed = invoke(runner, tmp_path, "versions")
    assert listed.exit_code == 0
    assert listed.stdout == "" and "还没有保存过目录版本" in listed.stderr


def test_demo_says_what_it_drew_in_chinese(runner, tmp_path):
    result = invoke(runner, tmp_path, "demo", "-o", str(tmp_path / "out"))
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[-1] == f"样张画好了：{tmp_path / 'out' / 'sheet.png'}"
    assert lines[0].startswith("示例海报画好了：")
    assert english_words(result.output.replace(str(tmp_path), "")) == []


def test_a_password_typed_twice_differently_is_asked_again_in_chinese(monkeypatch, capsys):
    answers = iter(["first try", "frist try", "second try", "second try"])
    monkeypatch.setattr(click, "prompt", lambda text, **kwargs: next(answers))
    monkeypatch.setattr(sys, "stdin", type("Terminal", (), {"isatty": lambda self: True})())
    assert cli._new_password() == "second try"
    assert capsys.readouterr().err == "两次输入的密码不一样，请重新输入。\n"
