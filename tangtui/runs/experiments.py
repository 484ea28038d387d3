"""The lab's half of the run store: experiments, their member runs, and the members' probes.

A mixin of :class:`tangtui.runs.store.Store`. An experiment is a row naming its kind, scale,
seeds and options, plus the ordinary runs it trained (``experiment_members``: member key ->
run id); probes (symmetry, saturation, gradient flow) are JSON values per run and step. The
experiment's own process holds ``<root>/lab/<id>/lock`` while it runs and logs to ``lab.log``
there. Deleting an experiment deletes its member runs (rows and folders).
"""

from __future__ import annotations

import json
import secrets
import shutil
import sqlite3
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tangtui.runs.lock import RunLock, RunLockedError, is_locked
from tangtui.runs.rows import StoreError, now_iso

LAB_SCHEMA = """
CREATE TABLE IF NOT EXISTS experiments (
    id TEXT PRIMARY KEY, kind TEXT NOT NULL, scale TEXT NOT NULL, seeds INTEGER NOT NULL,
    status TEXT NOT NULL, reason TEXT, pid INTEGER, created TEXT NOT NULL, ended TEXT,
    options TEXT NOT NULL DEFAULT '{}', results TEXT NOT NULL DEFAULT '{}');
CREATE TABLE IF NOT EXISTS experiment_members (
    experiment_id TEXT NOT NULL, key TEXT NOT NULL, run_id TEXT NOT NULL, grp TEXT NOT NULL,
    seed INTEGER NOT NULL, phase TEXT NOT NULL, probes INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (experiment_id, key)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS probes (
    run_id TEXT NOT NULL, step INTEGER NOT NULL, name TEXT NOT NULL, value TEXT NOT NULL,
    PRIMARY KEY (run_id, step, name)) WITHOUT ROWID;
"""

EXP_STATUSES = ("queued", "running", "finished", "stopped", "failed")
_COLS = ("id", "kind", "scale", "seeds", "status", "reason", "pid", "created", "ended",
         "options", "results")


@dataclass
class ExperimentRow:
    id: str
    kind: str
    scale: str
    seeds: int
    status: str
    reason: str | None
    pid: int | None
    created: str
    ended: str | None
    options: dict[str, Any] = field(default_factory=dict)
    results: dict[str, Any] = field(default_factory=dict)
    lab_dir: Path | None = None

    @property
    def display_status(self) -> str:
        """``dead`` when it claims to run but no process holds its lock."""
        if self.status in ("queued", "running") and self.lab_dir is not None \
                and not is_locked(self.lab_dir):
            return "dead"
        return self.status

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "kind": self.kind, "scale": self.scale, "seeds": self.seeds,
                "status": self.display_status, "reason": self.reason, "pid": self.pid,
                "created": self.created, "ended": self.ended, "options": self.options}


@dataclass
class MemberRow:
    key: str
    run_id: str
    group: str
    seed: int
    phase: str
    probes: bool


