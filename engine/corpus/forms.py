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

import re

from engine.corpus.cleaning import LINE_ENDS, PUNCTUATION

FORM_NAMES = {
    "wujue": "五言绝句",
    "qijue": "七言绝句",
    "wulv": "五言律诗",
    "qilv": "七言律诗",
    "other": "其他",
}
_SHAPES = {"wujue": (4, 5), "qijue": (4, 7), "wulv": (8, 5), "qilv": (8, 7)}
_PATTERNS = {  # n clauses of k characters, each closed by exactly one line-end mark
    form: re.compile(f"(?:[^{PUNCTUATION}]{{{k}}}[{LINE_ENDS}]){{{n}}}")
    for form, (n, k) in _SHAPES.items()
}


def classify_form(text: str) -> str:
    """Return wujue, qijue, wulv, qilv or other for a cleaned poem text."""
    for form, pattern in _PATTERNS.items():
        if pattern.fullmatch(text):
            return form
    return "other"


def parse_form(name: str) -> str:
    """Accept a form by key (wujue) or Chinese name (五言绝句); raise ValueError otherwise."""
    if name in FORM_NAMES:
        return name
    for key, zh in FORM_NAMES.items():
        if name == zh:
            return key
    allowed = ", ".join(f"{k} ({v})" for k, v in FORM_NAMES.items())
    raise ValueError(f"unknown form {name!r}; choose one of {allowed}")
