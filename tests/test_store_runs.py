"""The run store: runs, history, samples, saved poems, liveness, safety and concurrency."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from tangtui.errors import TangtuiError
from tangtui.runs.lock import RunLock
from tangtui.runs.store import (
    HEARTBEAT_STALE,
    EvalRow,
    MetricRow,
    Store,
    StoreError,
    check_run_id,
)


def rows(steps, loss=5.0) -> list[MetricRow]:
    return [MetricRow(s, 0, loss - 0.01 * s, 1e-3, 1000.0, time.time()) for s in steps]


def test_store_lives_under_tangtui_home_in_wal_mode(tangtui_home: Path) -> None:
    store = Store()
    assert store.db_path == tangtui_home / "tangtui.db"
    mode = sqlite3.connect(store.db_path).execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"


def test_create_find_and_list_runs() -> None:
    store = Store()
    a = store.create_run({"engine": "numpy"}, name="李白-五绝")
    b = store.create_run({"engine": "torch"})
    assert a.status == "queued" and a.engine == "numpy" and b.name == b.id
    assert store.get_run("李白-五绝").id == a.id
    assert store.get_run(a.id).config == {"engine": "numpy"}
    assert {r.id for r in store.list_runs()} == {a.id, b.id}
    assert store.run_dir(a.id).is_dir()
    assert store.find_run("nope") is None
    with pytest.raises(StoreError, match="no run 'nope'"):
        store.get_run("nope")
    with pytest.raises(StoreError, match="already exists"):
        store.create_run({}, name="李白-五绝")
    with pytest.raises(StoreError, match="ambiguous"):
        store.get_run(a.id[:4])  # both ids start with the year


@pytest.mark.parametrize("name", ["../evil", "a/b", ".hidden", "-x", "", "x" * 65, "a..b",
                                  "a\nb"])
def test_names_that_could_escape_are_refused(name: str) -> None:
    with pytest.raises(StoreError, match="invalid run name"):
        Store().create_run({}, name=name)


@pytest.mark.parametrize("run_id", ["../x", "/etc", "a/../../b", "..", "X" * 3, "a"])
def test_ids_that_could_escape_never_become_paths(run_id: str) -> None:
    with pytest.raises(StoreError, match="invalid run id"):
        Store().run_dir(run_id)
    with pytest.raises(StoreError):
        check_run_id(run_id)


def test_history_merges_train_and_eval_rows_and_since_polls_cheaply() -> None:
    store = Store()
    run = store.create_run({})
    store.add_metrics(run.id, rows(range(1, 11)))
    store.add_eval(run.id, EvalRow(5, 0, 4.0, 54.6, 100, time.time()))
    store.add_eval(run.id, EvalRow(10, 0, 3.9, 49.4, 100, time.time()))
    hist = store.history(run.id)
    assert [h["step"] for h in hist] == list(range(1, 11))
    assert hist[4]["test_ppl"] == 54.6 and hist[3]["test_ppl"] is None
    assert [m.step for m in store.metrics(run.id, since=7)] == [8, 9, 10]
    assert [e.step for e in store.evals(run.id, since=5)] == [10]
    got = store.get_run(run.id)
    assert (got.best_test_ppl, got.best_step) == (49.4, 10)


def test_truncate_after_drops_retrained_rows_and_bumps_attempt() -> None:
    store = Store()
    run = store.create_run({})
    store.add_metrics(run.id, rows(range(1, 21)))
    store.add_eval(run.id, EvalRow(10, 0, 4.0, 50.0, 1, time.time()))
    store.add_eval(run.id, EvalRow(20, 0, 3.0, 20.0, 1, time.time()))
    store.add_samples(run.id, 20, [("春", "春风")])
    store.truncate_after(run.id, 12)
    got = store.get_run(run.id)
    assert [m.step for m in store.metrics(run.id)] == list(range(1, 13))
    assert got.attempt == 1 and got.best_test_ppl == 50.0 and got.step == 12
    assert store.latest_samples(run.id) == []
    store.add_metrics(run.id, rows([12], loss=9.0))  # a retrained row replaces the old one
    assert [m.train_loss for m in store.metrics(run.id, since=11)] == [9.0 - 0.12]


def test_samples_and_saved_poems() -> None:
    store = Store()
    run = store.create_run({})
    store.add_samples(run.id, 10, [("春", "春眠"), ("月", "月光")])
    store.add_samples(run.id, 20, [("春", "春风"), ("月", "月明")])
    assert [(s.step, s.text) for s in store.latest_samples(run.id)] == [(20, "春风"),
                                                                       (20, "月明")]
    poem = store.save_poem("床前明月光", run.id, {"temperature": 0.8})
    other = store.save_poem("春眠不觉晓")
    assert [p.id for p in store.list_poems()] == [other.id, poem.id]
    assert store.list_poems(run.id)[0].settings == {"temperature": 0.8}
    assert store.delete_poem(poem.id) and not store.delete_poem(poem.id)


def test_delete_run_removes_rows_and_directory_but_keeps_saved_poems() -> None:
    store = Store()
    run = store.create_run({}, name="poet")
    store.add_metrics(run.id, rows([1]))
    (store.run_dir(run.id) / "checkpoints").mkdir()
    poem = store.save_poem("床前明月光", run.id, {"model": run.id, "temperature": 0.8})
    store.delete_run(run.id)
    assert store.find_run(run.id) is None and not store.run_dir(run.id).exists()
    assert store.metrics(run.id) == []
    kept = store.list_poems()
    assert [p.id for p in kept] == [poem.id] and kept[0].run_id is None
    assert kept[0].settings == {"model": run.id, "temperature": 0.8, "run_name": "poet"}


def test_delete_run_is_refused_while_a_trainer_holds_the_lock() -> None:
    store = Store()
    run = store.create_run({}, name="busy")
    store.update_run(run.id, status="stopped")  # a stale status: only the lock tells the truth
    lock = RunLock(store.run_dir(run.id))
    lock.acquire()
    try:
        with pytest.raises(TangtuiError, match=r"run busy is training \(pid \d+\); stop it"):
            store.delete_run(run.id)
        assert store.find_run(run.id) is not None and store.run_dir(run.id).is_dir()
    finally:
        lock.release()
    store.delete_run(run.id)
    assert store.find_run(run.id) is None


class FlakyCommit:
    """A connection whose next COMMIT fails as a busy database would."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db, self.fail = db, 1

    def execute(self, sql: str, *args):
        if sql == "COMMIT" and self.fail:
            self.fail -= 1
            raise sqlite3.OperationalError("database is locked")
        return self.db.execute(sql, *args)

    def __getattr__(self, name: str):
        return getattr(self.db, name)


