"""The Poems pane: the poems saved from Compose; view, copy, delete (asked first) and export.

The list is the store's (newest first); the highlighted poem shows beside it with the model and
settings that wrote it, so it can be written again (same seed, same model).
"""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.markup import escape
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import DataTable, Static

from tangtui.ui.confirm_screen import ConfirmScreen
from tangtui.ui.export_screen import ExportScreen
from tangtui.ui.kinsoku import KinsokuStatic
from tangtui.ui.messages import PoemDeleted, PoemsExported, PoemsListed
from tangtui.ui.pane import Pane
from tangtui.ui.poem_export import export_poems
from tangtui.ui.poem_text import FORM_LABELS, couplets

if TYPE_CHECKING:
    from tangtui.runs.rows import SavedPoem

EMPTY = ("No saved poems yet. Compose one ([b]p[/]), then save it with [b]ctrl+s[/]; "
         "it shows here.")
COLUMNS = ("#", "Poem", "Model", "Saved")
SETTINGS = [("start", "start"), ("acrostic", "acrostic"), ("temperature", "temp"),
            ("top_k", "top-k"), ("top_p", "top-p"), ("seed", "seed"), ("best_of", "best of"),
            ("metre", "metre")]
UNSET = {"top_k": (None, 0), "top_p": (None, 1.0), "best_of": (None, 1)}  # the no-op values


def model_name(poem: SavedPoem, names: dict[str, str]) -> str:
    """The run that wrote ``poem`` by name; "starter"; or the name of a deleted run."""
    if poem.run_id:
        return names.get(poem.run_id, poem.run_id)
    deleted = poem.settings.get("run_name")
    return f"{deleted} (deleted)" if deleted else "starter"


def poem_markup(poem: SavedPoem, model: str) -> str:
    """The poem one couplet a row, its form and date above, its settings below."""
    form = FORM_LABELS.get(str(poem.settings.get("form", "")), "free 自由")
    head = f"[b]#{poem.id}[/] [dim]{form} · {poem.created[:16].replace('T', ' ')}[/]"
    settings = [f"model    {model}"]
    settings += [f"{label:<8} {poem.settings[key]}" for key, label in SETTINGS
                 if poem.settings.get(key) not in UNSET.get(key, (None, "", "off"))]
    if poem.settings.get("rhyme"):
        settings.append("rhyme    on")
    body = "\n".join(escape(row) for row in couplets(poem.text))
    meta = "\n".join(escape(row) for row in settings)
    return f"{head}\n\n{body}\n\n[dim]{meta}[/]"


def ask_export(pane: Pane) -> None:
    """Ask where to write every saved poem (.txt or .json), then write them in a worker; the
    pane gets :class:`PoemsExported` (a failure is a notification)."""
    root = pane.services.store_root()

    def answered(path: str | None) -> None:
        if path:
            pane.run_worker(partial(_export, pane, Path(path)), thread=True,
                            group="poems-export", exit_on_error=False)

    pane.app.push_screen(ExportScreen(str(root / "exports" / "poems.txt"),
                                      "Export the saved poems to (.txt or .json):"), answered)


def tell_exported(pane: Pane, message: PoemsExported, title: str) -> None:
    """What both panes do when the export is written: keep its path and say where it went."""
    message.stop()
    pane.exported = message.path  # type: ignore[attr-defined]
    pane.notify(f"Exported the saved poems to {message.path}", title=title)


def _export(pane: Pane, path: Path) -> None:
    pane.post_message(PoemsExported(export_poems(pane.services.store().list_poems(), path)))


