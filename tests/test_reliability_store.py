"""The store under stress: a trainer outlives a held exclusive lock and a full disk without
losing a row; an emptied or damaged tangtui.db is pointed out and rebuilt from the run folders;
`tangtui runs` aligns CJK names. Real processes, real SQLite, a real tmpfs where it matters."""

from __future__ import annotations

import json
import re
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest
from fault_helpers import start_detached, tangtui, train, wait_for
from rich.cells import cell_len

from tangtui.runs.store import Store


def hold_exclusive(db: Path, seconds: float) -> None:
    """What a backup or a careless script does: BEGIN EXCLUSIVE on the store, then wait."""
    conn = sqlite3.connect(db, isolation_level=None, timeout=30)
    conn.execute("BEGIN EXCLUSIVE")
    time.sleep(seconds)
    conn.execute("COMMIT")
    conn.close()


def outage_survived(seconds: float) -> None:
    info = start_detached("busy", "train.steps=100000", "train.eval_every=20",
                          "train.checkpoint_every=20")
    store = Store()
    run_dir = store.run_dir(info["id"])
    wait_for(lambda: len(store.metrics(info["id"])) >= 3, what="some steps")
    before = len(list((run_dir / "checkpoints").glob("step-*")))
    hold_exclusive(store.db_path, seconds)
    # the trainer trained on meanwhile (checkpoints are files, not store rows)
    assert len(list((run_dir / "checkpoints").glob("step-*"))) > before
    tangtui("stop", "busy", timeout=180)
    run = store.get_run("busy")
    assert run.status == "stopped" and run.step > 3
    assert [m.step for m in store.metrics(run.id)] == list(range(1, run.step + 1))
    evals = [e.step for e in store.evals(run.id)]
    due = list(range(20, run.step + 1, 20))
    if evals == due[:-1] and due[-1] == run.step:  # the stop landed in this step's evaluation:
        last = run_dir / "checkpoints" / f"step-{run.step:08d}" / "meta.json"  # redone on resume
        assert json.loads(last.read_text())["pending"][0] == "eval"
    else:
        assert evals == due
    log = (run_dir / "train.log").read_text()
    assert "the run store is not answering (database is locked)" in log
    waited = [float(w) for w in re.findall(r"the run store answered after ([\d.]+) s", log)]
    assert waited and max(waited) >= seconds - 12  # the first try itself waits 10 s


def test_a_trainer_survives_a_store_locked_longer_than_its_busy_timeout() -> None:
    outage_survived(14.0)  # the busy timeout is 10 s: before, this ended the run `failed`


@pytest.mark.slow
def test_a_trainer_survives_a_store_locked_for_a_minute() -> None:
    outage_survived(60.0)


@pytest.fixture
def small_home(tmp_path: Path, monkeypatch):
    """TANGTUI_HOME on an 8 MiB tmpfs (root only), so the test can fill the disk."""
    mount = tmp_path / "home-fs"
    mount.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(mount)],
                      capture_output=True).returncode != 0:
        pytest.skip("mounting a tmpfs needs root")
    monkeypatch.setenv("TANGTUI_HOME", str(mount))
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], capture_output=True)


def fill(path: Path) -> Path:
    filler = path / "filler"
    with open(filler, "wb") as f:
        try:
            while True:
                f.write(b"\0" * 65536)
                f.flush()
        except OSError:
            pass
    return filler


def test_a_full_store_delays_the_rows_and_the_end_is_recorded_once_it_has_room(
        small_home: Path) -> None:
    info = start_detached("full", "train.steps=100000", "train.eval_every=0",
                          "train.checkpoint_every=100000")
    store = Store()
    wait_for(lambda: len(store.metrics(info["id"])) >= 3, what="some steps")
    store.close()
    filler = fill(small_home)
    time.sleep(2.0)  # trains on; the store (and train.log) cannot grow
    subprocess.run(["kill", "-TERM", str(info["pid"])], check=True)
    time.sleep(2.0)  # the stop's checkpoint fails for want of space; its end waits for the store
    filler.unlink()
    store = Store()
    run = wait_for(lambda: (r := store.get_run("full")).status not in ("running", "queued") and r,
                   timeout=60, what="the end of the run to be recorded")
    assert run.status == "failed"
    assert "no space left on device" in run.reason and "no good checkpoint is kept" in run.reason
    assert [m.step for m in store.metrics(run.id)] == list(range(1, run.step + 1))


