"""Classify a poem's form by its clause count and clause length.

=========  ==================  ==============
form       name                shape
=========  ==================  ==============
wujue      五言绝句             4 clauses of 5
qijue      七言绝句             4 clauses of 7
wulv       五言律诗             8 clauses of 5
qilv       七言律诗             8 clauses of 7
other      其他                 anything else
=========  ==================  ==============
"""

from __future__ import annotations

from engine.corpus.cleaning import LINE_ENDS, clauses

FORM_NAMES = {
    "wujue": "五言绝句",
    "qijue": "七言绝句",
    "wulv": "五言律诗",
    "qilv": "七言律诗",
    "other": "其他",
}
_SHAPES = {(4, 5): "wujue", (4, 7): "qijue", (8, 5): "wulv", (8, 7): "qilv"}


def classify_form(text: str) -> str:
    """Return wujue, qijue, wulv, qilv or other for a cleaned poem text."""
    if not text or text[-1] not in LINE_ENDS:
        return "other"
    parts = clauses(text)
    sizes = {len(p) for p in parts}
    if len(sizes) != 1 or len(text) != sum(map(len, parts)) + len(parts):
        return "other"
    return _SHAPES.get((len(parts), sizes.pop()), "other")


def parse_form(name: str) -> str:
    """Accept a form by key (wujue) or Chinese name (五言绝句); raise ValueError otherwise."""
    if name in FORM_NAMES:
        return name
    for key, zh in FORM_NAMES.items():
        if name == zh:
            return key
    allowed = ", ".join(f"{k} ({v})" for k, v in FORM_NAMES.items())
    raise ValueError(f"unknown form {name!r}; choose one of {allowed}")
