"""Messages that go up from workers and widgets; each is a small dataclass."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual.message import Message

if TYPE_CHECKING:
    from engine.corpus import Corpus, Poem
    from tangtui.runs.models import ModelChoice
    from tangtui.runs.rows import Run, SavedPoem
    from tangtui.ui.backends import ComposedPoem, ComposeRequest
    from tangtui.ui.monitor_view import RunFetch


@dataclass
class CorpusReady(Message):
    """The corpus finished loading in a worker."""

    corpus: Corpus


@dataclass
class SearchDone(Message):
    """Search results for ``query`` (an empty query lists the first poems)."""

    query: str
    poems: list[Poem]
    close: set[str] = field(default_factory=set)  # ids of approximate matches


@dataclass
class StatsReady(Message):
    """Corpus statistics (``Corpus.stats()``) were computed."""

    stats: dict[str, Any]


@dataclass
class ModelsListed(Message):
    """The models Compose can use (the starter first, then runs newest first)."""

    choices: list[ModelChoice]


@dataclass
class RunsListed(Message):
    """A fresh list of runs from the store, newest first."""

    runs: list[Run]


@dataclass
class SeriesFetched(Message):
    """The curves of the runs on show, reduced to the chart's width (one poll's worth)."""

    items: list[RunFetch]


@dataclass
class PoemsComposed(Message):
    """The poet answered a compose request."""

    request: ComposeRequest
    poems: list[ComposedPoem]


@dataclass
class PoemSaved(Message):
    """A poem was saved in the store (``index``: its place in the Compose history)."""

    poem: SavedPoem
    index: int = -1
    new: bool = True  # False: the same poem was saved before, and nothing was added


@dataclass
class PoemsListed(Message):
    """The saved poems (newest first) and the names of the runs, by id."""

    poems: list[SavedPoem]
    names: dict[str, str]


@dataclass
class PoemDeleted(Message):
    """A saved poem was deleted."""

    poem_id: int


@dataclass
class PoemsExported(Message):
    """Saved poems were written to ``path``."""

    path: Path


@dataclass
class OpenRun(Message):
    """Show these runs (the first is the main one) in the Monitor pane."""

    run_ids: list[str]


@dataclass
class RunLaunched(Message):
    """A run was started, resumed or stopped by the app (``action`` says which)."""

    run_id: str
    action: str
    name: str = ""  # the run's name, for toasts (people know runs by name)

    @property
    def label(self) -> str:
        return self.name or self.run_id


@dataclass
class PositionChosen(Message):
    """The cursor of a poem view moved to character ``index``."""

    index: int
