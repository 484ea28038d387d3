"""What the Corpus pane lists for a query, an author and a form: every match, no cap.

Exact matches first (poems by exactly that author, then title, author and text matches), then
poems whose text is only close to the query (:mod:`engine.corpus.fuzzy`: 床前明月光 finds the
全唐诗's 床前看月光), marked as such. The pane shows them a page at a time.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from engine.corpus import Corpus, Poem

FUZZY_LIMIT = 100  # close matches listed after the exact ones


def find_poems(corpus: Corpus, query: str, author: str = "",
               form: str | None = None) -> tuple[list[Poem], set[str]]:
    """All matching poems, and the ids of those that match only approximately."""
    from engine.corpus.fuzzy import fuzzy_search

    if not query and not author:
        return [p for p in corpus.poems if form is None or p.form == form], set()
    exact = corpus.search(query, author=author or None, form=form, limit=len(corpus.poems))
    if not query:
        return exact, set()
    seen = {p.id for p in exact}
    close = [p for p, _ in fuzzy_search(corpus, query, form, author or None, FUZZY_LIMIT)
             if p.id not in seen]
    return exact + close, {p.id for p in close}