def test_a_failed_commit_is_rolled_back_and_later_writes_work() -> None:
    store = Store()
    run = store.create_run({})
    store._db = FlakyCommit(store._db)  # type: ignore[assignment]
    with pytest.raises(StoreError, match="database is locked"):
        store.add_metrics(run.id, rows([1]))
    assert not store._db.in_transaction and store.metrics(run.id) == []
    store.heartbeat(run.id)  # was: "cannot start a transaction within a transaction"
    store.add_metrics(run.id, rows([2]))
    assert [m.step for m in Store().metrics(run.id)] == [2]


def test_liveness_from_status_pid_and_heartbeat() -> None:
    store = Store()
    run = store.create_run({})
    assert run.liveness() == "alive"  # queued, just created
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    import socket

    store.update_run(run.id, status="running", pid=os.getpid(), host=socket.gethostname(),
                     heartbeat=time.time())
    assert store.get_run(run.id).liveness() == "alive"
    store.update_run(run.id, heartbeat=time.time() - HEARTBEAT_STALE - 1)
    assert store.get_run(run.id).liveness() == "dead"
    store.update_run(run.id, heartbeat=time.time(), pid=dead.pid)
    got = store.get_run(run.id)
    assert got.liveness() == "dead" and got.display_status == "dead"
    store.update_run(run.id, status="finished")
    assert store.get_run(run.id).liveness() == "ended"


