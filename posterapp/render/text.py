"""Chinese typesetting: line breaking with kinsoku rules, shrink-to-fit, then an ellipsis.

Lines break between words: runs of Chinese are segmented into words (jieba's dictionary,
through rjieba), so 莲藕 or 说走就走 never split across two lines unless one word is wider
than the whole line.

Text breaks between any two CJK characters, but never inside a Latin word or number, never
before closing punctuation (no line starts with ，。！？」） …) and never after opening
punctuation (no line ends with 「（《 …). Text that does not fit at its preferred size is set
smaller, down to the style's minimum, and only then cut with "…". Emoji inside text are drawn
in colour from the emoji font.
"""

from __future__ import annotations

import functools
import importlib.machinery
import importlib.util
import math
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from PIL import Image, ImageDraw

from . import caches, fonts, icons

# Characters a line may not start with (closing brackets, stops, small kana, dashes …).
NO_START = set(
    "，。．、；：？！…‥—～·・‧〜"
    "）］｝〕〉》」』】〙〗〟’”｠»"
    "ぁぃぅぇぉっゃゅょゎゕゖァィゥェォッャュョヮヵヶーヽヾゝゞ々〻"
    ",.;:?!)]}%‰℃°\"'"
    "％"
)
# Particles lean on the Chinese word before them: 你的 / 美好生活, never 你 / 的美好生活.
PARTICLES = set("的地得了着过吗呢吧啊")
# Characters a line may not end with (opening brackets, currency signs before numbers).
NO_END = set("（［｛〔〈《「『【〘〖〝‘“｟«([{$￥£€#＃")
# Punctuation dropped before an ellipsis: "好吃，…" reads worse than "好吃…".
BEFORE_ELLIPSIS = set("，、；：,;: ") | NO_END
ELLIPSIS = "…"
EMOJI_ADVANCE = 1.08  # an emoji takes its em square plus a little air


def _is_word(cluster: str) -> bool:
    char = cluster[0]
    if char.isascii():
        return char.isalnum() or char in "-_'.@&/+#"
    return unicodedata.category(char)[0] in "LN" and ord(char) < 0x2E80


WORDS = Path(__file__).resolve().parents[2] / "assets" / "words.txt"


@functools.cache
def _rjieba() -> ModuleType:
    """Load rjieba's compiled module without its package, which on import builds a module-wide
    segmenter (~30 MB) that would stay for the life of the process."""
    package = importlib.util.find_spec("rjieba")
    assert package is not None and package.submodule_search_locations, "rjieba is installed"
    folder = Path(next(iter(package.submodule_search_locations)))
    library = next(
        path for suffix in importlib.machinery.EXTENSION_SUFFIXES
        for path in sorted(folder.glob(f"rjieba{suffix}"))
    )  # fmt: skip
    loader = importlib.machinery.ExtensionFileLoader("rjieba.rjieba", str(library))
    spec = importlib.util.spec_from_loader("rjieba.rjieba", loader)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


@caches.memo("text.segmenter")
def segmenter() -> Callable[[str], list[str]]:
    """Return jieba's ``cut``, with the catalog's own words (assets/words.txt) added.

    The dictionary takes ~30 MB and ~0.2 s to load. Only text set on more than one line
    needs it (catalog texts, when a version is loaded or previewed: one line never depends on
    where words break), so a worker lets it go after each request (``release_segmenter``)
    instead of keeping it.
    """
    jieba = _rjieba().Jieba()
    for line in WORDS.read_text(encoding="utf-8").splitlines():
        word = line.strip()
        if word and not word.startswith("#"):
            jieba.add_word(word, None, None)
    return jieba.cut


def release_segmenter() -> bool:
    """Free jieba's dictionary; the next text that needs it loads it again. Return whether
    it was loaded (and so ~8 MB were freed)."""
    loaded = segmenter.cache_info().currsize > 0
    segmenter.cache_clear()
    return loaded


def broken_word(content: str, lines) -> str | None:
    """Return the line break of ``lines`` that splits a word of ``content`` ("周黑|鸭"), or None."""
    ends, offset = set(), 0
    for atom in atoms(content):
        offset += len(atom)
        ends.add(offset)
    offset = 0
    for line in lines[:-1]:
        offset = content.index(line, offset) + len(line)
        if offset not in ends:
            left = content[max(0, offset - 3) : offset]
            return f"{left}|{content[offset : offset + 3]}"
    return None


