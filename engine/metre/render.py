"""A :class:`~engine.metre.checker.MetreReport` as plain text: the 平仄 grid, then the verdict.

    五言律诗 · 平起首句不入韵 · 韵 下平十一尤 · pass
    空山新雨后  中平平仄仄  平平平仄仄
    天气晚来秋  平仄仄平平  仄仄仄平平  秋 下平十一尤
    ...

Each line shows the characters, their marks (平 仄, 中 either, ？ unknown) and the pattern's
line; :func:`grid_rows` gives the same rows with the faulty columns, for the panes to colour.
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.metre.checker import MetreReport


@dataclass
class GridRow:
    text: str  # the line's characters
    marks: str  # 平 / 仄 / 中 / ？ per character
    template: str  # the pattern's regular line
    bad: frozenset[int]  # columns with a violation
    rhyme: str  # "秋 下平十一尤" on a rhyming line, else ""


def headline(r: MetreReport) -> str:
    group = f" · 韵 {r.rhyme_group}" if r.rhyme_group else ""
    verdict = "pass" if r.passed else f"fail ({len(r.violations)})"
    return f"{r.form_name} · {r.pattern.name}{group} · {verdict}"


def grid_rows(r: MetreReport) -> list[GridRow]:
    bad: dict[int, set[int]] = {}
    for v in r.violations:
        bad.setdefault(v.line, set()).update(v.cols)
    rhymes = {row["line"] - 1: row for row in r.rhymes}
    rows = []
    for i, line in enumerate(r.lines):
        rh = rhymes.get(i)
        label = f"{rh['char']} {'/'.join(rh['groups']) or r.marks[i][-1]}" if rh else ""
        rows.append(GridRow(line, "".join(r.marks[i]), r.template(i),
                            frozenset(bad.get(i, ())), label))
    return rows


def links_text(r: MetreReport) -> str:
    """"对 ✓ 黏 ✓ 对 ✗ ..." for the couplets."""
    return " ".join(f"{ln['kind']}{'✓' if ln['ok'] else '✗'}" for ln in r.links)


def render_text(r: MetreReport) -> str:
    """The whole report for a terminal."""
    out = [headline(r)]
    for row in grid_rows(r):
        tail = f"  {row.rhyme}" if row.rhyme else ""
        out.append(f"{row.text}  {row.marks}  {row.template}{tail}")
        if row.bad:
            out.append("".join("＾" if c in row.bad else "　" for c in range(len(row.text))))
    out.append(f"黏对: {links_text(r)}")
    for v in r.violations:
        out.append(f"- {v.message}")
    if r.passed:
        out.append("passes: every line fits its pattern and the rhymes agree")
    elif r.form in ("wujue", "qijue") and all(v.kind != "unknown" for v in r.violations):
        out.append("so it reads as a 古绝 (an old-style quatrain), not a regulated 律绝")
    return "\n".join(out)
