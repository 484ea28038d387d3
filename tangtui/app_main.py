"""Entry point of ``tangtui`` with no arguments: run the Textual app."""

from __future__ import annotations

import os


def run_app() -> int:
    """Run the app with the real store, corpus and poet; returns the exit code.

    With ``TANGTUI_STARTUP_LOG`` set to a file path, the wall-clock time (``time.time()``) at
    which the first frame was displayed and the seconds since the process started are written
    there (the start-up measurement).
    """
    from tangtui.app import make_app

    app = make_app()
    app.startup_log = os.environ.get("TANGTUI_STARTUP_LOG") or None
    app.run()
    return int(app.return_code or 0)
