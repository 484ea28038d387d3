"""Join a poem request's metre settings to its form plan (the one hook engine.generate calls)."""

from __future__ import annotations

import dataclasses
from typing import Any

from engine.decode import DecodeError
from engine.metre.errors import MetreError
from engine.poem_forms import FORMS, Plan

SCHEMES = ("pingshui", "modern")


def with_metre(plan: Plan, metre: str = "off", pattern: str = "auto", rhyme: bool = False,
               rhyme_group: str = "", rhyme_scheme: str = "pingshui") -> Plan:
    """``plan`` with a :class:`~engine.metre.constrain.MetrePlan` when ``metre`` is loose or
    strict, or when it rhymes in 平水韵; :class:`DecodeError` for an impossible request."""
    if rhyme_scheme not in SCHEMES:
        raise DecodeError(f"unknown rhyme scheme {rhyme_scheme!r} (choose pingshui or modern)")
    pingshui_rhyme = rhyme and rhyme_scheme == "pingshui"
    if metre == "off" and pattern != "auto":
        raise DecodeError("--pattern needs --metre loose or strict")
    if metre == "off" and not pingshui_rhyme:
        if rhyme_group:
            raise DecodeError("--rhyme-group names a 平水韵 group: use it with --rhyme-scheme "
                              "pingshui" if rhyme else "--rhyme-group needs --rhyme or --metre")
        return plan
    if plan.form not in FORMS:
        what = "metre" if metre != "off" else "rhyme"
        raise DecodeError(f"{what} needs a strict form (wujue, qijue, wulv or qilv), "
                          f"not {plan.form}")
    if metre != "off" and rhyme_scheme == "modern":
        raise DecodeError("--metre rhymes in 平水韵; --rhyme-scheme modern works only "
                          "without --metre")
    lines, chars, _ = FORMS[plan.form]
    itos = plan.masks.itos
    forced: dict[tuple[int, int], Any] = {(0, c): itos[t] for c, t in enumerate(plan.start)}
    forced.update({(i, 0): itos[t] for i, t in enumerate(plan.heads)})
    from engine.metre.constrain import make_metre_plan

    try:
        mp = make_metre_plan(itos, plan.masks.hanzi, lines, chars, metre, pattern,
                             rhyme=metre != "off" or pingshui_rhyme, rhyme_group=rhyme_group,
                             forced=forced)
    except MetreError as exc:
        raise DecodeError(str(exc)) from None
    return dataclasses.replace(plan, rhyme=False, metre=mp)
