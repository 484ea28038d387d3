"""The small interfaces through which the app reaches the store, trainer processes and the poet.

The app never talks to SQLite, subprocesses or an engine directly: it holds a :class:`Services`
built by :func:`tangtui.app.make_app`, and tests inject fakes with the same methods.
Nothing here imports torch, numpy or the corpus at module level.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from engine.corpus import Corpus
    from tangtui.runs.rows import EvalRow, MetricRow, Run, Sample, SavedPoem
    from tangtui.runs.series import Curve

from tangtui.runs.models import STARTER  # model key of the bundled starter model


class RunStore(Protocol):
    """The read side of :class:`tangtui.runs.store.Store` that the app uses (plus delete/save)."""

    def list_runs(self) -> list[Run]: ...
    def get_run(self, ref: str) -> Run: ...
    def metrics(self, run_id: str, since: int = -1) -> list[MetricRow]: ...
    def evals(self, run_id: str, since: int = -1) -> list[EvalRow]: ...
    def latest_samples(self, run_id: str) -> list[Sample]: ...
    def series(self, run_id: str, column: str = "train_loss", x: str = "step",
               lo: float | None = None, hi: float | None = None, n: int = 400) -> Curve: ...
    def delete_run(self, run_id: str) -> None: ...
    def save_poem(self, text: str, run_id: str | None = None,
                  settings: dict[str, Any] | None = None) -> SavedPoem: ...
    def list_poems(self, run_id: str | None = None) -> list[SavedPoem]: ...
    def delete_poem(self, poem_id: int) -> bool: ...


class RunControl(Protocol):
    """Starts, stops and resumes trainer processes (each run is its own detached process)."""

    def start(self, config: dict[str, Any], name: str | None = None) -> str: ...
    def stop(self, run_id: str) -> None: ...
    def resume(self, run_id: str) -> None: ...


@dataclass(frozen=True)
class ComposeRequest:
    """What the Compose pane asks the poet for."""

    model: str = STARTER  # "starter" or a run id
    start: str = ""  # the poem begins with these characters
    acrostic: str = ""  # 藏头: line i begins with acrostic[i]
    prefix: str = ""  # 意境 prefix, fed through the model, never printed
    form: str = "free"  # free | wujue | qijue | wulv | qilv
    temperature: float = 0.8  # 0 = greedy
    top_k: int = 0  # 0 = no cut
    top_p: float = 1.0  # 1 = no nucleus cut
    rhyme: bool = False  # even lines share a rhyme final
    metre: str = "off"  # off | loose | strict: 平仄 of a strict form (rhymes in 平水韵)
    seed: int | None = None
    n: int = 1
    best_of: int = 4  # candidates per poem; the most likely one (mean log p per char) is kept

    def settings(self) -> dict[str, Any]:
        """The request as a plain dict (stored with a saved poem)."""
        return {k: v for k, v in self.__dict__.items() if v not in ("", None)}


@dataclass(frozen=True)
class ComposedPoem:
    """One generated poem; ``candidates[i]`` are the top (char, prob) pairs at ``text[i]``."""

    text: str
    lines: list[str]
    candidates: list[list[tuple[str, float]]] = field(default_factory=list)
    chosen: list[tuple[float, int]] = field(default_factory=list)  # (prob, rank) of text[i]
    seed: int | None = None  # rerun with this seed to get this poem again
    score: float | None = None  # mean log-probability per character under the model
    best_of: int = 1


class PoemGenerator(Protocol):
    """Generates poems from the starter model or a run's checkpoint (engine "numpy")."""

    def generate(self, request: ComposeRequest) -> list[ComposedPoem]: ...


class Services:
    """What every pane reaches: the store (opened lazily, once), corpus, poet and runner."""

    def __init__(self, store: RunStore | Callable[[], RunStore] | None,
                 corpus_loader: Callable[[str], Corpus] | None,
                 generator: PoemGenerator | None, runner: RunControl | None) -> None:
        self._store_arg = store
        self._store: RunStore | None = None
        self._lock = threading.Lock()
        self._corpora: dict[str, Corpus] = {}
        self._corpus_loader = corpus_loader
        self._generator = generator
        self._runner = runner

    def store(self) -> RunStore:
        """The run store; opened on first use (from a worker thread), then shared."""
        with self._lock:
            if self._store is None:
                arg = self._store_arg
                if arg is None:
                    from tangtui.runs.store import Store

                    self._store = Store()
                elif callable(arg) and not hasattr(arg, "list_runs"):
                    self._store = arg()
                else:
                    self._store = arg  # type: ignore[assignment]
            return self._store

    def corpus(self, script: str = "simplified") -> Corpus:
        """The corpus in ``script``, loaded on first use and cached."""
        with self._lock:
            if script not in self._corpora:
                loader = self._corpus_loader
                if loader is None:
                    from engine.corpus import load_corpus

                    loader = load_corpus
                self._corpora[script] = loader(script)
            return self._corpora[script]

    def generator(self) -> PoemGenerator:
        with self._lock:
            if self._generator is None:
                from tangtui.ui.compose_backend import EnginePoet

                self._generator = EnginePoet(self._store_root())
            return self._generator

    def runner(self) -> RunControl:
        with self._lock:
            if self._runner is None:
                from tangtui.ui.run_control import ProcessRunControl

                self._runner = ProcessRunControl(self._store_root())
            return self._runner

    def _store_root(self) -> Any:
        return getattr(self._store or self._store_arg, "root", None)

    def store_root(self) -> Path:
        """The store's folder, without opening the store (for default export paths)."""
        from tangtui.paths import data_home

        root = self._store_root()
        return Path(root) if root is not None else data_home()
