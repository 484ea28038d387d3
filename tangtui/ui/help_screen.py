"""The help screen (``?``): every key of the app and of each pane, from their bindings."""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

INTRO = ("Keys work when no text field has focus; [b]esc[/] leaves a field, "
         "[b]tab[/]/[b]shift+tab[/] move between fields, [b]ctrl+p[/] opens the command palette.")


def _key_name(key: str) -> str:
    names = {"slash": "/", "question_mark": "?", "space": "space", "escape": "esc"}
    return ", ".join(names.get(k, k) for k in key.split(","))


def binding_rows(bindings: list[Any]) -> list[tuple[str, str]]:
    """(key, description) of each binding that has a description (its tooltip when it has one:
    the footer shows the short description, the help screen says more)."""
    rows = []
    for b in bindings:
        if isinstance(b, Binding) and b.description:
            rows.append((_key_name(b.key), b.tooltip or b.description))
        elif isinstance(b, tuple) and len(b) >= 3:
            rows.append((_key_name(b[0]), b[2]))
    return rows


class HelpScreen(ModalScreen[None]):
    """A scrollable list of keys; esc, ? or q closes it."""

    BINDINGS = [Binding("escape,question_mark,q", "close", "Close help")]

    def __init__(self, sections: list[tuple[str, type]]) -> None:
        super().__init__()
        self.sections = sections

    def compose(self) -> ComposeResult:
        from tangtui.app import TangtuiApp

        parts = [INTRO, "", "[b]Everywhere[/]"]
        parts += [f"  [b]{k:<12}[/] {d}" for k, d in binding_rows(TangtuiApp.BINDINGS)]
        for title, cls in self.sections:
            rows = binding_rows(getattr(cls, "BINDINGS", []))
            if rows:
                parts += ["", f"[b]{title}[/]"]
                parts += [f"  [b]{k:<12}[/] {d}" for k, d in rows]
        with VerticalScroll(id="help-body") as body:
            body.border_title = "Keys"
            body.border_subtitle = "esc to close"
            yield Static("\n".join(parts), id="help-text")

    def action_close(self) -> None:
        self.dismiss(None)
