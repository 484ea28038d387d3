"""The Runs pane: a table of runs with status and best perplexity; open, compare, stop, delete."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.markup import escape
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Static

from tangtui.ui.confirm_screen import ConfirmScreen
from tangtui.ui.format import fmt_ppl, run_status
from tangtui.ui.messages import OpenRun, RunLaunched, RunsListed
from tangtui.ui.run_actions import RunActionsPane

if TYPE_CHECKING:
    from tangtui.runs.rows import Run

EMPTY = ("No runs yet. Press [b]t[/] to set up and start a training run, "
         "or [b]p[/] to compose with the starter model.")
COLUMNS = ("", "Name", "Status", "Engine", "Step", "Ppl/poem", "Created")


class RunsPane(RunActionsPane):
    """All runs in the store"""

    BINDINGS = [
        Binding("enter", "open", "Open", priority=True),  # over the table's own enter
        Binding("space", "mark", "Mark", tooltip="Mark the run for comparing"),
        Binding("v", "compare", "Compare", tooltip="Overlay the marked runs in the Monitor"),
        Binding("s", "stop", "Stop"),
        Binding("u", "resume", "Resume"),
        Binding("x,delete", "delete", "Delete"),
    ]
    BACKGROUND = frozenset({"runs-list"})
    COMMANDS = [("Refresh runs", "Re-read the run table from the store", "refresh_runs")]
    REFRESH_S = 1.0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.runs: list[Run] = []
        self.marked: set[str] = set()
        self._shown: list[tuple[str, ...]] = []

    def compose(self) -> ComposeResult:
        yield Static(EMPTY, id="runs-empty")
        table: DataTable[str] = DataTable(id="runs-table", cursor_type="row", zebra_stripes=True)
        table.add_columns(*COLUMNS)
        yield table

    def on_mount(self) -> None:
        self.refresh_runs()
        self.set_interval(self.REFRESH_S, self.refresh_runs)

    def focus_default(self) -> None:
        self.focus_now(self.query_one(DataTable))

    @work(thread=True, exclusive=True, exit_on_error=False, group="runs-list")
    def refresh_runs(self) -> None:
        store = self.services.store()
        runs = store.list_runs()
        hint = getattr(store, "orphans_hint", lambda: None)() if not runs else None
        self.app.call_from_thread(self.query_one("#runs-empty", Static).update,
                                  escape(hint[0].upper() + hint[1:]) + "." if hint else EMPTY)
        self.post_message(RunsListed(runs))

    def on_runs_listed(self, message: RunsListed) -> None:
        message.stop()
        self.runs = message.runs
        rows = [self._row(r) for r in self.runs]
        self.query_one("#runs-empty").display = not rows
        if rows == self._shown:
            return
        table = self.query_one(DataTable)
        cursor = self.selected_id()
        table.clear()
        for run, row in zip(self.runs, rows, strict=True):
            table.add_row(*row, key=run.id)
        self._shown = rows
        ids = [r.id for r in self.runs]
        if cursor in ids:
            table.move_cursor(row=ids.index(cursor))

    def _row(self, run: Run) -> tuple[str, ...]:
        return ("●" if run.id in self.marked else " ", run.name, run_status(run), run.engine,
                f"{run.step:,}", fmt_ppl(run.best_test_ppl), run.created[:16].replace("T", " "))

    def selected_id(self) -> str | None:
        table = self.query_one(DataTable)
        if not self.runs or table.cursor_row < 0 or table.cursor_row >= len(self.runs):
            return None
        return self.runs[table.cursor_row].id

    def selected(self) -> Run | None:
        rid = self.selected_id()
        return next((r for r in self.runs if r.id == rid), None)

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_open()

    def action_open(self) -> None:
        rid = self.selected_id()
        if rid:
            self.post_message(OpenRun([rid, *sorted(self.marked - {rid})]))

    def action_mark(self) -> None:
        rid = self.selected_id()
        if rid:
            self.marked ^= {rid}
            self.on_runs_listed(RunsListed(self.runs))

    def action_compare(self) -> None:
        ids = [r.id for r in self.runs if r.id in self.marked]
        rid = self.selected_id()
        if not ids and rid:
            ids = [rid]
        if len(ids) < 2:
            self.notify("Mark two or more runs with space to compare them", severity="warning")
        if ids:
            self.post_message(OpenRun(ids))

    def action_stop(self) -> None:
        self.stop_run(self.selected())

    def action_resume(self) -> None:
        self.resume_run(self.selected())

    def run_changed(self, message: RunLaunched) -> None:
        if message.action == "delete":
            self.marked.discard(message.run_id)
        self.refresh_runs()

    def action_delete(self) -> None:
        run = self.selected()
        if run is None:
            return
        if run.liveness() == "alive":
            self.notify(f"{run.name} is running: stop it first (s)", severity="warning")
            return

        def answered(yes: bool | None) -> None:
            if yes:  # the store refuses again if a trainer holds the run's lock by now
                self.control_run(run.id, "delete")

        self.app.push_screen(ConfirmScreen(
            f"Delete run [b]{run.name}[/] ({run.id}), its metrics and checkpoints? "
            "Poems saved from it are kept.", "Delete"), answered)
