"""User-facing errors: the CLI prints their message on one line and exits non-zero."""

from __future__ import annotations

# Errors of bad input or a state the user can fix, named by "module.Class" so that checking
# one imports nothing heavy (engine.decode pulls in numpy; the app must start without it).
USER_ERRORS: frozenset[str] = frozenset({
    "tangtui.errors.TangtuiError",
    "engine.config.ConfigError",
    "engine.checkpoint.CheckpointError",
    "engine.corpus.errors.CorpusError",
    "engine.decode.DecodeError",
})


class TangtuiError(Exception):
    """Bad input or a state the user can fix; the message is shown as is, on one line."""


def is_user_error(exc: BaseException) -> bool:
    """True for the errors whose message is for people as is (no type name, no traceback)."""
    return any(f"{c.__module__}.{c.__qualname__}" in USER_ERRORS for c in type(exc).__mro__)
