"""A deterministic held-out split at poem level.

A poem is in the test split when the first 8 bytes of BLAKE2b(traditional text), read as an
unsigned integer, fall below ``test_frac * 2**64``. The key depends on the poem's text alone, so
the split never moves when the script, filters or vocabulary change, and duplicate texts always
land on the same side.
"""

from __future__ import annotations

from engine.corpus.model import Poem


def in_test_split(poem: Poem, test_frac: float) -> bool:
    return int(poem.split_key, 16) < int(test_frac * 2**64)


def split_poems(poems: list[Poem], test_frac: float = 0.05) -> tuple[list[Poem], list[Poem]]:
    """(train, test) in corpus order."""
    train: list[Poem] = []
    test: list[Poem] = []
    for p in poems:
        (test if in_test_split(p, test_frac) else train).append(p)
    return train, test