def test_store_under_a_file_gives_one_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(StoreError, match="cannot use the run store") as err:
        Store(blocker / "home")
    assert "\n" not in str(err.value) and "Not a directory" in str(err.value)


def test_unwritable_store_gives_one_clear_error(tmp_path: Path) -> None:
    root = tmp_path / "ro"
    root.mkdir()
    root.chmod(0o500)
    try:
        if os.access(root, os.W_OK):
            pytest.skip("running as a user who can write anywhere")
        with pytest.raises(StoreError, match="cannot use the run store .* TANGTUI_HOME"):
            Store(root / "home")
    finally:
        root.chmod(0o700)


def test_readers_read_while_a_writer_writes(tangtui_home: Path) -> None:
    store = Store()
    run = store.create_run({})
    writer = textwrap.dedent(f"""
        import time
        from tangtui.runs.store import Store, MetricRow
        s = Store()
        for step in range(1, 301):
            s.add_metrics({run.id!r}, [MetricRow(step, 0, 1.0, 1e-3, 1.0, time.time())])
        print("done")
    """)
    proc = subprocess.Popen([sys.executable, "-c", writer], stdout=subprocess.PIPE, text=True)
    seen, reads = 0, 0
    readers = [Store() for _ in range(3)]
    while proc.poll() is None or seen < 300:
        for reader in readers:
            new = reader.metrics(run.id, since=seen)
            assert [m.step for m in new] == list(range(seen + 1, seen + 1 + len(new)))
            seen += len(new)
            reads += 1
        if proc.poll() is not None and seen < 300 and reads > 10_000:
            break
    assert proc.wait(timeout=30) == 0 and proc.stdout.read().strip() == "done"
    assert seen == 300 and reads > 3


def test_a_store_from_before_the_per_poem_figure_is_migrated(tmp_path: Path) -> None:
    """Old evals held the stream figure in test_ppl: it moves to stream_ppl, nothing is lost,
    and no old figure passes for a per-poem one."""
    import sqlite3

    db = sqlite3.connect(tmp_path / "tangtui.db")
    db.executescript("""
        CREATE TABLE runs (id TEXT PRIMARY KEY, name TEXT UNIQUE, engine TEXT NOT NULL,
            status TEXT NOT NULL, reason TEXT, pid INTEGER, host TEXT, heartbeat REAL,
            created TEXT NOT NULL, started TEXT, ended TEXT, config TEXT NOT NULL,
            step INTEGER NOT NULL DEFAULT 0, epoch INTEGER NOT NULL DEFAULT 0,
            total_steps INTEGER, tokens_per_s REAL, eta_s REAL, device TEXT,
            best_test_ppl REAL, best_step INTEGER, checkpoint_step INTEGER,
            attempt INTEGER NOT NULL DEFAULT 0, info TEXT NOT NULL DEFAULT '{}');
        CREATE TABLE evals (run_id TEXT NOT NULL, step INTEGER NOT NULL,
            epoch INTEGER NOT NULL, test_loss REAL, test_ppl REAL, tokens INTEGER,
            time REAL NOT NULL, PRIMARY KEY (run_id, step)) WITHOUT ROWID;
        INSERT INTO runs (id, name, engine, status, created, config, best_test_ppl, best_step)
            VALUES ('20250101-000000-abcd', 'old', 'numpy', 'finished', '2025-01-01', '{}',
                    145.4, 4000);
        INSERT INTO evals VALUES ('20250101-000000-abcd', 4000, 1, 4.98, 145.4, 1000, 0.0);
    """)
    db.commit()
    db.close()
    store = Store(tmp_path)
    (ev,) = store.evals("20250101-000000-abcd")
    assert ev.stream_ppl == 145.4 and ev.stream_loss == 4.98 and ev.test_ppl is None
    assert store.get_run("old").best_test_ppl is None
    Store(tmp_path)  # opening again changes nothing
    assert store.evals("20250101-000000-abcd")[0].stream_ppl == 145.4
