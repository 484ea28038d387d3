"""Line templates and the standard patterns of regulated verse, as data (after hulbji/couyun).

A template is a string over 平, 仄 and ? (either tone). The four line types of 五言 are

    A 仄仄平平仄   B 平平仄仄平   C 平平平仄仄   D 仄仄仄平平

and a 七言 line puts two characters before them, the second opposite to the 五言 line's second
(A7 = 平平仄仄平平仄, B7 = 仄仄平平仄仄平, ...). Each type lists the variants accepted under
the usual tolerance, 一三五不论，二四六分明:

- the 1st and 3rd characters (七言: 1st, 3rd, 5th) are free, except that B may not fall into
  孤平 (仄平仄仄平: the rhyme the only other 平) and D may not end in 三平尾 (仄仄平平平);
- accepted 拗救: B as 仄平平仄平 (孤平拗救, in the pattern), C as 平平仄平仄 (特拗), and A
  with its 4th character 仄 (仄仄平仄仄, 仄仄仄仄仄) when the next line's 3rd character is 平
  (对句相救: 平平平仄平).

A poem of 4 (绝句) or 8 (律诗) lines follows one of four patterns, named by its first line: 黏
(a couplet's first line shares the second tone of the line before) and 对 (a couplet's lines
have opposite second tones) fix every later line. Rhyming lines end in 平; the first line
rhymes when its type is B or D (首句入韵).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from engine.metre.phonology import PING, ZE

ANY = "?"


@dataclass(frozen=True)
class Template:
    """One accepted variant of a line type; ``needs`` (column, tone) bind the next line."""

    tones: str
    needs: tuple[tuple[int, str], ...] = ()
    name: str = ""  # the 拗救 it is, if any


@dataclass(frozen=True)
class LineType:
    key: str  # A, B, C or D
    base: str  # the regular line, e.g. 仄仄平平仄
    accepted: tuple[Template, ...]
    forbidden: tuple[tuple[str, str], ...]  # (template, name) of the named faults

    @property
    def rhymed(self) -> bool:
        return self.base[-1] == PING

    def strict_cols(self) -> tuple[int, ...]:
        """二四六分明 and the last character: the columns whose tone the base fixes."""
        n = len(self.base)
        return (*range(1, n - 1, 2), n - 1)


_FIVE: dict[str, tuple[str, list[Template], list[tuple[str, str]]]] = {
    "A": ("仄仄平平仄", [Template("?仄?平仄"),
                         Template("?仄?仄仄", ((2, PING),), "拗句（对句第三字平声相救）")],
          []),
    "B": ("平平仄仄平", [Template("?平平仄平"), Template("平平仄仄平")],
          [("仄平仄仄平", "孤平")]),
    "C": ("平平平仄仄", [Template("?平?仄仄"), Template("平平仄平仄", (), "特拗")], []),
    "D": ("仄仄仄平平", [Template("?仄仄平平")], [("?仄平平平", "三平尾")]),
}
OPPOSITE = {PING: ZE, ZE: PING}


def _build(chars: int) -> dict[str, LineType]:
    out = {}
    for key, (base, accepted, forbidden) in _FIVE.items():
        if chars == 5:
            out[key] = LineType(key, base, tuple(accepted), tuple(forbidden))
            continue
        acc = tuple(Template(ANY + OPPOSITE[base[1]] + t.tones,
                             tuple((c + 2, tone) for c, tone in t.needs), t.name)
                    for t in accepted)
        forb = tuple((ANY + OPPOSITE[base[1]] + t, name) for t, name in forbidden)
        out[key] = LineType(key, OPPOSITE[base[1]] * 2 + base, acc, forb)
    return out


LINE_TYPES: dict[int, dict[str, LineType]] = {5: _build(5), 7: _build(7)}
# the type after each type: 对 within a couplet, 黏 across couplets
_PARTNER = {"A": "B", "C": "D", "B": "D", "D": "B"}  # first line of a couplet -> second
_NEXT_COUPLET = {"B": "C", "D": "A"}  # second line -> next couplet's first (黏)


@dataclass(frozen=True)
class Pattern:
    """One standard pattern: the type of every line."""

    chars: int  # 5 or 7
    types: tuple[str, ...]  # e.g. ("A", "B", "C", "D")

    @property
    def start(self) -> str:
        """平起 or 仄起: the tone of the first line's second character."""
        return f"{self.line(0).base[1]}起"

    @property
    def first_rhymed(self) -> bool:
        return self.line(0).rhymed

    @property
    def name(self) -> str:
        return f"{self.start}首句{'入' if self.first_rhymed else '不入'}韵"

    def line(self, i: int) -> LineType:
        return LINE_TYPES[self.chars][self.types[i]]

    def rhyme_lines(self) -> tuple[int, ...]:
        return tuple(i for i in range(len(self.types)) if self.line(i).rhymed)


@lru_cache(maxsize=8)
def patterns(lines: int, chars: int) -> tuple[Pattern, ...]:
    """The four standard patterns of a form (4 or 8 lines of 5 or 7 characters)."""
    out = []
    for first in "ABCD":
        types = [first]
        while len(types) < lines:
            prev = types[-1]
            types.append(_PARTNER[prev] if len(types) % 2 else _NEXT_COUPLET[prev])
        out.append(Pattern(chars, tuple(types)))
    return tuple(out)


def fits(tones: frozenset[str], want: str) -> bool:
    """A character of ``tones`` fits ``want`` (平, 仄 or ?); an unknown one only fits ?."""
    return want == ANY or want in tones


def matches(template: str, line_tones: list[frozenset[str]]) -> bool:
    return len(template) == len(line_tones) and all(
        fits(t, w) for t, w in zip(line_tones, template, strict=True))