def _is_han(cluster: str) -> bool:
    return len(cluster) == 1 and unicodedata.name(cluster, "").startswith("CJK UNIFIED")


def _words(text: str) -> list[str]:
    """Split text into clusters, with each run of Chinese characters cut into whole words."""
    out: list[str] = []
    run = ""
    for cluster in [*fonts.clusters(text), ""]:
        if cluster and _is_han(cluster):
            run += cluster
            continue
        if run:
            out += segmenter()(run)
            run = ""
        if cluster:
            out.append(cluster)
    return out


@caches.memo("text.atoms")
def atoms(text: str, by_words: bool = True) -> tuple[str, ...]:
    """Split text into pieces that are never broken; a line may break between any two.

    ``by_words=False`` allows a break between any two Chinese characters (still following
    the kinsoku rules), for a word wider than its line.
    """
    raw: list[str] = []
    for cluster in _words(text) if by_words else fonts.clusters(text):
        if (
            raw
            and cluster != " "
            and raw[-1] != " "
            and _is_word(cluster)
            and _is_word(raw[-1][-1])
        ):
            raw[-1] += cluster
        else:
            raw.append(cluster)
    out: list[str] = []
    for atom in raw:
        if (
            atom != " "
            and out
            and out[-1] != " "
            and (
                atom[0] in NO_START
                or out[-1][-1] in NO_END
                or (by_words and atom in PARTICLES and _is_han(out[-1][-1]))
            )
        ):
            out[-1] += atom
        else:
            out.append(atom)
    return tuple(out)


def runs(text: str) -> list[tuple[str, bool]]:
    """Split text into (run, is_emoji) pieces to be drawn with one font each."""
    out: list[tuple[str, bool]] = []
    for cluster in fonts.clusters(text):
        emoji = fonts.is_emoji_cluster(cluster)
        if out and out[-1][1] == emoji and not emoji:
            out[-1] = (out[-1][0] + cluster, emoji)
        else:
            out.append((cluster, emoji))
    return out


@caches.memo("text.width")
def width(text: str, kind: str, size: int) -> float:
    """Return the advance width of ``text`` set in face ``kind`` at ``size`` pixels."""
    total = 0.0
    for run, emoji in runs(text):
        total += size * EMOJI_ADVANCE if emoji else fonts.face(kind, size, run).getlength(run)
    return total


def wrap(
    text: str,
    kind: str,
    size: int,
    max_width: float,
    split_words: bool = True,
    by_words: bool = True,
) -> list[str]:
    """Break text into lines no wider than ``max_width``, following the kinsoku rules.

    With ``split_words=False`` a word wider than the line stays whole (and too wide);
    ``by_words=False`` breaks between any two characters, as for text of one line.
    """
    lines: list[str] = []
    line = ""
    pieces = (
        _pieces(text, kind, size, max_width, by_words) if split_words else atoms(text, by_words)
    )
    for atom in pieces:
        if atom == " ":
            if line:
                line += " "
            continue
        candidate = line + atom
        if width(candidate.rstrip(), kind, size) <= max_width or not line.strip():
            line = candidate
        else:
            lines.append(line.rstrip())
            line = atom
        # A single piece wider than the line (a long word): break it by character.
        while split_words and width(line, kind, size) > max_width and len(fonts.clusters(line)) > 1:
            head = _longest_prefix(line, kind, size, max_width)
            lines.append(head)
            line = line[len(head) :]
    if line.strip():
        lines.append(line.rstrip())
    return lines


def _pieces(text: str, kind: str, size: int, max_width: float, by_words: bool = True):
    """Yield the atoms of ``text``, a word wider than the line split into characters."""
    for atom in atoms(text, by_words):
        if width(atom, kind, size) > max_width and len(fonts.clusters(atom)) > 1:
            yield from atoms(atom, by_words=False)
        else:
            yield atom


def _longest_prefix(text: str, kind: str, size: int, max_width: float) -> str:
    prefix = ""
    for cluster in fonts.clusters(text):
        if prefix and width(prefix + cluster, kind, size) > max_width:
            break
        prefix += cluster
    return prefix


def ellipsize(text: str, kind: str, size: int, max_width: float) -> str:
    """Cut ``text`` so that it plus "…" fits ``max_width``; never end on opening punctuation."""
    pieces = fonts.clusters(text)
    while pieces:
        head = "".join(pieces).rstrip()
        while head and head[-1] in BEFORE_ELLIPSIS:
            head = head[:-1]
        if head and width(head + ELLIPSIS, kind, size) <= max_width:
            return head + ELLIPSIS
        pieces.pop()
    return ELLIPSIS


