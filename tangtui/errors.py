"""User-facing errors: the CLI prints their message on one line and exits non-zero."""


class TangtuiError(Exception):
    """Bad input or a state the user can fix; the message is shown as is, on one line."""
