"""Check a poem against the patterns of regulated verse: ``check(text)`` -> :class:`MetreReport`.

The poem is cut into lines at its punctuation (or newlines; an unpunctuated run of 20, 28, 40
or 56 characters is cut evenly); 4 or 8 lines of 5 or 7 characters make a 绝句 or 律诗. Each
of the four standard patterns of :mod:`engine.metre.templates` is tried, and the one with the
fewest violations is reported: a line passes when one accepted template of its type fits it
(every character fits its position if any reading does), and the rhyming lines must end in
one 平水韵 level-tone group, without repeating a rhyme character.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from engine.metre import phonology as ph
from engine.metre.errors import MetreError
from engine.metre.templates import ANY, Pattern, Template, fits, matches, patterns

FORMS = {(4, 5): ("wujue", "五言绝句"), (4, 7): ("qijue", "七言绝句"),
         (8, 5): ("wulv", "五言律诗"), (8, 7): ("qilv", "七言律诗")}
_BREAKS = re.compile(r"[，。？！；、：,.?!;:\n]+")
_IGNORED = set(" \t\r\u3000《》“”‘’「」『』\"'·—…()（）")
_ORDINAL = "一二三四五六七"


@dataclass
class Violation:
    line: int  # 0-based line
    cols: tuple[int, ...]  # 0-based columns to highlight (the line's end for a rhyme)
    kind: str  # tone | 孤平 | 三平尾 | 拗 | rhyme | unknown
    message: str

    def to_json(self) -> dict[str, Any]:
        return {"line": self.line + 1, "chars": [c + 1 for c in self.cols], "kind": self.kind,
                "message": self.message}


@dataclass
class MetreReport:
    lines: list[str]  # the characters of each line, punctuation dropped
    marks: list[list[str]]  # 平 / 仄 / 中 (either) / ？ (unknown), per character
    form: str  # wujue | qijue | wulv | qilv
    form_name: str
    pattern: Pattern
    variants: list[str]  # per line: "" (regular), the 拗救 it uses, or "x" (fits none)
    rhymes: list[dict[str, Any]]  # line, char, groups (平 groups of the rhyme character)
    rhyme_group: str | None  # the group every rhyme shares, if one does
    links: list[dict[str, Any]]  # 对 within couplets, 黏 across them: lines, ok
    violations: list[Violation] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.violations

    @property
    def verdict(self) -> str:
        return "pass" if self.passed else "fail"

    def template(self, i: int) -> str:
        return self.pattern.line(i).base

    def to_json(self) -> dict[str, Any]:
        return {
            "form": self.form, "form_name": self.form_name, "verdict": self.verdict,
            "pattern": {"name": self.pattern.name, "start": self.pattern.start,
                        "first_line_rhymed": self.pattern.first_rhymed},
            "lines": [{"text": t, "marks": "".join(m), "template": self.template(i),
                       "variant": self.variants[i] or None}
                      for i, (t, m) in enumerate(zip(self.lines, self.marks, strict=True))],
            "rhymes": self.rhymes, "rhyme_group": self.rhyme_group, "links": self.links,
            "violations": [v.to_json() for v in self.violations],
        }


def split_poem(text: str) -> list[str]:
    """The lines of ``text``, punctuation dropped; :class:`MetreError` for non-Chinese text."""
    from engine.poem_forms import is_hanzi

    kept = "".join(ch for ch in text if ch not in _IGNORED)
    bad = sorted({ch for ch in _BREAKS.sub("", kept) if not is_hanzi(ch)})
    if bad:
        shown = " ".join(repr(ch) for ch in bad[:5])
        raise MetreError(f"a poem to check must be Chinese characters and punctuation; "
                         f"found {shown}")
    lines = [ln for ln in _BREAKS.split(kept) if ln]
    if not lines:
        raise MetreError("empty poem: give the text of a 绝句 or 律诗")
    if len(lines) == 1 and len(lines[0]) in (20, 28, 40, 56):
        n = 5 if len(lines[0]) in (20, 40) else 7
        lines = [lines[0][i:i + n] for i in range(0, len(lines[0]), n)]
    return lines


def form_of(lines: list[str]) -> tuple[str, str]:
    """(key, name) of a regulated form, or :class:`MetreError` saying what the shape is."""
    lengths = {len(ln) for ln in lines}
    shape = (len(lines), len(lines[0]))
    if len(lengths) != 1 or shape not in FORMS:
        sizes = ", ".join(str(len(ln)) for ln in lines)
        raise MetreError(f"not a regulated form: {len(lines)} lines of {sizes} characters "
                         "(a 绝句 has 4 lines, a 律诗 8, all of 5 or all of 7 characters)")
    return FORMS[shape]


def check(text: str) -> MetreReport:
    """The report of the best-fitting standard pattern (fewest violations)."""
    lines = split_poem(text)
    form, form_name = form_of(lines)
    tones = [[ph.tones(ch) for ch in ln] for ln in lines]
    marks = [[ph.mark(ch) for ch in ln] for ln in lines]
    links = _links(lines, tones)
    # does the first line rhyme with the second? (decides between patterns that both fit)
    first_rhymes = bool(set(ph.ping_groups(lines[0][-1])) & set(ph.ping_groups(lines[1][-1])))
    best, best_key = None, (0, 0)
    for pattern in patterns(len(lines), len(lines[0])):
        variants, violations = _lines(pattern, lines, tones, links)
        rhymes, group, rhyme_faults = _rhymes(pattern, lines, tones)
        report = MetreReport(lines, marks, form, form_name, pattern, variants, rhymes, group,
                             links, violations + rhyme_faults)
        key = (len(report.violations), pattern.first_rhymed != first_rhymes)
        if best is None or key < best_key:
            best, best_key = report, key
    assert best is not None
    return best


def _nth(col: int) -> str:
    return f"第{_ORDINAL[col]}字"


def _lines(pattern: Pattern, lines: list[str], tones: list[list[frozenset[str]]],
           links: list[dict[str, Any]]) -> tuple[list[str], list[Violation]]:
    variants: list[str] = []
    out: list[Violation] = []
    n = len(lines)
    for i, line in enumerate(lines):
        lt = pattern.line(i)
        fit = next((t for t in lt.accepted if matches(t.tones, tones[i])
                    and _rescued(t, i, n, tones)), None)
        if fit is not None:
            variants.append(fit.name)
            continue
        variants.append("x")
        off_base = tuple(c for c in range(len(line)) if not fits(tones[i][c], lt.base[c]))
        head = f"line {i + 1} 「{line}」"
        named = next((name for t, name in lt.forbidden if matches(t, tones[i])), None)
        if named:
            why = ("孤平: no 平 but the rhyme and one other" if named == "孤平"
                   else "三平尾: it ends in three 平")
            out.append(Violation(i, off_base, named, f"{head} has {why}"))
            continue
        wrong = [c for c in lt.strict_cols() if not fits(tones[i][c], lt.base[c])]
        near = next((t for t in lt.accepted if t.needs and matches(t.tones, tones[i])), None)
        if near is not None:
            c, tone = near.needs[0]
            where = f"line {i + 2} needs {tone} as its {_nth(c)}" if i + 1 < len(lines) else \
                "the last line has no next line to rescue it"
            out.append(Violation(i, off_base, "拗", f"{head}: its 拗 ({_nth(off_base[-1])} "
                                 f"{ph.mark(line[off_base[-1]])}) is not rescued ({where}, "
                                 "对句相救)"))
            continue
        if not wrong:  # only a character of unknown tone keeps the line from a variant
            wrong = [c for c in range(len(line)) if not tones[i][c]]
        if not wrong:
            out.append(Violation(i, off_base, "tone", f"{head} fits no accepted variant of "
                                 f"{lt.base}"))
            continue
        for c in wrong:
            ch, want = line[c], lt.base[c]
            if not tones[i][c]:
                out.append(Violation(i, (c,), "unknown", f"{head}: 「{ch}」 ({_nth(c)}) has no "
                                     f"known tone (not in the 平水韵 data); the line needs {want} "
                                     "there" if want != ANY else f"{head}: 「{ch}」 ({_nth(c)}) "
                                     "has no known tone, so 孤平/三平尾 cannot be ruled out"))
                continue
            have = ph.mark(ch)
            link = _broken_link(links, i) if c == 1 else ""
            out.append(Violation(i, (c,), "tone", f"{head}: 「{ch}」 ({_nth(c)}) is {have}, "
                                 f"the pattern needs {want}{link}"))
    return variants, out


def _rescued(t: Template, i: int, n: int, tones: list[list[frozenset[str]]]) -> bool:
    return all(i + 1 < n and fits(tones[i + 1][c], tone) for c, tone in t.needs)


def _links(lines: list[str], tones: list[list[frozenset[str]]]) -> list[dict[str, Any]]:
    """对 (lines 1-2, 3-4 ...: opposite second tones) and 黏 (2-3, 4-5 ...: the same)."""
    out = []
    for i in range(len(lines) - 1):
        a, b = tones[i][1], tones[i + 1][1]
        kind = "对" if i % 2 == 0 else "黏"
        ok = any((x != y) == (kind == "对") for x in a for y in b)
        out.append({"kind": kind, "lines": [i + 1, i + 2], "ok": ok})
    return out


def _broken_link(links: list[dict[str, Any]], i: int) -> str:
    link = links[i - 1] if i > 0 else None
    return f" (失{link['kind']} with line {i})" if link and not link["ok"] else ""


def _rhymes(pattern: Pattern, lines: list[str], tones: list[list[frozenset[str]]]
            ) -> tuple[list[dict[str, Any]], str | None, list[Violation]]:
    rows, sets = [], []
    for i in pattern.rhyme_lines():
        ch = lines[i][-1]
        gs = ph.ping_groups(ch)
        rows.append({"line": i + 1, "char": ch, "groups": [ph.group_name(g) for g in gs]})
        sets.append((i, ch, set(gs)))
    level = [s for _, _, s in sets if s]  # a 仄 rhyme is already a tone violation
    common = set.intersection(*level) if level else set()
    faults: list[Violation] = []
    group = None
    if common:
        group = ph.group_name(min(common))
    elif level:
        counts: dict[int, int] = {}
        for s in level:
            for g in s:
                counts[g] = counts.get(g, 0) + 1
        main = min(counts, key=lambda g: (-counts[g], g))
        for i, ch, s in sets:
            if s and main not in s:
                names = "/".join(ph.group_name(g) for g in sorted(s))
                faults.append(Violation(i, (len(lines[i]) - 1,), "rhyme",
                                        f"line {i + 1}: 「{ch}」 ({names}) does not rhyme in "
                                        f"{ph.group_name(main)} with the others"))
    seen: set[str] = set()
    for i, ch, _ in sets:
        if ch in seen:
            faults.append(Violation(i, (len(lines[i]) - 1,), "rhyme",
                                    f"line {i + 1}: the rhyme 「{ch}」 is used twice"))
        seen.add(ch)
    return rows, group, faults


def describe_template(template: str) -> str:
    """A template for people: ? shows as 中 (either tone)."""
    return template.replace(ANY, ph.EITHER)


_BITS = {ph.PING: 1, ph.ZE: 2, ANY: 0}


_TONE_BITS: dict[str, int] = {}


def _tone_bits(ch: str) -> int:
    b = _TONE_BITS.get(ch)
    if b is None:
        b = _TONE_BITS[ch] = sum(_BITS[t] for t in ph.tones(ch))
    return b


def passes(text: str) -> bool:
    """``check(text).passed``, about ten times faster (no report): for corpus statistics."""
    lines = split_poem(text)
    form_of(lines)
    bits = [[_tone_bits(ch) for ch in ln] for ln in lines]
    n = len(lines)
    for pattern in patterns(n, len(lines[0])):
        if all(_line_ok(pattern, i, bits) for i in range(n)) and _rhymes_ok(pattern, lines):
            return True
    return False


def _line_ok(pattern: Pattern, i: int, bits: list[list[int]]) -> bool:
    for t in pattern.line(i).accepted:
        if all(not w or b & w for b, w in zip(bits[i], _compiled(t.tones), strict=True)) and all(
                i + 1 < len(bits) and bits[i + 1][c] & _BITS[tone] for c, tone in t.needs):
            return True
    return False


def _rhymes_ok(pattern: Pattern, lines: list[str]) -> bool:
    ends = [lines[i][-1] for i in pattern.rhyme_lines()]
    if len(set(ends)) < len(ends):
        return False
    common = set(ph.ping_groups(ends[0]))
    for ch in ends[1:]:
        common &= set(ph.ping_groups(ch))
    return bool(common)


_COMPILED: dict[str, tuple[int, ...]] = {}


def _compiled(template: str) -> tuple[int, ...]:
    c = _COMPILED.get(template)
    if c is None:
        c = _COMPILED[template] = tuple(_BITS[t] for t in template)
    return c