@dataclass(frozen=True)
class SetText:
    """Text broken into lines at a size that fits its box."""

    lines: tuple[str, ...]
    size: int
    kind: str
    line_height: float
    truncated: bool

    @property
    def height(self) -> int:
        return round(len(self.lines) * self.size * self.line_height)


@caches.memo("text.fit")
def fit(
    text: str,
    kind: str,
    size: int,
    min_size: int,
    max_lines: int,
    line_height: float,
    box_width: int,
    box_height: int,
) -> SetText:
    """Set text as large as possible (``size`` down to ``min_size``), then cut with "…".

    Whole words come first: the text is set smaller before a word is split across lines.
    Text of one line fits or not whatever its words, so it is not segmented (see segmenter).
    """
    by_words = max_lines > 1
    for split_words in (False, True):
        current = size
        while True:
            lines_allowed = min(max_lines, int(box_height // (current * line_height)) or 1)
            lines = wrap(text, kind, current, box_width, split_words, by_words)
            fits = all(width(line, kind, current) <= box_width for line in lines)
            if len(lines) <= lines_allowed and fits:
                balanced = balance(text, kind, current, lines, split_words)
                return SetText(balanced, current, kind, line_height, False)
            if current <= min_size:
                break
            current = max(min_size, current - max(1, math.ceil(current * 0.04)))
    kept = lines[: lines_allowed - 1]
    kept.append(ellipsize(_remainder(text, kept), kind, current, box_width))
    return SetText(tuple(kept), current, kind, line_height, True)


def balance(
    text: str, kind: str, size: int, lines: list[str], split_words: bool = True
) -> tuple[str, ...]:
    """Re-break text over the same number of lines, as evenly as it goes (no lone last char)."""
    if len(lines) < 2:
        return tuple(lines)
    low, high = 1, math.ceil(max(width(line, kind, size) for line in lines))
    best = lines
    while low < high:  # the narrowest measure that still needs no more lines
        middle = (low + high) // 2
        trial = wrap(text, kind, size, middle, split_words)
        if len(trial) <= len(lines) and all(width(t, kind, size) <= middle for t in trial):
            best, high = trial, middle
        else:
            low = middle + 1
    return tuple(best)


def _remainder(text: str, lines: list[str]) -> str:
    """Return what of ``text`` is left after ``lines`` (wrapping only ever drops spaces)."""
    i = 0
    for char in "".join(lines):
        while text[i] != char:
            i += 1
        i += 1
    return text[i:].lstrip()


def fit_style(text: str, style) -> SetText:
    """Fit text into a layout ``TextStyle``."""
    return fit(
        text,
        style.font,
        style.size,
        style.smallest,
        style.max_lines,
        style.line_height,
        style.box[2],
        style.box[3],
    )


def draw(
    canvas: Image.Image,
    set_text: SetText,
    box,
    color: str,
    align: str = "left",
    valign: str = "top",
    offset: tuple[int, int] = (0, 0),
) -> None:
    """Draw set text into ``box`` (x, y, w, h) on an RGBA canvas, emoji in colour."""
    x0, y0, box_w, box_h = box
    x0 += offset[0]
    y0 += offset[1]
    size, kind = set_text.size, set_text.kind
    line_h = size * set_text.line_height
    free = box_h - set_text.height
    top = y0 + {"top": 0, "middle": free / 2, "bottom": free}[valign]
    pen = ImageDraw.Draw(canvas)
    for index, line in enumerate(set_text.lines):
        line_w = width(line, kind, size)
        x = x0 + {"left": 0, "center": (box_w - line_w) / 2, "right": box_w - line_w}[align]
        # Centre the ideographic em box in the line: its top sits 0.88 em above the baseline.
        baseline = top + index * line_h + (line_h - size) / 2 + size * 0.88
        for run, emoji in runs(line):
            if emoji:
                tile = icons.emoji_tile(run, size)
                canvas.alpha_composite(
                    tile, (round(x + size * (EMOJI_ADVANCE - 1) / 2), round(baseline - size * 0.88))
                )
                x += size * EMOJI_ADVANCE
            else:
                face = fonts.face(kind, size, run)
                pen.text((x, baseline), run, font=face, fill=color, anchor="ls")
                x += face.getlength(run)
