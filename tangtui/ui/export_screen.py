"""A dialog that asks where to write a file (enter writes, esc cancels)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static


class ExportScreen(ModalScreen[str | None]):
    """Ask for a path; dismisses with it (enter) or None (esc)."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, default: str, question: str = "Export to (.csv or .json):") -> None:
        super().__init__()
        self.default = default
        self.question = question

    def compose(self) -> ComposeResult:
        with Vertical(id="export-box"):
            yield Static(self.question, id="export-question")
            yield Input(self.default, id="export-path")
            yield Static("[dim]enter writes · esc cancels[/]")

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.dismiss(event.value.strip() or None)

    def action_cancel(self) -> None:
        self.dismiss(None)
