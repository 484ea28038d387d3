"""Cleaning rules applied to every poem, each counting what it removed (never silently).

Rules, in order:

``editorial_notes``      bracketed notes such as （一作「叉」）, 〖1〗 or [八] removed
                         (innermost first, across lines); ``[爽]``-style restorations keep
                         the character
``quote_marks``          quotation and title marks 「」『』《》〈〉 removed, their content kept
``doubled_punctuation`` runs of punctuation such as ？。 reduced to their first mark
``missing_characters``   poems with missing-character marks (□ ○ ●), composed-character
                         descriptions ({...}) or ideographic description characters are dropped
``foreign_characters``   poems holding anything outside CJK ideographs and the poem punctuation
                         ，。？！；：、 are dropped
``empty``                poems with no text left are dropped
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

PUNCTUATION = "，。？！；：、"
LINE_ENDS = "，。？！；"
_CJK = (
    "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
    "\U00020000-\U0002a6df\U0002a700-\U0002ebef\U00030000-\U0003134f"
)
CJK_CHAR = re.compile(f"[{_CJK}]")
ALLOWED = re.compile(f"^[{_CJK}{PUNCTUATION}]+$")

_NOTES = (re.compile(r"（[^（）]*）"), re.compile(r"〖[^〖〗]*〗"), re.compile(r"\([^()]*\)"))
_FOOTNOTE = re.compile(r"\[[0-9一二三四五六七八九十○]+\]")  # [八], [1]: note marks
_RESTORED = re.compile(r"\[([^\[\]]*)\]")  # [爽]: an editor's restoration, keep the text
_QUOTES = re.compile(r"[「」『』《》〈〉]")
_DOUBLED = re.compile(f"([{PUNCTUATION}])[{PUNCTUATION}]+")
_SPECIAL = re.compile(r"[（〖(\[「」『』《》〈〉□○●■〇⿰-⿻{}]")  # any rule above may apply
_MISSING = re.compile(r"[□○●■〇⿰⿱⿲⿳⿴⿵⿶⿷⿸⿹⿺⿻{}]")


@dataclass
class Cleaned:
    lines: list[str]  # one entry per source paragraph, cleaned, empty ones dropped
    text: str  # the lines joined


def clean_poem(paragraphs: list[str], counts: Counter[str]) -> Cleaned | None:
    """Clean one poem; return None when a rule drops it. ``counts`` gets one tick per change."""
    text = "\n".join(paragraphs)
    if _SPECIAL.search(text):
        text = _strip_marks(text, counts)
        if text is None:
            return None
    lines = [ln.strip() for ln in text.split("\n")]
    lines = [ln for ln in lines if ln.strip(PUNCTUATION)]
    joined = "".join(lines)
    if _DOUBLED.search(joined):
        counts["doubled_punctuation"] += 1
        lines = [_DOUBLED.sub(r"\1", ln) for ln in lines]
        joined = "".join(lines)
    if not joined:
        counts["empty"] += 1
        return None
    if not ALLOWED.match(joined):
        counts["foreign_characters"] += 1
        return None
    return Cleaned(lines, joined)


def clauses(text: str) -> list[str]:
    """Split a poem into its clauses (the half-lines ended by ，。？！；)."""
    return [c for c in re.split(f"[{LINE_ENDS}]", text) if c]


def _strip_marks(text: str, counts: Counter[str]) -> str | None:
    """Apply the bracket, quote and missing-character rules (only poems holding such marks)."""
    before = text
    for _ in range(8):  # nested notes: remove the innermost first
        changed = text
        for pattern in _NOTES:
            changed = pattern.sub("", changed)
        changed = _FOOTNOTE.sub("", changed)
        if changed == text:
            break
        text = changed
    text = _RESTORED.sub(r"\1", text)
    if text != before:
        counts["editorial_notes"] += 1
    stripped = _QUOTES.sub("", text)
    if stripped != text:
        counts["quote_marks"] += 1
        text = stripped
    if _MISSING.search(text):
        counts["missing_characters"] += 1
        return None
    return text
