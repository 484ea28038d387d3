"""The one error type of the metre package."""

from __future__ import annotations


class MetreError(ValueError):
    """Input the checker cannot judge (empty, not Chinese, no regulated form); the message is
    one line for people."""
