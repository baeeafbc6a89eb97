"""Chinese line breaking, shrinking and ellipsis."""

from __future__ import annotations

import pytest

from posterapp.render import text
from posterapp.render.text import NO_END, NO_START


def lines_of(content: str, width: int, size: int = 40, kind: str = "regular") -> list[str]:
    return text.wrap(content, kind, size, width)


@pytest.mark.parametrize(
    "content",
    [
        "我们去吃热干面，再去看看长江大桥。好不好？",
        "「去淮海路」看看老洋房！《武汉》的早晨（过早）真热闹；你说呢：好！",
        "梧桐树影斑驳，每扇窗后都藏着老故事……真的——好。",
        "一二三四五六七八九十，一二三四五六七八九，一二三四五六七八。",
    ],
)
@pytest.mark.parametrize("width", [120, 170, 250, 330, 410])
def test_no_line_starts_or_ends_with_forbidden_punctuation(content, width):
    lines = lines_of(content, width)
    assert "".join(lines) == content.replace(" ", "")
    for line in lines[1:]:
        assert line[0] not in NO_START, (line, lines)
    for line in lines[:-1]:
        assert line[-1] not in NO_END, (line, lines)


def test_closing_punctuation_moves_with_the_character_before_it():
    # At 40 px, 4 characters fit a 165 px line; "，" must not open the second line.
    assert lines_of("一二三四，五六", 165) == ["一二三", "四，五六"]


def test_opening_bracket_moves_to_the_next_line():
    assert lines_of("一二三「四五」", 165) == ["一二三", "「四五」"]


def test_latin_words_and_numbers_are_never_split():
    lines = lines_of("我爱Python和Flask，还有2020年", 200)
    for word in ("Python", "Flask", "2020"):
        assert any(word in line for line in lines), lines
    assert "".join(lines) == "我爱Python和Flask，还有2020年"


def test_spaces_between_latin_words_are_break_points_and_dropped_at_line_ends():
    lines = lines_of("hello world from wuhan", 150)
    assert all(line == line.strip() for line in lines)
    assert " ".join(lines) == "hello world from wuhan"


def test_a_word_longer_than_the_line_is_broken_by_character():
    lines = lines_of("Supercalifragilisticexpialidocious", 200)
    assert len(lines) > 1
    assert all(text.width(line, "regular", 40) <= 200 for line in lines)
    assert "".join(lines) == "Supercalifragilisticexpialidocious"


def test_text_shrinks_before_it_is_cut():
    fitted = text.fit("去户部巷吃三鲜豆皮", "bold", 60, 30, 1, 1.3, 400, 80)
    assert not fitted.truncated
    assert fitted.lines == ("去户部巷吃三鲜豆皮",)
    assert 30 <= fitted.size < 60
    assert text.width(fitted.lines[0], "bold", fitted.size) <= 400


def test_text_that_cannot_fit_at_the_minimum_ends_with_an_ellipsis():
    fitted = text.fit(
        "梧桐树影斑驳，每扇窗后都藏着老故事，也藏着一座城市的记忆",
        "regular",
        40,
        32,
        2,
        1.3,
        300,
        110,
    )
    assert fitted.truncated
    assert fitted.size == 32
    assert len(fitted.lines) == 2
    assert fitted.lines[-1].endswith("…")
    assert not fitted.lines[-1][:-1].endswith(("，", "、"))
    assert all(text.width(line, "regular", 32) <= 300 for line in fitted.lines)


def test_ellipsis_never_follows_an_opening_bracket_or_comma():
    assert text.ellipsize("一二三，「四五六七八九", "regular", 40, 200) == "一二三…"


def test_two_lines_are_balanced_instead_of_leaving_one_character_alone():
    fitted = text.fit("每周给家里打个电话", "bold", 34, 26, 2, 1.25, 272, 92)
    assert fitted.lines == ("每周给家里", "打个电话")


def test_emoji_in_text_is_measured_and_kept_whole():
    content = "小满👨‍👩‍👧的清单❤️"
    assert text.atoms(content).count("👨‍👩‍👧") == 1
    runs = text.runs(content)
    assert ("👨‍👩‍👧", True) in runs and ("❤️", True) in runs
    assert text.width(content, "regular", 40) > text.width("小满的清单", "regular", 40) + 70
