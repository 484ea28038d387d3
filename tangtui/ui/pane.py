"""The base of the panes: services go down, and failed workers become notifications."""

from __future__ import annotations

import time
from typing import Any, ClassVar

from textual.containers import Vertical
from textual.widget import Widget
from textual.widgets import Input
from textual.worker import Worker, WorkerState

from tangtui.errors import is_user_error
from tangtui.ui.backends import Services

REPEAT_S = 30.0  # the same error of a background job is shown again only after this long
_SHOWN: dict[tuple[int, str, str], float] = {}


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
    # Worker groups that run by themselves (pollers, loads on show): they fail again and again
    # while the store is broken, so their errors are not repeated for REPEAT_S. Errors of what
    # the user asked for (generate, save, start...) are always shown.
    BACKGROUND: ClassVar[frozenset[str]] = frozenset()
    LEAVE_TO: ClassVar[str | None] = None  # selector of the widget that escape focuses

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

    def leave_field(self) -> None:
        """Escape in a text field: focus a widget of this pane that is not a text field, so
        the pane's keys (and the single pane-switch keys) work again."""
        target: Widget | None = self.query_one(self.LEAVE_TO) if self.LEAVE_TO else None
        if target is None or not target.focusable:
            target = next((w for w in self.query("*")
                           if w.focusable and not isinstance(w, Input)), None)
        if target is not None:
            self.focus_now(target)

    def on_pane_shown(self) -> None:
        """Called when the pane becomes the active tab (load lazily here)."""

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """The one place where a failed worker turns into a notification."""
        if event.state == WorkerState.ERROR:
            worker = event.worker
            text = error_text(worker.error)
            key, now = (id(self.app), str(worker.group), text), time.monotonic()
            again = now - _SHOWN.get(key, -REPEAT_S) < REPEAT_S
            if not (again and worker.group in self.BACKGROUND):
                _SHOWN[key] = now
                self.notify(text, title="Error", severity="error", timeout=8)
            self.worker_failed(event.worker)

    def worker_failed(self, worker: Worker[Any]) -> None:
        """Hook to reset "busy" state after a worker failed."""
