"""The run store: one SQLite database (WAL) plus one directory per run, under ``data_home()``.

Layout::

    <data_home>/tangtui.db              runs, metrics, evals, samples, poems
    <data_home>/runs/<run id>/          run.json (config), train.log, lock, checkpoints/

One trainer process writes a run while any number of viewers read it; WAL mode means readers
never block the writer (nor the writer the readers). Every connection sets a busy timeout.

Read API (what the app and ``tangtui runs/metrics/watch`` use)::

    store = Store()                      # or Store(root); StoreError if unusable
    store.list_runs() -> list[Run]       # newest first
    store.get_run(ref) -> Run            # ref = id, name or unique id prefix; StoreError if none
    store.find_run(ref) -> Run | None
    store.metrics(run_id, since=-1) -> list[MetricRow]   # train rows with step > since
    store.evals(run_id, since=-1) -> list[EvalRow]       # eval rows with step > since
    store.history(run_id) -> list[dict]  # merged by step: step, epoch, train_loss,
                                         # test_loss, test_ppl (None where not evaluated)
    store.latest_samples(run_id) -> list[Sample]          # the newest sample round
    store.save_poem(text, run_id=None, settings={}) -> SavedPoem
    store.list_poems(run_id=None) -> list[SavedPoem]; store.delete_poem(poem_id) -> bool
    store.delete_run(run_id)             # refused (TangtuiError) while a trainer holds its lock
    store.data_version() -> int          # changes whenever *another* connection commits:
                                         # poll it a few times a second, re-read when it moves

Live polling: keep the last step seen and call ``metrics(run_id, since=last)``. When a run is
resumed, rows after its checkpoint are deleted and retrained; ``Run.attempt`` is incremented at
that moment, so a viewer whose cached ``attempt`` differs must reload the history from scratch.

Liveness: ``run.liveness()`` is ``"alive"`` while the status is ``queued``/``running`` and the
trainer process exists (checked by pid on this host) and its heartbeat (written every
:data:`HEARTBEAT_EVERY` s) is younger than :data:`HEARTBEAT_STALE` s; ``"dead"`` when the status
says it runs but it does not (killed, crashed, machine rebooted); ``"ended"`` for ``finished``,
``stopped`` and ``failed``. ``run.display_status`` shows ``dead`` in place of a stale status.

The history rows live in :mod:`tangtui.runs.history`, saved poems in :mod:`tangtui.runs.poems`
(mixins of :class:`Store`), the row types in :mod:`tangtui.runs.rows`.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from tangtui.paths import data_home
from tangtui.runs.experiments import LAB_SCHEMA, ExperimentsMixin
from tangtui.runs.history import HistoryMixin
from tangtui.runs.lock import RunLock, RunLockedError, training_error
from tangtui.runs.poems import PoemsMixin, orphan_poems
from tangtui.runs.rows import (
    ACTIVE,
    HEARTBEAT_EVERY,
    HEARTBEAT_STALE,
    STATUSES,
    EvalRow,
    MetricRow,
    Run,
    Sample,
    SavedPoem,
    StoreError,
    check_run_id,
    check_run_name,
    now_iso,
)
from tangtui.runs.series import SeriesMixin, install_blocks

__all__ = ["ACTIVE", "HEARTBEAT_EVERY", "HEARTBEAT_STALE", "STATUSES", "EvalRow", "MetricRow",
           "Run", "Sample", "SavedPoem", "Store", "StoreError", "check_run_id", "check_run_name",
           "now_iso"]

SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id TEXT PRIMARY KEY, name TEXT UNIQUE, engine TEXT NOT NULL,
    status TEXT NOT NULL, reason TEXT, pid INTEGER, host TEXT, heartbeat REAL,
    created TEXT NOT NULL, started TEXT, ended TEXT, config TEXT NOT NULL,
    step INTEGER NOT NULL DEFAULT 0, epoch INTEGER NOT NULL DEFAULT 0,
    total_steps INTEGER, tokens_per_s REAL, eta_s REAL, device TEXT,
    best_test_ppl REAL, best_step INTEGER, checkpoint_step INTEGER,
    attempt INTEGER NOT NULL DEFAULT 0, info TEXT NOT NULL DEFAULT '{}');
CREATE TABLE IF NOT EXISTS metrics (
    run_id TEXT NOT NULL, step INTEGER NOT NULL, epoch INTEGER NOT NULL,
    train_loss REAL, lr REAL, tokens_per_s REAL, time REAL NOT NULL,
    PRIMARY KEY (run_id, step)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS evals (
    run_id TEXT NOT NULL, step INTEGER NOT NULL, epoch INTEGER NOT NULL,
    test_loss REAL, test_ppl REAL, tokens INTEGER, time REAL NOT NULL,
    stream_loss REAL, stream_ppl REAL,
    PRIMARY KEY (run_id, step)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS samples (
    run_id TEXT NOT NULL, step INTEGER NOT NULL, idx INTEGER NOT NULL,
    prompt TEXT NOT NULL, text TEXT NOT NULL, time REAL NOT NULL,
    PRIMARY KEY (run_id, step, idx)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS poems (
    id INTEGER PRIMARY KEY AUTOINCREMENT, run_id TEXT, text TEXT NOT NULL,
    settings TEXT NOT NULL DEFAULT '{}', created TEXT NOT NULL);
"""