def test_an_emptied_store_says_so_and_is_rebuilt_from_the_run_folders(tangtui_home) -> None:
    train("春眠不觉晓", "train.steps=20", "train.eval_every=10")
    train("abc", "train.steps=5", "train.eval_every=0")
    store = Store()
    before = {r.name: r for r in store.list_runs()}
    history = store.history(before["春眠不觉晓"].id)
    store.close()
    (tangtui_home / "tangtui.db").write_bytes(b"")  # 0 bytes, as a failed copy leaves it
    for extra in tangtui_home.glob("tangtui.db-*"):
        extra.unlink()
    listed = tangtui("runs")
    assert listed.stdout == "" and "no runs yet" not in listed.stdout
    assert re.search(r"tangtui: note: the run store .*tangtui.db is empty or damaged, but 2 "
                     r"run folders under .* are not in it; rebuild it from them with "
                     r"`tangtui rebuild`", listed.stderr)
    out = tangtui("rebuild").stdout
    assert "(春眠不觉晓): finished, 20 train rows, 2 evaluations" in out
    store = Store()
    after = {r.name: r for r in store.list_runs()}
    for name in before:
        a, b = before[name], after[name]
        assert (b.id, b.status, b.step, b.total_steps, b.best_step, b.checkpoint_step) == \
            (a.id, a.status, a.step, a.total_steps, a.best_step, a.checkpoint_step)
        assert b.best_test_ppl == pytest.approx(a.best_test_ppl)
    assert [{k: r[k] for k in ("step", "train_loss", "test_ppl")} for r in
            store.history(after["春眠不觉晓"].id)] == \
        [{k: r[k] for k in ("step", "train_loss", "test_ppl")} for r in history]
    assert tangtui("rebuild").stdout.strip() == "the run store already lists every run folder"


def test_a_damaged_store_names_the_fix_and_rebuild_keeps_the_damaged_file(tangtui_home) -> None:
    train("r", "train.steps=5", "train.eval_every=0")
    for extra in tangtui_home.glob("tangtui.db-*"):
        extra.unlink()
    (tangtui_home / "tangtui.db").write_bytes(b"this is not a database" * 100)
    refused = tangtui("runs", check=False)
    assert refused.returncode == 2
    assert refused.stderr.strip().endswith("is damaged (file is not a database); rebuild it "
                                           "from the run folders with `tangtui rebuild` (the "
                                           "damaged file is kept beside it)")
    assert "writable directory" not in refused.stderr
    out = tangtui("rebuild").stdout
    moved = Path(re.search(r"moved to (\S+)", out).group(1))
    assert moved.read_bytes().startswith(b"this is not a database")
    assert [r.name for r in Store().list_runs()] == ["r"]


def test_runs_aligns_cjk_names_by_display_width() -> None:
    store = Store()
    for name in ("春眠不觉晓", "ab", "静夜思x"):
        store.create_run({"engine": "numpy"}, name=name)
    lines = tangtui("runs").stdout.splitlines()
    starts = {cell_len(line[: line.index("numpy")]) for line in lines[1:]}
    assert len(starts) == 1 and cell_len(lines[0][: lines[0].index("ENGINE")]) in starts


def test_the_loss_guard_hint_fits_the_clip_setting() -> None:
    hot = ["train.steps=20", "optim.name=sgd", "optim.lr=1e5"]
    for clip, hint in (("0", "lower optim.lr or set optim.clip (e.g. 5)"),
                       ("5", "lower optim.lr or optim.clip (now 5)")):
        assert train(f"hot{clip}", *hot, f"optim.clip={clip}", check=False).returncode == 1
        assert hint in Store().get_run(f"hot{clip}").reason


def test_a_binary_config_file_is_one_line_error(tmp_path: Path) -> None:
    path = tmp_path / "model.json"
    path.write_bytes(b"\x00\xff\xfe\x89binary")
    proc = tangtui("train", "--config", str(path), check=False)
    assert proc.returncode == 2
    assert proc.stderr == f"tangtui: error: config file {path} is not a text file (not UTF-8); " \
                          "use a .toml or .json file\n"
