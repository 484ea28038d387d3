"""Rebuild the run store from the run folders (``tangtui rebuild``).

Every run folder keeps what is needed to list and resume its run without the database: its
``run.json`` (id, name, engine, config), its checkpoints (step, epoch, total steps, best
evaluation) and its ``train.log`` (one line per evaluation). When ``tangtui.db`` is emptied,
replaced or damaged, :func:`rebuild` moves a damaged file aside (``tangtui.db.damaged-<time>``,
never deleted) and adds a row for each folder the store does not list: status ``finished`` when
its newest checkpoint is the last step, else ``stopped`` (``running`` when a trainer holds its
lock), with its train rows and evaluations read back from its journal (``history.jsonl``, see
:mod:`tangtui.runs.journal`; runs older than the journal: the evaluation lines of ``train.log``).
Samples are not in the folders and stay lost; saved poems live only in the database.
"""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from engine.checkpoint import CheckpointError, is_complete, read_meta
from tangtui.runs.history import _refresh_best
from tangtui.runs.journal import read_journal
from tangtui.runs.lock import lock_holder
from tangtui.runs.rows import StoreError, now_iso
from tangtui.runs.store import Store

_NUM = r"([-+\d.eE]+|nan|inf)"
_EVAL_LINES = (  # "step N: held-out ppl P per poem (loss L; ..." and the older "test loss L ppl P"
    re.compile(rf"^step (\d+): held-out ppl (?P<ppl>{_NUM[1:-1]}) per poem \(loss "
               rf"(?P<loss>{_NUM[1:-1]})"),
    re.compile(rf"^step (\d+): test loss (?P<loss>{_NUM[1:-1]}) ppl (?P<ppl>{_NUM[1:-1]})"),
)


@dataclass
class Rebuilt:
    moved_aside: Path | None = None  # where a damaged tangtui.db went
    # (id, name, status, evaluations restored, train rows restored) per run
    restored: list[tuple[str, str, str, int, int]] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # folder, why


def rebuild(root: Path) -> Rebuilt:
    """Restore every run folder under ``root/runs`` that the store at ``root`` lacks."""
    out = Rebuilt()
    try:
        store = Store(root)
        bad = store._query("PRAGMA quick_check")[0][0]
        if bad != "ok":
            store.close()
            raise StoreError(f"is damaged ({bad})")
    except StoreError as exc:
        if "damaged" not in str(exc):
            raise
        out.moved_aside = _move_aside(root / "tangtui.db")
        store = Store(root)
    with store:
        for folder in store.orphan_dirs():
            try:
                out.restored.append(_restore(store, folder))
            except (OSError, ValueError, KeyError, CheckpointError, StoreError) as exc:
                out.skipped.append((folder.name, " ".join(str(exc).split())))
    return out


def _move_aside(db: Path) -> Path:
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    target = db.with_name(f"{db.name}.damaged-{stamp}")
    for suffix in ("", "-wal", "-shm"):
        part = db.with_name(db.name + suffix)
        if part.exists():
            shutil.move(part, target.with_name(target.name + suffix))
    return target


def _newest_checkpoint(folder: Path) -> dict[str, Any] | None:
    for path in sorted((folder / "checkpoints").glob("step-*"), reverse=True):
        if is_complete(path):
            try:
                return read_meta(path)
            except CheckpointError:
                continue
    return None


def _evals(folder: Path, upto: int) -> dict[int, tuple[float, float]]:
    """step -> (test loss, ppl) from train.log; a retrained step keeps its last line."""
    found: dict[int, tuple[float, float]] = {}
    try:
        text = (folder / "train.log").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return found
    for line in text.splitlines():
        for pattern in _EVAL_LINES:
            m = pattern.match(line)
            if m and int(m.group(1)) <= upto:
                found[int(m.group(1))] = (float(m.group("loss")), float(m.group("ppl")))
    return found


def _created(run_id: str, folder: Path) -> str:
    try:
        when = datetime.strptime(run_id[:15], "%Y%m%d-%H%M%S")
    except ValueError:
        when = datetime.fromtimestamp((folder / "run.json").stat().st_mtime)
    return when.astimezone().isoformat(timespec="seconds")


def _restore(store: Store, folder: Path) -> tuple[str, str, str, int, int]:
    info = json.loads((folder / "run.json").read_text(encoding="utf-8"))
    run_id, name = str(info["id"]), str(info.get("name") or info["id"])
    if run_id != folder.name:
        raise ValueError(f"run.json names run {run_id!r}, not {folder.name!r}")
    if store._query("SELECT 1 FROM runs WHERE name = ?", (name,)):
        name = run_id  # the name was taken meanwhile
    meta = _newest_checkpoint(folder) or {}
    step, total = int(meta.get("step", 0)), meta.get("total_steps")
    pid = lock_holder(folder)
    if pid:
        status, reason = "running", None
    elif total and step >= int(total) and not meta.get("pending"):
        status, reason = "finished", None
    else:
        status = "stopped"
        reason = "rebuilt from its run folder; resume continues from its latest checkpoint" \
            if meta else "rebuilt from its run folder; it has no checkpoint"
    upto = step if meta else 0
    metrics, journal_evals = read_journal(folder, upto)
    evals = {int(e["step"]): (e.get("test_loss"), e.get("test_ppl"), int(e.get("epoch") or 0),
                              e.get("tokens"), e.get("stream_loss"), e.get("stream_ppl"))
             for e in journal_evals} or \
        {s: (loss, ppl, 0, None, None, None) for s, (loss, ppl) in _evals(folder, upto).items()}
    config = info.get("config") or meta.get("config") or {}
    with store._tx() as db:
        db.execute("INSERT INTO runs (id, name, engine, status, reason, pid, created, ended, "
                   "config, step, epoch, total_steps, checkpoint_step, heartbeat) "
                   "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                   (run_id, name, str(info.get("engine") or config.get("engine", "numpy")),
                    status, reason, pid, _created(run_id, folder),
                    None if pid else now_iso(), json.dumps(config, ensure_ascii=False), step,
                    int(meta.get("epoch", 0)), total, step if meta else None,
                    time.time() if pid else None))
        db.executemany("INSERT OR REPLACE INTO evals (run_id, step, epoch, test_loss, test_ppl, "
                       "tokens, time, stream_loss, stream_ppl) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                       [(run_id, s, epoch, loss, ppl, tokens, time.time(), s_loss, s_ppl)
                        for s, (loss, ppl, epoch, tokens, s_loss, s_ppl) in evals.items()])
        db.executemany("INSERT OR REPLACE INTO metrics (run_id, step, epoch, train_loss, lr, "
                       "tokens_per_s, time) VALUES (?, ?, ?, ?, ?, ?, ?)",
                       [(run_id, m["step"], m.get("epoch", 0), m.get("train_loss"), m.get("lr"),
                         m.get("tokens_per_s"), m.get("time", time.time())) for m in metrics])
        _refresh_best(db, run_id)
        if not evals:
            _best_from_checkpoint(db, run_id, folder)
    return run_id, name, status, len(evals), len(metrics)


def _best_from_checkpoint(db: sqlite3.Connection, run_id: str, folder: Path) -> None:
    best = folder / "checkpoints" / "best"
    if not is_complete(best):
        return
    try:
        meta = read_meta(best)
    except CheckpointError:
        return
    db.execute("UPDATE runs SET best_test_ppl = ?, best_step = ? WHERE id = ?",
               (meta.get("best_test_ppl"), meta.get("step"), run_id))
