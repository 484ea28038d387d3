"""Line breaking for Chinese text (禁则, kinsoku): closing punctuation never starts a line.

Textual folds a run of CJK characters at any cell, so a wrapped poem can put "。" alone at the
head of a row. :func:`break_offsets` finds the breaks instead: greedy by cells, a break before
a closing mark (，。、！？；：」』）…) moves one character earlier, so that character goes down
with its mark (追い込み would squeeze it, which a terminal cannot); a break after an opening
mark (「『（) moves before it. Latin words stay whole where they fit. :class:`KinsokuStatic` is a
Static that breaks its text this way at its own width.
"""

from __future__ import annotations

import re

from rich.cells import cell_len
from textual.content import Content
from textual.visual import VisualType
from textual.widgets import Static

NO_START = set("，。、！？；：」』）》〉】〕’”…·,.!?;:)]}%")  # never at the head of a line
NO_END = set("「『（《〈【〔‘“([{")  # never at the end of a line
_TOKEN = re.compile(r"[A-Za-z0-9_'\-./]+ *| +|.", re.DOTALL)


def break_offsets(text: str, width: int) -> list[int]:
    """Offsets in ``text`` (one line, no newlines) where rows break to fit ``width`` cells."""
    if width <= 0 or cell_len(text) <= width:
        return []
    tokens = [m.span() for m in _TOKEN.finditer(text)]
    breaks: list[int] = []
    start, used = 0, 0  # offset of the row's start, cells used by the row so far
    i = 0
    while i < len(tokens):
        a, b = tokens[i]
        w = cell_len(text[a:b].rstrip(" "))
        if used and used + w > width:
            cut = _legal(text, tokens, i, start)
            breaks.append(tokens[cut][0])
            start = tokens[cut][0]
            used = sum(cell_len(text[x:y]) for x, y in tokens[cut:i])
            continue
        if not used and w > width:  # a word wider than the row: fold it by cells
            used = 0
            for k in range(a, b):
                c = cell_len(text[k])
                if used and used + c > width:
                    breaks.append(k)
                    used = 0
                used += c
            i += 1
            continue
        used += cell_len(text[a:b])
        i += 1
    return [b for b in breaks if 0 < b < len(text)]


def _legal(text: str, tokens: list[tuple[int, int]], i: int, start: int) -> int:
    """The token index to break before, at or just before ``i``: never before a closing mark,
    never after an opening mark; ``i`` itself when moving would leave the row empty."""
    k = i
    while k > 0 and tokens[k - 1][0] > start and (
            text[tokens[k][0]] in NO_START or text[tokens[k - 1][1] - 1] in NO_END):
        k -= 1
    return k if tokens[k][0] > start else i


def wrap_content(content: Content, width: int) -> Content:
    """``content`` with each of its lines broken at :func:`break_offsets` (styles kept)."""
    rows: list[Content] = []
    for line in content.split("\n", allow_blank=True):
        offsets = break_offsets(line.plain, width)
        rows.extend([p.rstrip() for p in line.divide(offsets)] if offsets else [line])
    return Content("\n").join(rows)


class KinsokuStatic(Static):
    """A Static whose text wraps by the rules above at the widget's content width."""

    def render(self) -> VisualType:
        visual = super().render()
        width = self.content_size.width
        if isinstance(visual, Content) and width > 0:
            return wrap_content(visual, width)
        return visual
