"""Character vocabulary with four specials: <pad>=0, <bos>=1, <eos>=2, <unk>=3."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

import numpy as np

SPECIALS = ("<pad>", "<bos>", "<eos>", "<unk>")


class Vocab:
    def __init__(self, itos: list[str]) -> None:
        if list(itos[:4]) != list(SPECIALS):
            raise ValueError(f"a vocabulary starts with {SPECIALS}")
        self.itos = list(itos)
        self.stoi = {s: i for i, s in enumerate(self.itos)}
        self._table: np.ndarray | None = None  # code point -> id, built on first encode

    @classmethod
    def build(cls, texts: Iterable[str], min_freq: int = 1, max_size: int = 0) -> Vocab:
        """Most frequent characters first (ties by code point); rarer ones map to <unk>."""
        counts: Counter[str] = Counter()
        for t in texts:
            counts.update(t)
        chars = sorted((c for c, n in counts.items() if n >= max(min_freq, 1)),
                       key=lambda c: (-counts[c], c))
        if max_size:
            chars = chars[: max(0, max_size - len(SPECIALS))]
        return cls([*SPECIALS, *chars])

    def __len__(self) -> int:
        return len(self.itos)

    def __contains__(self, ch: str) -> bool:
        return ch in self.stoi

    def encode(self, text: str) -> np.ndarray:
        """Ids of the characters of ``text`` (int64); unknown characters become <unk> (3)."""
        if self._table is None:
            top = max((ord(s) for s in self.itos[4:]), default=0)
            table = np.full(top + 1, 3, np.int64)
            for i, s in enumerate(self.itos[4:], start=4):
                table[ord(s)] = i
            self._table = table
        cps = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32).astype(np.int64)
        out = np.full(len(cps), 3, np.int64)
        ok = cps < len(self._table)
        out[ok] = self._table[cps[ok]]
        return out

    def decode(self, ids: Iterable[int]) -> str:
        """Characters of ``ids``, specials dropped."""
        return "".join(self.itos[i] for i in ids if i >= 4)
