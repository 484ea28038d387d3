"""Poem forms as masks over the vocabulary, one position at a time (no rejection loops).

Strict forms are ``L`` lines of ``C`` characters, ，after odd lines and 。after even ones:

    wujue 五言绝句 (4 x 5)   qijue 七言绝句 (4 x 7)   wulv 五言律诗 (8 x 5)   qilv 七言律诗 (8 x 7)

At column ``col < C`` only Chinese characters are allowed, at ``col == C`` only the line's
punctuation, and after the last line only ``<eos>``. ``free`` lets the model write any
characters and punctuation and stop at ``<eos>`` (only after 。？！), and closes the poem in
time so it never runs past ``max_chars``. In every form the start words are forced at the
beginning, and acrostic heads at the start of each line, whatever punctuation (，。？！；)
ended the line before. With ``rhyme`` the last character of every even line must share the
rhyme class (:mod:`engine.rhyme`) chosen by the first one, without repeating a rhyme character.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from engine.corpus.batching import EOS
from engine.decode import DecodeError
from engine.rhyme import RhymeTable, rhyme_table

FORMS: dict[str, tuple[int, int, str]] = {  # name -> (lines, characters a line, Chinese name)
    "wujue": (4, 5, "五言绝句"),
    "qijue": (4, 7, "七言绝句"),
    "wulv": (8, 5, "五言律诗"),
    "qilv": (8, 7, "七言律诗"),
}
FORM_NAMES = ("free", *FORMS)
LINE_ENDS = "，。？！；"  # these end a line (the next one may get an acrostic head)
SENTENCE_ENDS = "。？！"  # a free poem may stop only after one of these
SPECIAL = 4  # ids below this are <pad>, <bos>, <eos>, <unk>


def is_hanzi(ch: str) -> bool:
    """True for one CJK ideograph (unified, extensions A-H, compatibility)."""
    if len(ch) != 1:
        return False
    cp = ord(ch)
    return (0x4E00 <= cp <= 0x9FFF or 0x3400 <= cp <= 0x4DBF or 0x20000 <= cp <= 0x2FA1F
            or 0x30000 <= cp <= 0x323AF or 0xF900 <= cp <= 0xFAFF)


class VocabMasks:
    """Boolean (V,) masks of one vocabulary, computed once and shared by every poem."""

    def __init__(self, itos: list[str]) -> None:
        self.itos = itos
        self.stoi = {s: i for i, s in enumerate(itos)}
        V = len(itos)
        self.hanzi = np.array([i >= SPECIAL and is_hanzi(s) for i, s in enumerate(itos)])  # (V,)
        self.text = np.arange(V) >= SPECIAL  # every character and punctuation mark (V,)
        self.line_end = np.isin(np.arange(V), [self.stoi[c] for c in LINE_ENDS if c in self.stoi])
        self.sentence_end = np.isin(np.arange(V),
                                    [self.stoi[c] for c in SENTENCE_ENDS if c in self.stoi])
        self.punct = self.text & ~self.hanzi
        self._only: dict[int, np.ndarray] = {}
        self._rhyme: RhymeTable | None = None

    def only(self, tok: int) -> np.ndarray:
        """The (cached) mask that allows ``tok`` alone."""
        m = self._only.get(tok)
        if m is None:
            m = np.zeros(len(self.itos), dtype=bool)
            m[tok] = True
            self._only[tok] = m
        return m

    @property
    def rhyme(self) -> RhymeTable:
        if self._rhyme is None:
            self._rhyme = rhyme_table(self.itos, self.hanzi)
        return self._rhyme


@dataclass(frozen=True)
class Plan:
    """A validated request in token ids; :meth:`constraint` makes the state for one poem."""

    form: str
    start: tuple[int, ...]
    heads: tuple[int, ...]
    rhyme: bool
    max_chars: int
    masks: VocabMasks
    metre: Any = None  # an engine.metre.constrain.MetrePlan: 平仄 and 平水韵 masks, or None

    def constraint(self) -> Constraint:
        return Constraint(self)


def make_plan(masks: VocabMasks, form: str = "free", start: str = "", acrostic: str = "",
              rhyme: bool = False, max_chars: int = 100) -> Plan:
    """Check a request against the form and the vocabulary; :class:`DecodeError` if impossible.

    ``start`` and ``acrostic`` must already be in the model's script (see engine.generate).
    """
    if form not in FORM_NAMES:
        raise DecodeError(f"unknown form {form!r} (choose {', '.join(FORM_NAMES)})")
    for what, text in (("acrostic", acrostic), ("start words", start)):
        bad = next((ch for ch in text if not is_hanzi(ch)), None)
        if bad is not None:
            raise DecodeError(f"{what} must be Chinese characters within a line, got {bad!r} "
                              f"in {text!r}")
        missing = next((ch for ch in text if ch not in masks.stoi), None)
        if missing is not None:
            raise DecodeError(f"{missing!r} in the {what} is not in the model's vocabulary")
    if start and acrostic and start[0] != acrostic[0]:
        raise DecodeError(f"the start words begin with {start[0]!r} but the acrostic begins "
                          f"with {acrostic[0]!r}; make them agree or drop one")
    if form in FORMS:
        lines, chars, zh = FORMS[form]
        if len(acrostic) > lines:
            raise DecodeError(f"a {len(acrostic)}-character acrostic needs {len(acrostic)} "
                              f"lines, but {form} ({zh}) has {lines}")
        if len(start) > chars:
            raise DecodeError(f"the start words {start!r} ({len(start)} characters) are longer "
                              f"than a line of {form} ({zh}: {chars} characters)")
        for ch in "，。":
            if ch not in masks.stoi:
                raise DecodeError(f"the model's vocabulary has no {ch!r}, which {form} needs")
        if rhyme:
            need = lines // 2
            if not masks.rhyme.first_mask(need).any():
                raise DecodeError(f"the model's vocabulary has no rhyme class with {need} "
                                  "characters; generate without rhyme")
    else:
        if rhyme:
            raise DecodeError("rhyme needs a strict form (wujue, qijue, wulv or qilv), "
                              "not free")
        if max_chars < 1:
            raise DecodeError(f"the length cap must be at least 1 character, got {max_chars}")
        if not masks.sentence_end.any():
            raise DecodeError("the model's vocabulary has no 。？！ to end a free poem with")
        need = max(len(start), 1) + 1 + 2 * max(len(acrostic) - 1, 0)
        if need > max_chars:
            raise DecodeError(f"the start words and acrostic need at least {need} characters, "
                              f"more than the length cap of {max_chars}")
    ids = masks.stoi
    return Plan(form, tuple(ids[c] for c in start), tuple(ids[c] for c in acrostic), rhyme,
                max_chars, masks)


class Constraint:
    """Where one poem stands in its form: :meth:`allowed` masks the next token, :meth:`push`
    records the token chosen. Every mask it returns allows at least one token."""

    def __init__(self, plan: Plan) -> None:
        self.plan, self.m = plan, plan.masks
        self.n = 0  # tokens pushed, <eos> excluded
        self.line = 0  # index of the current line
        self.col = 0  # tokens already in the current line (punctuation included)
        self.prev = -1  # last token pushed (-1 at the start)
        self.done = False  # <eos> pushed
        self.rhyme_class = -1
        self.rhyme_used: list[int] = []
        self.metre = plan.metre.state() if plan.metre is not None else None

    def allowed(self) -> tuple[np.ndarray, int | None]:
        """(mask (V,) bool, forced token or None) for the next position."""
        forced = self._forced()
        if forced is not None:
            return self.m.only(forced), forced
        mask = self._strict() if self.plan.form in FORMS else self._free()
        return mask, None

    def push(self, tok: int) -> None:
        if tok == EOS:
            self.done = True
            return
        if self.plan.rhyme and self._at_rhyme():
            if self.rhyme_class < 0:
                self.rhyme_class = self.m.rhyme.class_of(tok)
            self.rhyme_used.append(tok)
        if self.metre is not None and self.col < self._chars():
            self.metre.push(self.line, self.col, tok)
        self.n += 1
        self.prev = tok
        if self.m.line_end[tok] or (self.plan.form in FORMS and self.col == self._chars()):
            self.line, self.col = self.line + 1, 0
        else:
            self.col += 1

    # -- rules ------------------------------------------------------------------------------

    def _chars(self) -> int:
        return FORMS[self.plan.form][1]

    def _forced(self) -> int | None:
        p = self.plan
        if self.n < len(p.start):
            return p.start[self.n]
        if self.col == 0 and self.line < len(p.heads):
            return p.heads[self.line]
        if p.form in FORMS:
            lines, chars, _ = FORMS[p.form]
            if self.line == lines:
                return EOS
            if self.col == chars:
                return self.m.stoi["，" if self.line % 2 == 0 else "。"]
        elif p.heads and self.line == len(p.heads):
            return EOS  # a free acrostic ends with the line of its last head
        return None

    def _at_rhyme(self) -> bool:
        return (self.plan.form in FORMS and self.line % 2 == 1
                and self.col == self._chars() - 1)

    def _strict(self) -> np.ndarray:
        if self.metre is not None:
            return self.metre.allowed(self.line, self.col)
        if not (self.plan.rhyme and self._at_rhyme()):
            return self.m.hanzi
        table = self.m.rhyme
        if self.rhyme_class < 0:
            return self.m.hanzi & table.first_mask(FORMS[self.plan.form][0] // 2)
        return self.m.hanzi & table.mask(self.rhyme_class, self.rhyme_used)

    def _free(self) -> np.ndarray:
        m, heads = self.m, self.plan.heads
        left = self.plan.max_chars - self.n  # characters still allowed before the cap
        heads_left = max(len(heads) - self.line - 1, 0)  # heads of lines after this one
        if self.prev < 0 or not m.hanzi[self.prev]:  # a line starts or punctuation was written
            may_stop = self.prev >= 0 and m.sentence_end[self.prev] and not heads
            if may_stop and left < 2:  # no room for another character and its mark
                return m.only(EOS)
            return m.hanzi | m.only(EOS) if may_stop else m.hanzi
        # mid-line, after a character: keep room to close this line and write the heads left
        ends = m.line_end if heads_left else m.sentence_end  # the last line closes the poem
        if left <= 1 + 2 * heads_left:
            return ends
        if not heads_left and left == 2:
            return m.hanzi | ends  # no room for another line after a ，or ；
        if heads and not heads_left:
            return m.text & ~m.line_end | ends
        return m.text
