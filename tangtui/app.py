"""The Textual app: panes switched with single keys, a help screen and palette commands.

The App only wires things: panes do their own work, and :func:`make_app` injects the store, the
corpus loader, the poet and the run launcher so tests can pass fakes.
"""

from __future__ import annotations

import importlib
import time
from collections.abc import Callable, Iterable
from functools import partial
from typing import TYPE_CHECKING, Any

from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer, Input, TabbedContent, TabPane

from tangtui.ui.backends import PoemGenerator, RunControl, RunStore, Services
from tangtui.ui.help_screen import HelpScreen
from tangtui.ui.messages import OpenRun
from tangtui.ui.pane import Pane

if TYPE_CHECKING:
    from engine.corpus import Corpus

PANES: list[tuple[str, str, str, str]] = [  # (id, key, title, class), imported when first shown
    ("runs", "r", "Runs", "tangtui.ui.runs_pane:RunsPane"),
    ("train", "t", "Train", "tangtui.ui.train_pane:TrainPane"),
    ("monitor", "m", "Monitor", "tangtui.ui.monitor_pane:MonitorPane"),
    ("corpus", "c", "Corpus", "tangtui.ui.corpus_pane:CorpusPane"),
    ("compose", "p", "Compose", "tangtui.ui.compose_pane:ComposePane"),
    ("poems", "o", "Poems", "tangtui.ui.poems_pane:PoemsPane"),
    ("lab", "e", "Lab", "tangtui.ui.lab_pane:LabPane"),
]


def pane_class(pane_id: str) -> type[Pane]:
    """Import a pane's module (start-up imports only the first pane's)."""
    path = next(c for pid, _, _, c in PANES if pid == pane_id)
    module, _, name = path.partition(":")
    return getattr(importlib.import_module(module), name)  # type: ignore[no-any-return]
DARK, LIGHT = "textual-dark", "textual-light"


