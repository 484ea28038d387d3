"""The corpus's one error type (apart from the loader, so the corpus model can raise it too)."""

from __future__ import annotations


class CorpusError(Exception):
    """The corpus file is missing or corrupt, or a corpus query is invalid."""
