"""Signals of a trainer process: SIGTERM, SIGINT and SIGHUP ask it to stop with a checkpoint."""

from __future__ import annotations

import signal
import sys
import threading
from typing import Any


def install_signals(stop: threading.Event, quiet: bool = False) -> dict[int, Any]:
    """SIGTERM, SIGINT and SIGHUP set ``stop`` (a second SIGINT interrupts at once)."""
    if threading.current_thread() is not threading.main_thread():
        return {}
    names = {signal.SIGTERM: "SIGTERM", signal.SIGINT: "Ctrl-C", signal.SIGHUP: "SIGHUP"}

    def handler(sig: int, _frame: Any) -> None:
        if sig == signal.SIGINT and stop.is_set():
            raise KeyboardInterrupt
        if sig == signal.SIGINT and not quiet:
            print("\nstopping: writing a checkpoint (Ctrl-C again to abort without one)",
                  file=sys.stderr, flush=True)
        stop.reason = f"stopped by {names.get(sig, sig)}"  # type: ignore[attr-defined]
        stop.set()

    return {sig: signal.signal(sig, handler) for sig in names}