class TangtuiApp(App[None]):
    """tangtui: train, watch and play with a character-level LSTM poet."""

    TITLE = "tangtui"
    CSS_PATH = ["ui/app.tcss", "ui/panes.tcss"]
    BINDINGS = [
        *[Binding(key, f"show_pane('{pid}')", title, show=False)  # the tabs show these keys
          for pid, key, title, _ in PANES],
        Binding("slash", "search", "Search", show=False),
        Binding("question_mark", "help", "Help"),
        Binding("d", "toggle_theme", "Light/dark", show=False),
        Binding("q", "quit", "Quit"),
        Binding("escape", "leave_field", "Leave the field", show=False),
    ]

    def __init__(self, services: Services, first_pane: str = "runs") -> None:
        super().__init__()
        self.services = services
        self.first_pane = first_pane
        self.startup_log: str | None = None  # write time.time() here at the first frame
        self.theme = DARK

    def compose(self) -> ComposeResult:
        with TabbedContent(initial=self.first_pane, id="panes"):
            for pid, key, title, _ in PANES:
                with TabPane(f"{title} [dim]{key}[/]", id=pid):
                    if pid == self.first_pane:  # the others are built when first shown
                        yield pane_class(pid)(self.services, id=f"{pid}-pane")
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        pane = self.pane(self.first_pane)
        pane.on_pane_shown()
        pane.focus_default()

    def on_ready(self) -> None:
        if self.startup_log:
            with open(self.startup_log, "w", encoding="utf-8") as fh:
                fh.write(f"{time.time():.4f} {process_age():.3f}\n")

    def pane(self, pane_id: str) -> Pane:
        return self.query_one(f"#{pane_id}-pane", Pane)

    async def ensure_pane(self, pane_id: str) -> Pane:
        """The pane, mounted on first use (start-up only builds the first one)."""
        found = self.query(f"#{pane_id}-pane")
        if found:
            return found.first(Pane)
        pane = pane_class(pane_id)(self.services, id=f"{pane_id}-pane")
        await self.query_one(f"TabPane#{pane_id}", TabPane).mount(pane)
        return pane

    async def action_show_pane(self, pane_id: str) -> None:
        """Switch to a pane and focus its main field."""
        pane = await self.ensure_pane(pane_id)
        tabs = self.query_one(TabbedContent)
        if tabs.active == pane_id:
            pane.focus_default()
        tabs.active = pane_id  # focus follows in on_tabbed_content_tab_activated

    async def action_search(self) -> None:
        corpus = await self.ensure_pane("corpus")
        corpus.search_next = True  # type: ignore[attr-defined]
        await self.action_show_pane("corpus")

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen([(title, pane_class(pid)) for pid, _, title, _ in PANES]))

    def action_toggle_theme(self) -> None:
        self.theme = LIGHT if self.theme == DARK else DARK

    def action_leave_field(self) -> None:
        """Escape leaves any control (a text field, a drop-down, a toggle) for the pane's
        resting widget, so that the pane's keys and the pane-switch keys work again."""
        field = self.focused
        if field is None:
            return
        pane = next((w for w in field.ancestors if isinstance(w, Pane)), None)
        if pane is None:
            if isinstance(field, Input):
                self.query_one(TabbedContent).query_one("Tabs").focus()
        elif isinstance(field, Input) or (pane.LEAVE_TO and
                                          pane.query_one(pane.LEAVE_TO) is not field):
            pane.leave_field()

    async def on_open_run(self, message: OpenRun) -> None:
        monitor = await self.ensure_pane("monitor")
        monitor.show_runs(message.run_ids)  # type: ignore[attr-defined]
        await self.action_show_pane("monitor")

    async def on_tabbed_content_tab_activated(self, event: TabbedContent.TabActivated) -> None:
        if not event.pane.id or not self.is_mounted(event.pane):
            return
        pane = await self.ensure_pane(event.pane.id)
        pane.on_pane_shown()
        self.call_after_refresh(self._focus_pane, event.pane.id)

    def _focus_pane(self, pane_id: str) -> None:
        """Focus a pane's main widget, unless another pane was chosen meanwhile."""
        if self.query_one(TabbedContent).active == pane_id:
            self.pane(pane_id).focus_default()

    async def run_pane_command(self, pane_id: str, method: str) -> None:
        """Show a pane and call one of its methods (palette commands)."""
        pane = await self.ensure_pane(pane_id)
        await self.action_show_pane(pane_id)
        getattr(pane, method)()

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        ours = {"Keys"}  # our own help screen replaces Textual's keys panel: listed once
        yield from (c for c in super().get_system_commands(screen) if c.title not in ours)
        for pid, key, title, _ in PANES:
            doc = pane_class(pid).__doc__ or ""
            yield SystemCommand(f"{title} pane", f"{doc} (key {key})",
                                partial(self.run_action, f"show_pane('{pid}')"))
        yield SystemCommand("Light/dark theme", "Toggle the light and dark themes (key d)",
                            self.action_toggle_theme)
        yield SystemCommand("Keys", "Show the help screen with every key (key ?)",
                            self.action_help)
        yield SystemCommand("Search poems", "Search the corpus by title, author or text (key /)",
                            partial(self.run_action, "search"))
        for pid, _, _, _ in PANES:
            for title, help_text, method in pane_class(pid).COMMANDS:
                yield SystemCommand(title, help_text, partial(self.run_pane_command, pid, method))


def process_age() -> float:
    """Seconds since this process started (Linux /proc; -1 where unknown)."""
    import os

    try:
        with open("/proc/self/stat", encoding="ascii") as fh:
            ticks = int(fh.read().rsplit(")", 1)[1].split()[19])
        with open("/proc/uptime", encoding="ascii") as fh:
            uptime = float(fh.read().split()[0])
        return uptime - ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return -1.0


def make_app(store: RunStore | Callable[[], RunStore] | None = None,
             corpus_loader: Callable[[str], Corpus] | None = None,
             generator: PoemGenerator | None = None, runner: RunControl | None = None,
             first_pane: str = "runs") -> TangtuiApp:
    """Build the app; anything left ``None`` is the real thing, created lazily in a worker."""
    return TangtuiApp(Services(store, corpus_loader, generator, runner), first_pane=first_pane)
