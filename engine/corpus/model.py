"""The in-memory corpus: poems, author bios, search, filters and statistics."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from engine.corpus.errors import CorpusError
from engine.corpus.forms import FORM_NAMES, parse_form
from engine.corpus.script import to_simplified

PUNCT = set("，。？！；：、")


@dataclass(slots=True)
class Poem:
    id: str  # the upstream UUID, stable across rebuilds
    title: str
    author: str
    body: str  # the cleaned paragraphs joined by "\n"
    form: str  # wujue | qijue | wulv | qilv | other
    split_key: str = ""  # hex hash of the traditional text; decides the held-out split

    @property
    def lines(self) -> list[str]:
        """One entry per source paragraph, e.g. "床前明月光，疑是地上霜。"."""
        return self.body.split("\n")

    @property
    def text(self) -> str:
        """The poem as one string, punctuation included."""
        return self.body.replace("\n", "")

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "title": self.title, "author": self.author, "text": self.text,
                "lines": self.lines, "form": self.form, "form_name": FORM_NAMES[self.form]}


@dataclass
class Corpus:
    poems: list[Poem]
    authors: dict[str, str]  # name -> bio
    script: str  # simplified | traditional
    cleaning: dict[str, int]  # rule -> poems it touched or dropped (see engine.corpus.cleaning)
    load_seconds: float = 0.0
    _by_id: dict[str, Poem] = field(default_factory=dict, repr=False)
    _keys: list[str] | None = field(default=None, repr=False)

    def by_id(self, poem_id: str) -> Poem:
        """The poem with ``poem_id`` (a unique prefix of at least 6 characters works too)."""
        if not self._by_id:
            self._by_id = {p.id: p for p in self.poems}
        poem = self._by_id.get(poem_id)
        if poem is not None:
            return poem
        if len(poem_id) < 6:
            raise CorpusError(f"no poem with id {poem_id!r} (an id prefix needs at least "
                              "6 characters)")
        hits = [p for p in self.poems if p.id.startswith(poem_id)]
        if len(hits) > 1:
            raise CorpusError(f"the id prefix {poem_id!r} matches {len(hits)} poems; "
                              "give more characters")
        if not hits:
            raise CorpusError(f"no poem with id {poem_id!r}")
        return hits[0]

    def _search_keys(self) -> list[str]:
        """Simplified "title\\x1fauthor\\x1ftext" of every poem, so either script matches."""
        if self._keys is None:
            if self.script == "simplified":
                self._keys = [f"{p.title}\x1f{p.author}\x1f{p.text}" for p in self.poems]
            else:
                blob = "\x1e".join(f"{p.title}\x1f{p.author}\x1f{p.text}" for p in self.poems)
                self._keys = to_simplified(blob).split("\x1e")
        return self._keys

    def search(self, query: str, author: str | None = None, form: str | None = None,
               limit: int = 20) -> list[Poem]:
        """Poems whose title, author or text contains ``query`` (either script).

        Poems by exactly that author come first, then title, author and text matches, each
        in corpus order.
        """
        q = to_simplified(" ".join(query.split()))
        if not q and not author:
            raise CorpusError("empty search query")
        if limit < 1:
            raise CorpusError(f"--limit must be at least 1, got {limit}")
        try:
            form_key = parse_form(form) if form else None
        except ValueError as exc:
            raise CorpusError(str(exc)) from None
        who = to_simplified(author.strip()) if author else None
        # exact author, title, author contains, text (杜甫 lists 杜甫's poems before 李白's
        # 沙丘城下寄杜甫, which only names him in its title)
        ranked: tuple[list[Poem], ...] = ([], [], [], [])
        for poem, key in zip(self.poems, self._search_keys(), strict=True):
            if form_key and poem.form != form_key:
                continue
            title, name, text = key.split("\x1f")
            if who and name != who:
                continue
            if not q or q == name:
                ranked[0].append(poem)
            elif q in title:
                ranked[1].append(poem)
            elif q in name:
                ranked[2].append(poem)
            elif q in text:
                ranked[3].append(poem)
            if len(ranked[0]) >= limit:
                break
        return [p for tier in ranked for p in tier][:limit]

    def filter(self, forms: list[str] | None = None, authors: list[str] | None = None,
               min_len: int = 0, max_len: int = 0) -> list[Poem]:
        """Poems of the given forms and authors whose text length lies in [min_len, max_len]."""
        keep_forms = {parse_form(f) for f in forms} if forms else None
        keep_authors = {to_simplified(a) for a in authors} if authors else None
        keys = self._search_keys() if keep_authors else None
        out = []
        for i, p in enumerate(self.poems):
            if keep_forms and p.form not in keep_forms:
                continue
            if keep_authors and keys and keys[i].split("\x1f")[1] not in keep_authors:
                continue
            if (min_len and len(p.text) < min_len) or (max_len and len(p.text) > max_len):
                continue
            out.append(p)
        return out

    def stats(self, top: int = 20) -> dict[str, Any]:
        """Counts, form counts, a length histogram (bins of 10 characters) and top characters."""
        chars: Counter[str] = Counter()
        for p in self.poems:
            chars.update(p.text)
        hanzi = {c: n for c, n in chars.items() if c not in PUNCT}
        forms = Counter(p.form for p in self.poems)
        lengths = Counter(min(len(p.text) // 10 * 10, 200) for p in self.poems)
        return {
            "script": self.script,
            "poems": len(self.poems),
            "authors": len({p.author for p in self.poems}),
            "author_bios": len(self.authors),
            "characters": sum(hanzi.values()),
            "distinct_characters": len(hanzi),
            "vocab_size": len(chars) + 4,  # every character seen, punctuation and 4 specials
            "forms": {k: forms.get(k, 0) for k in FORM_NAMES},
            "length_histogram": {f"{k}-{k + 9}" if k < 200 else "200+": lengths[k]
                                 for k in sorted(lengths)},
            "top_characters": [[c, n] for c, n in Counter(hanzi).most_common(top)],
            "cleaning": self.cleaning,
        }