class ExperimentsMixin:
    """create, list, update and delete experiments; members; probes."""

    root: Path
    _tx: Callable[[], AbstractContextManager[sqlite3.Connection]]
    _query: Callable[..., list[tuple[Any, ...]]]
    delete_run: Callable[[str], None]

    def lab_dir(self, exp_id: str) -> Path:
        return self.root / "lab" / exp_id

    def create_experiment(self, kind: str, scale: str, seeds: int,
                          options: dict[str, Any] | None = None) -> ExperimentRow:
        for _ in range(50):
            exp_id = f"{kind[:4]}-{secrets.token_hex(3)}"
            if not self._query("SELECT 1 FROM experiments WHERE id = ?", (exp_id,)):
                break
        else:
            raise StoreError("could not allocate an experiment id")
        with self._tx() as db:
            db.execute("INSERT INTO experiments (id, kind, scale, seeds, status, created, "
                       "options) VALUES (?, ?, ?, ?, 'queued', ?, ?)",
                       (exp_id, kind, scale, seeds, now_iso(), json.dumps(options or {})))
        self.lab_dir(exp_id).mkdir(parents=True, exist_ok=True)
        return self.get_experiment(exp_id)

    def _to_exp(self, row: tuple[Any, ...]) -> ExperimentRow:
        d = dict(zip(_COLS, row, strict=True))
        d["options"], d["results"] = json.loads(d["options"]), json.loads(d["results"])
        return ExperimentRow(**d, lab_dir=self.lab_dir(d["id"]))

    def list_experiments(self) -> list[ExperimentRow]:
        rows = self._query(f"SELECT {', '.join(_COLS)} FROM experiments "
                           "ORDER BY created DESC, id DESC")
        return [self._to_exp(r) for r in rows]

    def get_experiment(self, ref: str) -> ExperimentRow:
        """By id or unique id prefix; StoreError naming the problem otherwise."""
        cols = ", ".join(_COLS)
        rows = self._query(f"SELECT {cols} FROM experiments WHERE id = ?", (ref,))
        if not rows and ref:
            like = ref.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            rows = self._query(f"SELECT {cols} FROM experiments WHERE id LIKE ? ESCAPE '\\'",
                               (like,))
            if len(rows) > 1:
                raise StoreError(f"experiment {ref!r} is ambiguous ({len(rows)} match)")
        if not rows:
            raise StoreError(f"no experiment {ref!r} (see `tangtui lab list`)")
        return self._to_exp(rows[0])

    def update_experiment(self, exp_id: str, **values: Any) -> None:
        bad = set(values) - set(_COLS[1:])
        if bad:
            raise ValueError(f"unknown experiment fields {sorted(bad)}")
        for key in ("options", "results"):
            if key in values:
                values[key] = json.dumps(values[key])
        sets = ", ".join(f"{k} = ?" for k in values)
        with self._tx() as db:
            db.execute(f"UPDATE experiments SET {sets} WHERE id = ?", (*values.values(), exp_id))

    def add_member(self, exp_id: str, key: str, run_id: str, group: str, seed: int,
                   phase: str, probes: bool) -> None:
        with self._tx() as db:
            db.execute("INSERT INTO experiment_members VALUES (?, ?, ?, ?, ?, ?, ?)",
                       (exp_id, key, run_id, group, seed, phase, int(probes)))

    def experiment_members(self, exp_id: str) -> list[MemberRow]:
        """Members in the order they were created (a member whose run was deleted is left
        out: the experiment trains it again when resumed)."""
        rows = self._query(
            "SELECT m.key, m.run_id, m.grp, m.seed, m.phase, m.probes FROM experiment_members m "
            "JOIN runs r ON r.id = m.run_id WHERE m.experiment_id = ? ORDER BY r.created, r.id",
            (exp_id,))
        return [MemberRow(r[0], r[1], r[2], int(r[3]), r[4], bool(r[5])) for r in rows]

    def remove_member(self, exp_id: str, key: str) -> None:
        with self._tx() as db:
            db.execute("DELETE FROM experiment_members WHERE experiment_id = ? AND key = ?",
                       (exp_id, key))

    def add_probes(self, run_id: str, step: int, values: dict[str, Any]) -> None:
        with self._tx() as db:
            db.executemany("INSERT OR REPLACE INTO probes VALUES (?, ?, ?, ?)",
                           [(run_id, step, k, json.dumps(v)) for k, v in values.items()])

    def probes(self, run_id: str) -> dict[str, list[tuple[int, Any]]]:
        out: dict[str, list[tuple[int, Any]]] = {}
        for step, name, value in self._query("SELECT step, name, value FROM probes WHERE "
                                             "run_id = ? ORDER BY step", (run_id,)):
            out.setdefault(name, []).append((int(step), json.loads(value)))
        return out

    def drop_probes_after(self, run_id: str, step: int) -> None:
        """A resumed member retrains the steps after its checkpoint: forget their probes."""
        with self._tx() as db:
            db.execute("DELETE FROM probes WHERE run_id = ? AND step > ?", (run_id, step))

    def delete_experiment(self, exp_id: str) -> int:
        """Delete an experiment, its member runs (rows and folders) and probes; refused while
        its process runs. Returns the number of member runs deleted."""
        exp = self.get_experiment(exp_id)
        lock = RunLock(self.lab_dir(exp.id))
        try:
            lock.acquire(retry_s=0.2)
        except RunLockedError:
            raise StoreError(f"experiment {exp.id} is running; stop it first with "
                             f"`tangtui lab stop {exp.id}`") from None
        try:
            members = self.experiment_members(exp.id)
            for m in members:
                self.delete_run(m.run_id)  # refuses a member some other trainer holds
                with self._tx() as db:
                    db.execute("DELETE FROM probes WHERE run_id = ?", (m.run_id,))
            with self._tx() as db:
                db.execute("DELETE FROM experiment_members WHERE experiment_id = ?", (exp.id,))
                db.execute("DELETE FROM experiments WHERE id = ?", (exp.id,))
        finally:
            lock.release()
        shutil.rmtree(self.lab_dir(exp.id), ignore_errors=True)
        return len(members)


def lab_data(store: Any, exp: ExperimentRow) -> Any:
    """The :class:`engine.lab.spec.LabData` of ``exp``: each member's run, rows and probes."""
    from engine.lab.spec import LabData, MemberData

    members = []
    vocab = 0
    for m in store.experiment_members(exp.id):
        run = store.find_run(m.run_id)
        if run is None:
            continue
        metrics = [(r.step, r.train_loss, r.tokens_per_s) for r in store.metrics(run.id)]
        evals = [(r.step, r.test_loss, r.test_ppl) for r in store.evals(run.id)]
        probes = store.probes(run.id) if m.probes else {}
        vocab = vocab or int(run.info.get("dataset", {}).get("vocab_size", 0))
        members.append(MemberData(m.key, m.group, m.seed, m.phase, run.id, run.display_status,
                                  run.config, run.info, metrics, evals, probes))
    return LabData(exp.kind, exp.scale, exp.seeds, members, exp.results, vocab)


def members_done(store: Any, exp: ExperimentRow) -> tuple[int, int]:
    """(members done, members planned so far) of ``exp``."""
    from engine.lab import get_experiment

    data = lab_data(store, exp)
    plan = get_experiment(exp.kind).plan(exp.scale, exp.seeds, data.members, exp.options)
    done = {m.key for m in data.members if m.done}
    return sum(1 for m in plan if m.key in done), len(plan)
