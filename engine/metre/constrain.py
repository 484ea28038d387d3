"""The metre templates as masks for generation: one (V,) mask per position, no rejection.

A :class:`MetreState` keeps the (pattern, template) pairs that the poem so far still fits. The
mask at column ``c`` of line ``i`` allows a character when some live template admits its tone
there (a character of several readings fits either), and at a rhyme position when it is in a
live 平水韵 group and not yet used. After each character the pairs it does not fit are
dropped; every template is complete and every group has enough characters, so some pair always
survives to the end, and the poem passes :func:`engine.metre.checker.check`.

- ``strict``: the accepted templates of :mod:`engine.metre.templates` (拗救 that bind the
  next line left out), so 孤平 and 三平尾 never occur;
- ``loose``: only 二四六 and the line ends (仄 where no rhyme, 平 in the group where one);
- ``off``: no tones; with ``rhyme``, the even lines end in one 平水韵 group.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from engine.metre import phonology as ph
from engine.metre.errors import MetreError
from engine.metre.templates import ANY, Pattern, patterns

MODES = ("off", "loose", "strict")
PATTERN_CHOICES = ("auto", "pingqi", "zeqi")


class VocabTones:
    """Per-vocabulary tone and rhyme masks: ``ping``/``ze`` (V,) have a 平/仄 reading,
    ``groups`` (G, V) are the members of each 平 group (G = 106, only 平 rows filled)."""

    def __init__(self, itos: list[str], hanzi: np.ndarray) -> None:
        V, G = len(itos), len(ph.groups().names)
        self.hanzi = hanzi
        self.ping = np.zeros(V, dtype=bool)  # (V,)
        self.ze = np.zeros(V, dtype=bool)  # (V,)
        self.groups = np.zeros((G, V), dtype=bool)  # (G, V)
        for tok in np.flatnonzero(hanzi):
            for tone, g in ph.readings(itos[tok]):
                (self.ping if tone == ph.PING else self.ze)[tok] = True
                if tone == ph.PING and g >= 0:
                    self.groups[g, tok] = True
        self.sizes = self.groups.sum(axis=1)  # (G,)
        self.tone = {ph.PING: self.ping, ph.ZE: self.ze, ANY: hanzi}


@lru_cache(maxsize=4)
def _cached(itos: tuple[str, ...], hanzi: bytes) -> VocabTones:
    return VocabTones(list(itos), np.frombuffer(hanzi, dtype=bool))


def vocab_tones(itos: list[str], hanzi: np.ndarray) -> VocabTones:
    """The (cached) tables of a vocabulary."""
    return _cached(tuple(itos), np.ascontiguousarray(hanzi, dtype=bool).tobytes())


def line_templates(pattern: Pattern, i: int, mode: str) -> tuple[str, ...]:
    """The templates line ``i`` may follow in generation."""
    lt = pattern.line(i)
    if mode == "strict":
        return tuple(t.tones for t in lt.accepted if not t.needs)
    if mode == "loose":
        keep = set(lt.strict_cols())
        return ("".join(t if c in keep else ANY for c, t in enumerate(lt.base)),)
    return (ANY * len(lt.base),)


@dataclass(frozen=True)
class MetrePlan:
    mode: str  # off | loose | strict
    lines: int
    chars: int
    patterns: tuple[Pattern, ...]  # the candidates (one when fixed by --pattern and the start)
    rhyme: bool  # rhyming lines end in one 平水韵 group
    groups: tuple[int, ...]  # the groups the first rhyme may choose from
    tables: VocabTones

    def rhyme_lines(self, pattern: Pattern) -> tuple[int, ...]:
        if not self.rhyme:
            return ()
        if self.mode == "off":
            return tuple(range(1, self.lines, 2))
        return pattern.rhyme_lines()

    def need(self, pattern: Pattern) -> int:
        """Distinct rhyme characters the pattern needs from its group."""
        return len(self.rhyme_lines(pattern))

    def state(self) -> MetreState:
        return MetreState(self)


def make_metre_plan(itos: list[str], hanzi: np.ndarray, lines: int, chars: int, mode: str,
                    pattern: str = "auto", rhyme: bool = True, rhyme_group: str = "",
                    forced: dict[tuple[int, int], str] | None = None) -> MetrePlan:
    """Validate a request; ``forced`` maps (line, column) to the start words and acrostic
    heads. :class:`MetreError` when no pattern admits them or no group is big enough."""
    if mode not in MODES:
        raise MetreError(f"unknown metre {mode!r} (choose {', '.join(MODES)})")
    if pattern not in PATTERN_CHOICES:
        raise MetreError(f"unknown pattern {pattern!r} (choose {', '.join(PATTERN_CHOICES)})")
    tables = vocab_tones(itos, hanzi)
    cands = patterns(lines, chars)
    if pattern != "auto":
        cands = [p for p in cands if p.start == ("平起" if pattern == "pingqi" else "仄起")]
    if mode == "off":
        cands = cands[:1]
    forced = forced or {}
    ok = [p for p in cands if _admits(p, mode, forced, rhyme)]
    if not ok:
        which = {"auto": "", "pingqi": "平起 ", "zeqi": "仄起 "}[pattern]
        shown = "".join(f"「{ch}」({ph.mark(ch)}, line {i + 1} char {c + 1}) "
                        for (i, c), ch in sorted(forced.items()))
        raise MetreError(f"no {which}pattern of this form admits {shown.strip()} under "
                         f"--metre {mode}; change the start words or acrostic, or the pattern")
    groups = list(range(len(tables.sizes)))
    if rhyme_group:
        groups = [ph.parse_group(rhyme_group)]
    plan = MetrePlan(mode, lines, chars, tuple(ok), rhyme, tuple(groups), tables)
    fitting = [p for p in ok if not rhyme or (tables.sizes[groups] >= plan.need(p)).any()]
    if not fitting:
        need = min(plan.need(p) for p in ok)
        where = (f"has {tables.sizes[groups[0]]} characters of {ph.group_name(groups[0])}"
                 if rhyme_group else "has no 平水韵 level-tone group with enough characters")
        raise MetreError(f"the model's vocabulary {where}; this form needs {need} rhymes")
    return MetrePlan(mode, lines, chars, tuple(fitting), rhyme, tuple(groups), tables)


def _admits(p: Pattern, mode: str, forced: dict[tuple[int, int], str], rhyme: bool) -> bool:
    for i in {line for line, _ in forced}:
        chars = {c: ph.tones(ch) for (j, c), ch in forced.items() if j == i}
        if not any(all(t[c] == ANY or t[c] in tones for c, tones in chars.items())
                   for t in line_templates(p, i, mode)):
            return False
        last = len(p.line(i).base) - 1
        if rhyme and last in chars and i in p.rhyme_lines():
            if not ph.ping_groups(forced[(i, last)]):
                return False
    return True


class MetreState:
    """Where one poem stands in its candidate patterns and rhyme group."""

    def __init__(self, plan: MetrePlan) -> None:
        self.plan = plan
        self.line = 0
        self.live = self._start_line(list(plan.patterns), 0)
        self.groups = np.array(plan.groups, dtype=np.int64)  # live rhyme groups
        self.used: list[int] = []  # rhyme characters so far

    def _start_line(self, pats: list[Pattern], i: int) -> list[tuple[Pattern, str]]:
        return [(p, t) for p in pats for t in line_templates(p, i, self.plan.mode)]

    def _rhyme_mask(self, p: Pattern) -> np.ndarray:
        """Unused characters of the live groups big enough for every rhyme of ``p``."""
        tables = self.plan.tables
        gs = self.groups[tables.sizes[self.groups] >= self.plan.need(p)]
        m = tables.groups[gs].any(axis=0)  # (V,)
        m[self.used] = False
        return m

    def allowed(self, line: int, col: int) -> np.ndarray:
        """The (V,) mask of characters that keep some pattern alive at (line, col)."""
        self._advance(line)
        tables, last = self.plan.tables, self.plan.chars - 1
        mask = np.zeros_like(tables.hanzi)
        for p, t in self.live:
            m = tables.tone[t[col]]
            if col == last and line in self.plan.rhyme_lines(p):
                m = m & self._rhyme_mask(p)
            mask |= m
        return mask & tables.hanzi

    def push(self, line: int, col: int, tok: int) -> None:
        self._advance(line)
        tables, last = self.plan.tables, self.plan.chars - 1
        rhymed = False
        keep = []
        for p, t in self.live:
            if not tables.tone[t[col]][tok]:
                continue
            if col == last and line in self.plan.rhyme_lines(p):
                if not self._rhyme_mask(p)[tok]:
                    continue
                rhymed = True
            keep.append((p, t))
        self.live = keep or self.live  # a forced token the plan admitted keeps its pattern
        if rhymed:
            inside = tables.groups[self.groups, tok]
            self.groups = self.groups[inside] if inside.any() else self.groups
            self.used.append(tok)

    def _advance(self, line: int) -> None:
        if line != self.line:  # a new line: the patterns whose templates reached the end
            pats = list(dict.fromkeys(p for p, _ in self.live))
            self.line = line
            self.live = self._start_line(pats, line)
