"""Small SVG charts for the campaign's numbers, drawn by posterapp itself.

Each chart is one self-contained ``<svg>`` string: no scripts, no fonts fetched from
elsewhere (a list of CJK system fonts instead), every text escaped because labels come
from staff-edited catalogs. Inline them in a page or save them as ``.svg`` files.
"""

from __future__ import annotations

import html
import math
import re
import unicodedata

FONTS = (
    "'PingFang SC','Hiragino Sans GB','Microsoft YaHei','Noto Sans CJK SC',"
    "'Source Han Sans SC','WenQuanYi Micro Hei',sans-serif"
)
INK = "#2B2B2B"
MUTED = "#8A8A8A"
RULE = "#E6E6E6"
TITLE_SIZE = 15
TEXT_SIZE = 12
TOP = 36  # room for the title
NO_DATA = "暂无数据"
# Characters XML 1.0 cannot carry at all, even escaped: dropped rather than break the chart.
NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def bar_chart(
    items: list[tuple[str, int]], title: str, color: str = "#E8572A", width: int = 640
) -> str:
    """Draw horizontal bars, one row per (label, value), as tall as the items need."""
    if not items:
        return _empty(title, width)
    row, bar = 26, 16
    most = max(value for _, value in items)
    value_width = _text_width(_number(most), TEXT_SIZE) + 10
    label_width = min(
        max(_text_width(label, TEXT_SIZE) for label, _ in items) + 12, round(width * 0.4)
    )
    plot = max(width - label_width - value_width, 1)
    height = TOP + row * len(items) + 8
    body = []
    for i, (label, value) in enumerate(items):
        top = TOP + i * row
        middle = top + row / 2
        length = plot * value / most if most else 0
        body.append(
            f"<g><title>{_escape(f'{label}：{_number(value)}')}</title>"
            f'<text x="{label_width - 8}" y="{middle + 4:.1f}" text-anchor="end" '
            f'font-size="{TEXT_SIZE}" fill="{INK}">'
            f"{_escape(_fit(label, label_width - 12, TEXT_SIZE))}</text>"
            f'<rect class="bar" x="{label_width}" y="{middle - bar / 2:.1f}" '
            f'width="{length:.1f}" height="{bar}" rx="3" fill="{_escape(color)}"/>'
            f'<text x="{label_width + length + 6:.1f}" y="{middle + 4:.1f}" '
            f'font-size="{TEXT_SIZE}" fill="{MUTED}">{_number(value)}</text></g>'
        )
    return _svg(title, width, height, "".join(body))


def column_chart(
    items: list[tuple[str, int]],
    title: str,
    color: str = "#E8572A",
    width: int = 640,
    height: int = 220,
) -> str:
    """Draw vertical columns, one per (label, value), labelling only as many as fit below."""
    if not items:
        return _empty(title, width)
    left, right, bottom = 8, 8, 24
    base = height - bottom  # the baseline the columns stand on
    most = max(value for _, value in items)
    plot_top = TOP + TEXT_SIZE + 6  # room for the values above the tallest column
    slot = (width - left - right) / len(items)
    column = max(slot * 0.7, 1)
    widest = max(_text_width(label, TEXT_SIZE) for label, _ in items)
    # Show every n-th label so that neighbours never touch: all 24 hours, a week of days.
    step = max(1, math.ceil((widest + 6) / slot))
    values_fit = _text_width(_number(most), TEXT_SIZE) + 2 <= slot
    body = [
        f'<line x1="{left}" y1="{base}" x2="{width - right}" y2="{base}" '
        f'stroke="{RULE}" stroke-width="1"/>'
    ]
    for i, (label, value) in enumerate(items):
        center = left + slot * (i + 0.5)
        tall = (base - plot_top) * value / most if most else 0
        parts = [
            f"<g><title>{_escape(f'{label}：{_number(value)}')}</title>",
            f'<rect class="bar" x="{center - column / 2:.1f}" y="{base - tall:.1f}" '
            f'width="{column:.1f}" height="{tall:.1f}" rx="2" fill="{_escape(color)}"/>',
        ]
        if values_fit and value:
            parts.append(
                f'<text x="{center:.1f}" y="{base - tall - 4:.1f}" text-anchor="middle" '
                f'font-size="{TEXT_SIZE}" fill="{MUTED}">{_number(value)}</text>'
            )
        if i % step == 0:
            parts.append(
                f'<text x="{center:.1f}" y="{base + 16}" text-anchor="middle" '
                f'font-size="{TEXT_SIZE}" fill="{MUTED}">{_escape(label)}</text>'
            )
        parts.append("</g>")
        body.append("".join(parts))
    if not values_fit:
        # Too many columns to number each one: give the scale instead.
        body.append(
            f'<text x="{width - right}" y="{TOP + TEXT_SIZE}" text-anchor="end" '
            f'font-size="{TEXT_SIZE}" fill="{MUTED}">最高 {_number(most)}</text>'
        )
    return _svg(title, width, height, "".join(body))


