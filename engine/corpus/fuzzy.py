"""Variant-tolerant search: poems whose text holds something close to the query.

The 全唐诗 keeps older readings than school books (静夜思 is 床前看月光 … 举头望山月 there), so
an exact search for 床前明月光 finds nothing. Each poem's text is scored with rapidfuzz's
``partial_ratio`` (the best alignment of the query against a same-length window of the text,
100 = identical, one character of five different = 80); poems above ``cutoff`` come back best
first. rapidfuzz does the 57,000 comparisons in C++, in well under a second.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rapidfuzz import fuzz, process

from engine.corpus.script import to_simplified

if TYPE_CHECKING:
    from engine.corpus.model import Corpus, Poem

CUTOFF = 75.0  # partial_ratio a poem needs: one character in five may differ
MIN_LEN = 3  # shorter queries match too much by chance


def fuzzy_search(corpus: Corpus, query: str, form: str | None = None,
                 author: str | None = None, limit: int = 50,
                 cutoff: float = CUTOFF) -> list[tuple[Poem, float]]:
    """(poem, score) of the poems whose title or text is close to ``query``, best first."""
    q = to_simplified("".join(query.split()))
    if len(q) < MIN_LEN:
        return []
    who = to_simplified(author.strip()) if author else None
    keys = corpus._search_keys()
    idx = [i for i, p in enumerate(corpus.poems)
           if (form is None or p.form == form) and (who is None or p.author == who)]
    choices = [keys[i].replace("\x1f", "\n") for i in idx]
    hits = process.extract(q, choices, scorer=fuzz.partial_ratio, processor=None,
                           score_cutoff=cutoff, limit=limit)
    return [(corpus.poems[idx[k]], score) for _, score, k in hits]
