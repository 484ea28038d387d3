"""The base of the five panes: services go down, and failed workers become notifications."""

from __future__ import annotations

import time
from typing import Any, ClassVar

from textual.containers import Vertical
from textual.widget import Widget
from textual.worker import Worker, WorkerState

from tangtui.errors import is_user_error
from tangtui.ui.backends import Services

REPEAT_S = 30.0  # the same error is shown again only after this long
_SHOWN: dict[tuple[int, str], float] = {}


def error_text(error: BaseException | None) -> str:
    """One line for a notification: the message of a user error, else its type and message."""
    if error is None:
        return "unknown error"
    message = " ".join(str(error).split())
    if is_user_error(error) and message:
        return message
    return f"{type(error).__name__}: {message}" if message else type(error).__name__


class Pane(Vertical):
    """A pane of the app; subclasses run their slow work in thread workers."""

    COMMANDS: ClassVar[list[tuple[str, str, str]]] = []  # palette: (title, help, method name)

    def __init__(self, services: Services, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.services = services

    def focus_default(self) -> None:
        """Focus the pane's main widget (called when the pane is switched to)."""
        for widget in self.query("*"):
            if widget.focusable:
                self.focus_now(widget)
                return

    def focus_now(self, widget: Widget) -> None:
        """Focus at once (``Widget.focus`` is deferred, and would race fast key presses)."""
        if widget.focusable:
            self.app.set_focus(widget)

    def on_pane_shown(self) -> None:
        """Called when the pane becomes the active tab (load lazily here)."""


    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """The one place where a failed background job turns into a notification."""
        if event.state == WorkerState.ERROR:
            text = error_text(event.worker.error)
            key, now = (id(self.app), text), time.monotonic()
            if now - _SHOWN.get(key, -REPEAT_S) >= REPEAT_S:  # pollers fail again and again
                _SHOWN[key] = now
                self.notify(text, title="Error", severity="error", timeout=8)
            self.worker_failed(event.worker)

    def worker_failed(self, worker: Worker[Any]) -> None:
        """Hook to reset "busy" state after a worker failed."""