def campaign_charts(figures: dict) -> dict[str, str]:
    """Draw the charts of a ``posterapp.stats.figures`` dict, keyed by the figure they show."""
    hours = [(f"{hour:02d}", n) for hour, n in enumerate(figures["by_hour"])]
    return {
        # 裂变 then 聚变, in the order people go through them (not ranked).
        "funnel": bar_chart(
            [(f["label"], f["count"]) for f in figures["funnel"]],
            "传播漏斗：看到 → 扫码 → 做海报 → 点进服务",
            color="#C23B22",
        ),
        "clicks_by_choice": bar_chart(
            [(c["label"], c["count"]) for c in figures["clicks_by_choice"]],
            "点进服务最多的选项",
            color="#B35C00",
        ),
        "top_choices": bar_chart(
            [(c["label"], c["count"]) for c in figures["top_choices"]], "最常被选的美好生活"
        ),
        "top_pairs": bar_chart(
            [(" + ".join(p["labels"]), p["count"]) for p in figures["top_pairs"]],
            "常被一起选的组合",
            color="#7B4FBF",
        ),
        "by_category": bar_chart(
            [(c["label"], c["count"]) for c in figures["by_category"]],
            "各分类被选次数",
            color="#00838F",
        ),
        "by_city": bar_chart(
            [(c["label"], c["count"]) for c in figures["by_city"]],
            "各城市做的海报（按做海报的人选的城市）",
            color="#1F6FB2",
        ),
        "by_choice_city": bar_chart(
            [(c["label"], c["count"]) for c in figures["by_choice_city"]],
            "各城市的选项被选次数（按选项所属城市）",
            color="#5C7CB2",
        ),
        "by_day": column_chart(
            [(d["day"][5:], d["posters"]) for d in figures["by_day"]], "每天新做的海报"
        ),
        "by_hour": column_chart(
            hours, f"一天中各时段新做的海报（{_zone_name(figures['timezone'])}）", color="#2E7D32"
        ),
    }


def _zone_name(timezone: str) -> str:
    return "北京时间" if timezone == "Asia/Shanghai" else timezone


def _svg(title: str, width: int, height: float, body: str) -> str:
    label = _escape(title)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height:.0f}" '
        f'viewBox="0 0 {width} {height:.0f}" role="img" aria-label="{label}" '
        f'font-family="{FONTS}"><title>{label}</title>'
        f'<text x="0" y="{TITLE_SIZE + 4}" font-size="{TITLE_SIZE}" font-weight="600" '
        f'fill="{INK}">{label}</text>{body}</svg>'
    )


def _empty(title: str, width: int) -> str:
    height = TOP + 64
    return _svg(
        title,
        width,
        height,
        f'<text x="{width / 2:.0f}" y="{TOP + 36}" text-anchor="middle" '
        f'font-size="{TEXT_SIZE + 2}" fill="{MUTED}">{NO_DATA}</text>',
    )


def _escape(text: str) -> str:
    return html.escape(NOT_XML.sub("", str(text)), quote=True)


def _number(value: int) -> str:
    return f"{value:,}"


def _text_width(text: str, size: int) -> float:
    """Estimate drawn width: Chinese characters are square, Latin ones about half as wide."""
    return sum(size if unicodedata.east_asian_width(c) in "WF" else size * 0.6 for c in text)


def _fit(text: str, width: float, size: int) -> str:
    """Shorten text with an ellipsis until it fits ``width`` (the full text is in the title)."""
    if _text_width(text, size) <= width:
        return text
    while text and _text_width(text + "…", size) > width:
        text = text[:-1]
    return text + "…"
