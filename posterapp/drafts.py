"""Merging a catalog draft with what someone else published meanwhile: a line-based 3-way merge.

``base`` is the publication the draft started from, ``mine`` the draft, ``theirs`` the live
catalog. Edits that touch different lines are combined; where both sides changed the same
lines differently, the chunk is a conflict the person decides (mine, theirs or both).
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field


@dataclass
class Chunk:
    """A run of merged lines, or a conflict: what base, mine and theirs have there."""

    lines: list[str] = field(default_factory=list)
    conflict: bool = False
    base: list[str] = field(default_factory=list)
    mine: list[str] = field(default_factory=list)
    theirs: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        if not self.conflict:
            return {"conflict": False, "text": "".join(self.lines)}
        return {
            "conflict": True,
            "base": "".join(self.base),
            "mine": "".join(self.mine),
            "theirs": "".join(self.theirs),
        }


@dataclass
class Merge:
    chunks: list[Chunk]

    @property
    def conflicts(self) -> int:
        return sum(1 for c in self.chunks if c.conflict)

    @property
    def text(self) -> str:
        """The merged text; only meaningful when there are no conflicts."""
        return "".join("".join(c.lines) for c in self.chunks if not c.conflict)


def _changes(base: list[str], other: list[str]) -> list[tuple[int, int, list[str]]]:
    """Return the edits that turn ``base`` into ``other``: (start, end in base, new lines)."""
    matcher = difflib.SequenceMatcher(None, base, other, autojunk=False)
    return [
        (i1, i2, other[j1:j2]) for tag, i1, i2, j1, j2 in matcher.get_opcodes() if tag != "equal"
    ]


def merge(base: str, mine: str, theirs: str) -> Merge:
    """Merge two edits of ``base``; conflicting chunks are kept apart for a person to choose."""
    b = base.splitlines(keepends=True)
    m = mine.splitlines(keepends=True)
    t = theirs.splitlines(keepends=True)
    ours = [(s, e, new, "mine") for s, e, new in _changes(b, m)]
    others = [(s, e, new, "theirs") for s, e, new in _changes(b, t)]
    edits = sorted(ours + others, key=lambda x: (x[0], x[1]))
    chunks: list[Chunk] = []
    position = 0

    def plain(lines: list[str]) -> None:
        if not lines:
            return
        if chunks and not chunks[-1].conflict:
            chunks[-1].lines.extend(lines)
        else:
            chunks.append(Chunk(lines=list(lines)))

    index = 0
    while index < len(edits):
        start, end, _new, _side = edits[index]
        group = [edits[index]]
        index += 1
        # Edits that overlap (or touch the same point) belong to one region.
        while index < len(edits) and (edits[index][0] < end or edits[index][0] == start):
            end = max(end, edits[index][1])
            group.append(edits[index])
            index += 1
        plain(b[position:start])
        sides = {side for *_, side in group}
        if len(sides) == 1:
            plain(_apply(b, start, end, group))
        else:
            mine_lines = _apply(b, start, end, [g for g in group if g[3] == "mine"])
            their_lines = _apply(b, start, end, [g for g in group if g[3] == "theirs"])
            if mine_lines == their_lines:  # both made the same edit
                plain(mine_lines)
            else:
                chunks.append(
                    Chunk(conflict=True, base=b[start:end], mine=mine_lines, theirs=their_lines)
                )
        position = end
    plain(b[position:])
    return Merge(chunks)


def _apply(base: list[str], start: int, end: int, edits) -> list[str]:
    """Return ``base[start:end]`` with one side's ``edits`` (inside that range) applied."""
    out: list[str] = []
    position = start
    for s, e, new, _side in sorted(edits, key=lambda x: (x[0], x[1])):
        out.extend(base[position:s])
        out.extend(new)
        position = e
    out.extend(base[position:end])
    return out
