"""Rhyme classes of a vocabulary, from pypinyin's finals, as masks over token ids.

Each character's final (pypinyin ``Style.FINALS``, strict: ``iou``, ``uei``, ``uen``, ``v``...)
is folded into a rhyme class by dropping the medial, as the traditional 十三辙 do: 光 guang,
霜 shuang and 乡 xiang all rhyme in ``ang``; 人 ren, 心 xin and 春 chun in ``en``. A character
with several readings counts in the class of its first (most common) reading only: rare
readings (池 also reads tuó) would otherwise make rhymes no reader hears.

Modern readings only approximate Tang (Middle Chinese) rhyme, but a poem whose even lines rhyme
in Mandarin is what a reader today hears as rhyming.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

# pypinyin final (strict) -> rhyme class; -i (zhi, chi, ri...) comes back as "i" and joins it
RHYME_CLASS: dict[str, str] = {
    "a": "a", "ia": "a", "ua": "a",                                   # 发花
    "o": "o", "uo": "o", "e": "o",                                    # 梭波
    "ie": "ie", "ve": "ie", "ue": "ie",                               # 乜斜
    "ai": "ai", "uai": "ai",                                          # 怀来
    "ei": "ei", "uei": "ei", "ui": "ei",                              # 灰堆
    "ao": "ao", "iao": "ao",                                          # 遥条
    "ou": "ou", "iou": "ou", "iu": "ou",                              # 油求
    "an": "an", "ian": "an", "uan": "an", "van": "an",                # 言前
    "en": "en", "in": "en", "uen": "en", "un": "en", "vn": "en",      # 人辰
    "ang": "ang", "iang": "ang", "uang": "ang",                       # 江阳
    "eng": "eng", "ing": "eng", "ueng": "eng", "ong": "eng", "iong": "eng",  # 中东
    "i": "i", "v": "i", "er": "i",                                    # 一七
    "u": "u",                                                         # 姑苏
}


def rhyme_classes(ch: str) -> list[str]:
    """Rhyme classes of one character's readings, most common first; [] if it has none."""
    from pypinyin import Style, pinyin

    readings = pinyin(ch, style=Style.FINALS, heteronym=True, strict=True, errors="ignore")
    out: list[str] = []
    for final in readings[0] if readings else []:
        cls = RHYME_CLASS.get(final)
        if cls and cls not in out:
            out.append(cls)
    return out


class RhymeTable:
    """Per-vocabulary rhyme masks: ``members[c]`` (V,) is True for the characters of class c
    (by their primary reading)."""

    def __init__(self, itos: list[str], hanzi: np.ndarray) -> None:
        self.classes = sorted(set(RHYME_CLASS.values()))
        index = {c: i for i, c in enumerate(self.classes)}
        V = len(itos)
        self.primary = np.full(V, -1, dtype=np.int64)  # (V,) class of the first reading
        self.members = np.zeros((len(self.classes), V), dtype=bool)  # (C, V)
        for tok in np.flatnonzero(hanzi):
            classes = rhyme_classes(itos[tok])
            if classes:
                self.primary[tok] = index[classes[0]]
                self.members[index[classes[0]], tok] = True
        self.sizes = self.members.sum(axis=1)  # (C,) rhyming characters per class

    def first_mask(self, need: int) -> np.ndarray:
        """Characters that may end the first rhyming line: their primary class must hold at
        least ``need`` characters, so every later rhyming line still has a fresh one."""
        ok = np.flatnonzero(self.sizes >= need)
        return np.isin(self.primary, ok)

    def class_of(self, tok: int) -> int:
        return int(self.primary[tok])

    def mask(self, cls: int, used: list[int]) -> np.ndarray:
        """Characters of class ``cls`` other than the rhyme characters ``used`` so far."""
        m = self.members[cls].copy()
        m[used] = False
        return m


@lru_cache(maxsize=4)
def _cached(itos: tuple[str, ...], hanzi: bytes) -> RhymeTable:
    return RhymeTable(list(itos), np.frombuffer(hanzi, dtype=bool))


def rhyme_table(itos: list[str], hanzi: np.ndarray) -> RhymeTable:
    """The (cached) table of a vocabulary; building one takes about 0.2 s for 7,500 characters."""
    return _cached(tuple(itos), np.ascontiguousarray(hanzi, dtype=bool).tobytes())