_RUN_COLS = [f for f in Run.__dataclass_fields__]


def _damaged(exc: sqlite3.DatabaseError) -> bool:
    """SQLite's words for a file that is no database or a corrupt one."""
    text = str(exc).lower()
    return "not a database" in text or "malformed" in text or "corrupt" in text


class Store(HistoryMixin, PoemsMixin, ExperimentsMixin, SeriesMixin):
    """A connection to the store; thread-safe (one connection, one lock)."""

    def __init__(self, root: str | os.PathLike[str] | None = None) -> None:
        self.root = Path(root) if root is not None else data_home()
        self.db_path = self.root / "tangtui.db"
        self._lock = threading.RLock()
        try:
            (self.root / "runs").mkdir(parents=True, exist_ok=True)
            if not os.access(self.root, os.W_OK):
                raise PermissionError(13, "Permission denied")
            self._db = sqlite3.connect(self.db_path, timeout=10.0, isolation_level=None,
                                       check_same_thread=False)
            self._db.execute("PRAGMA busy_timeout = 10000")
            self._db.execute("PRAGMA journal_mode = WAL")
            self._db.execute("PRAGMA synchronous = NORMAL")
            self._db.executescript(SCHEMA + LAB_SCHEMA)
            _migrate(self._db)
            install_blocks(self._db)
        except sqlite3.DatabaseError as exc:
            if not _damaged(exc):
                raise StoreError(f"cannot use the run store at {self.root}: {exc} "
                                 "(set TANGTUI_HOME to a writable directory)") from None
            raise StoreError(f"the run store {self.db_path} is damaged ({exc}); rebuild it "
                             "from the run folders with `tangtui rebuild` (the damaged file "
                             "is kept beside it)") from None
        except (OSError, sqlite3.Error) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            raise StoreError(f"cannot use the run store at {self.root}: {reason} "
                             "(set TANGTUI_HOME to a writable directory)") from None

    # -- plumbing ---------------------------------------------------------------------------

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        """One write transaction; SQLite errors (disk full, read-only) become StoreError."""
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                raise StoreError(f"cannot write the run store at {self.root}: {exc}") from None
            try:
                yield self._db
                self._db.execute("COMMIT")
            except BaseException as exc:
                # also when COMMIT itself failed (busy, disk full): a transaction left open
                # would make every later BEGIN fail ("cannot start a transaction within ...")
                if self._db.in_transaction:
                    try:
                        self._db.execute("ROLLBACK")
                    except sqlite3.Error:
                        pass
                if isinstance(exc, sqlite3.Error):
                    raise StoreError(f"cannot write the run store at {self.root}: "
                                     f"{exc}") from None
                raise

    def _query(self, sql: str, params: Iterable[Any] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            try:
                return self._db.execute(sql, tuple(params)).fetchall()
            except sqlite3.Error as exc:
                fix = " (damaged: rebuild it with `tangtui rebuild`)" \
                    if isinstance(exc, sqlite3.DatabaseError) and _damaged(exc) else ""
                raise StoreError(f"cannot read the run store at {self.root}: {exc}{fix}") from None

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def data_version(self) -> int:
        """A number that changes when another connection commits (cheap change detection)."""
        return int(self._query("PRAGMA data_version")[0][0])

    def orphan_dirs(self) -> list[Path]:
        """Run folders (with a run.json) that have no row in the store: what is left of runs
        when tangtui.db was emptied, replaced or damaged. ``tangtui rebuild`` restores them."""
        try:
            folders = [d for d in (self.root / "runs").iterdir() if (d / "run.json").is_file()]
        except OSError:
            return []
        known = {r[0] for r in self._query("SELECT id FROM runs")}
        return sorted(d for d in folders if d.name not in known)

    def orphans_hint(self) -> str | None:
        """A line for people when run folders exist that the store does not list, else None."""
        orphans = self.orphan_dirs()
        if not orphans:
            return None
        listed = len(self._query("SELECT id FROM runs"))
        state = "is empty or damaged" if not listed else f"lists {listed} runs"
        return (f"the run store {self.db_path} {state}, but {len(orphans)} run folder"
                f"{'s' if len(orphans) != 1 else ''} under {self.root / 'runs'} "
                f"{'are' if len(orphans) != 1 else 'is'} not in it; "
                "rebuild it from them with `tangtui rebuild`")

    def run_dir(self, run_id: str) -> Path:
        """``<root>/runs/<id>``; ``run_id`` is validated so it can never leave the store."""
        check_run_id(run_id)
        return self.root / "runs" / run_id

    # -- runs -------------------------------------------------------------------------------

    def create_run(self, config: dict[str, Any], name: str | None = None,
                   engine: str | None = None) -> Run:
        """Insert a ``queued`` run with a fresh id and make its directory."""
        if name is not None:
            check_run_name(name)
            if self._query("SELECT 1 FROM runs WHERE id = ? OR name = ?", (name, name)):
                raise StoreError(f"a run named {name!r} already exists; choose another name")
        engine = engine or str(config.get("engine", "numpy"))
        for _ in range(20):  # ids collide only when two runs start in the same second
            run_id = f"{datetime.now():%Y%m%d-%H%M%S}-{secrets.token_hex(2)}"
            try:
                with self._tx() as db:
                    db.execute("INSERT INTO runs (id, name, engine, status, created, config) "
                               "VALUES (?, ?, ?, 'queued', ?, ?)",
                               (run_id, name or run_id, engine, now_iso(),
                                json.dumps(config, ensure_ascii=False)))
                break
            except StoreError:
                if name and self._query("SELECT 1 FROM runs WHERE name = ?", (name,)):
                    raise StoreError(f"a run named {name!r} already exists") from None
                if not self._query("SELECT 1 FROM runs WHERE id = ?", (run_id,)):
                    raise
        else:
            raise StoreError("could not allocate a run id")
        try:
            self.run_dir(run_id).mkdir(parents=True, exist_ok=True)
            (self.run_dir(run_id) / "run.json").write_text(json.dumps(
                {"id": run_id, "name": name or run_id, "engine": engine, "config": config},
                ensure_ascii=False, indent=1), encoding="utf-8")
        except OSError as exc:
            raise StoreError(f"cannot create the run directory under {self.root}: "
                             f"{exc.strerror or exc}") from None
        return self.get_run(run_id)

    def _row_to_run(self, row: tuple[Any, ...]) -> Run:
        d = dict(zip(_RUN_COLS, row, strict=True))
        d["config"] = json.loads(d["config"] or "{}")
        d["info"] = json.loads(d["info"] or "{}")
        return Run(**d)

    def list_runs(self) -> list[Run]:
        cols = ", ".join(_RUN_COLS)
        rows = self._query(f"SELECT {cols} FROM runs ORDER BY created DESC, id DESC")
        return [self._row_to_run(r) for r in rows]

    def find_run(self, ref: str) -> Run | None:
        """A run by exact id, exact name, or unique id prefix; None if there is none."""
        cols = ", ".join(_RUN_COLS)
        rows = self._query(f"SELECT {cols} FROM runs WHERE id = ? OR name = ?", (ref, ref))
        if not rows and ref:
            like = ref.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            rows = self._query(f"SELECT {cols} FROM runs WHERE id LIKE ? ESCAPE '\\'", (like,))
            if len(rows) > 1:
                raise StoreError(f"run {ref!r} is ambiguous ({len(rows)} runs match)")
        return self._row_to_run(rows[0]) if rows else None

    def get_run(self, ref: str) -> Run:
        run = self.find_run(ref)
        if run is None:
            raise StoreError(f"no run {ref!r} (see `tangtui runs`)")
        return run

    def update_run(self, run_id: str, **values: Any) -> None:
        """Set columns of a run (``config``/``info`` dicts are stored as JSON)."""
        bad = set(values) - set(_RUN_COLS) - {"id"}
        if bad or "id" in values:
            raise ValueError(f"unknown run fields {sorted(bad)}")
        for key in ("config", "info"):
            if key in values:
                values[key] = json.dumps(values[key], ensure_ascii=False)
        if "status" in values and values["status"] not in STATUSES:
            raise ValueError(f"bad status {values['status']!r}")
        sets = ", ".join(f"{k} = ?" for k in values)
        with self._tx() as db:
            db.execute(f"UPDATE runs SET {sets} WHERE id = ?", (*values.values(), run_id))

    def heartbeat(self, run_id: str) -> None:
        with self._tx() as db:
            db.execute("UPDATE runs SET heartbeat = ? WHERE id = ?", (time.time(), run_id))

    def delete_run(self, run_id: str) -> None:
        """Remove a run's rows and directory, unless a trainer holds its lock (TangtuiError).

        The lock is held while deleting, so no trainer can start on the run meanwhile. Its saved
        poems are kept (see :func:`tangtui.runs.poems.orphan_poems`).
        """
        run = self.get_run(run_id)
        lock = RunLock(self.run_dir(run.id))
        try:
            lock.acquire()
        except RunLockedError as exc:
            raise training_error(run.name, exc.pid) from None
        try:
            with self._tx() as db:
                db.execute("DELETE FROM runs WHERE id = ?", (run.id,))  # first: see series.py
                for table in ("metrics", "evals", "samples", "probes"):
                    db.execute(f"DELETE FROM {table} WHERE run_id = ?", (run.id,))
                orphan_poems(db, run.id, run.name)
            shutil.rmtree(self.run_dir(run.id), ignore_errors=True)
        finally:
            lock.release()


def _migrate(db: sqlite3.Connection) -> None:
    """Bring a store made by an earlier version up to date, in one transaction.

    Before the stream columns existed, ``test_ppl`` held the stream figure: it moves to
    ``stream_ppl`` and the per-poem headline stays empty (such runs never measured it), so no
    old figure passes for a per-poem one.
    """
    def current() -> bool:
        return "stream_ppl" in {row[1] for row in db.execute("PRAGMA table_info(evals)")}

    if current():
        return
    db.execute("BEGIN IMMEDIATE")  # another process may be migrating: look again inside
    try:
        if current():
            db.execute("COMMIT")
            return
        db.execute("ALTER TABLE evals ADD COLUMN stream_loss REAL")
        db.execute("ALTER TABLE evals ADD COLUMN stream_ppl REAL")
        db.execute("UPDATE evals SET stream_loss = test_loss, stream_ppl = test_ppl, "
                   "test_loss = NULL, test_ppl = NULL")
        db.execute("UPDATE runs SET best_test_ppl = NULL, best_step = NULL")
        db.execute("COMMIT")
    except sqlite3.Error:
        db.execute("ROLLBACK")
        raise