class PoemsPane(Pane):
    """Poems saved from Compose"""

    BINDINGS = [
        Binding("enter", "view", "View", priority=True),  # over the table's own enter
        Binding("y", "copy", "Copy"),
        Binding("x,delete", "delete", "Delete"),
        Binding("ctrl+o", "export", "Export"),
    ]
    BACKGROUND = frozenset({"poems-list"})
    LEAVE_TO = "#poems-table"
    COMMANDS = [("Export saved poems", "Write every saved poem to a .txt or .json file you "
                 "name (ctrl+o)", "action_export")]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.poems: list[SavedPoem] = []
        self.names: dict[str, str] = {}  # run id -> run name
        self.exported: Path | None = None

    def compose(self) -> ComposeResult:
        yield Static(EMPTY, id="poems-empty")
        with Horizontal(id="poems-body"):
            table: DataTable[str] = DataTable(id="poems-table", cursor_type="row")
            table.add_columns(*COLUMNS)
            yield table
            with VerticalScroll(id="poems-view-box"):
                yield KinsokuStatic("", id="poems-view")

    def focus_default(self) -> None:
        self.focus_now(self.query_one("#poems-table", DataTable))

    def on_pane_shown(self) -> None:
        self.refresh_poems()

    @work(thread=True, exclusive=True, exit_on_error=False, group="poems-list")
    def refresh_poems(self) -> None:
        store = self.services.store()
        names = {r.id: r.name for r in store.list_runs()}
        self.post_message(PoemsListed(store.list_poems(), names))

    def on_poems_listed(self, message: PoemsListed) -> None:
        message.stop()
        table = self.query_one("#poems-table", DataTable)
        keep = self.selected()
        self.poems, self.names = message.poems, message.names
        self.query_one("#poems-empty").display = not self.poems
        table.clear()
        for p in self.poems:
            rows = couplets(p.text)
            first = rows[0].split("，")[0] if rows else ""  # the first line, not the couplet
            table.add_row(str(p.id), first, model_name(p, self.names),
                          p.created[5:16].replace("T", " "), key=str(p.id))
        ids = [p.id for p in self.poems]
        if keep is not None and keep.id in ids:
            table.move_cursor(row=ids.index(keep.id))
        self.show_selected()

    def selected(self) -> SavedPoem | None:
        row = self.query_one("#poems-table", DataTable).cursor_row
        return self.poems[row] if 0 <= row < len(self.poems) else None

    def show_selected(self) -> None:
        poem = self.selected()
        self.query_one("#poems-view", Static).update(
            poem_markup(poem, model_name(poem, self.names)) if poem else "")

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        self.show_selected()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_view()

    def action_view(self) -> None:
        """Focus the poem (arrows scroll a long one; esc goes back to the list)."""
        if self.selected() is not None:
            self.focus_now(self.query_one("#poems-view-box"))

    def action_copy(self) -> None:
        poem = self.selected()
        if poem is None:
            self.notify("No saved poem to copy", severity="warning")
            return
        self.app.copy_to_clipboard("\n".join(couplets(poem.text)))
        self.notify(f"Copied poem #{poem.id} to the clipboard", title="Poems")

    def action_delete(self) -> None:
        poem = self.selected()
        if poem is None:
            return
        first = couplets(poem.text)[0] if poem.text else ""

        def answered(yes: bool | None) -> None:
            if yes:
                self.delete(poem.id)

        self.app.push_screen(ConfirmScreen(
            f"Delete saved poem [b]#{poem.id}[/] ({escape(first)}…)? This cannot be undone.",
            "Delete"), answered)

    @work(thread=True, exit_on_error=False, group="poems-delete")
    def delete(self, poem_id: int) -> None:
        if not self.services.store().delete_poem(poem_id):
            from tangtui.errors import TangtuiError

            raise TangtuiError(f"poem #{poem_id} was already deleted")
        self.post_message(PoemDeleted(poem_id))

    def on_poem_deleted(self, message: PoemDeleted) -> None:
        message.stop()
        self.notify(f"Deleted poem #{message.poem_id}", title="Poems")
        self.refresh_poems()

    def worker_failed(self, worker: Any) -> None:
        if worker.group == "poems-delete":
            self.refresh_poems()

    def action_export(self) -> None:
        ask_export(self)

    def on_poems_exported(self, message: PoemsExported) -> None:
        tell_exported(self, message, "Poems")
