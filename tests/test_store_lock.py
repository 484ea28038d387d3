"""The run lock: probes never refuse a real trainer, and a stale pid is never signalled."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from tangtui.errors import TangtuiError
from tangtui.runs.lock import LOCK_NAME, RunLock, is_locked, lock_holder
from tangtui.runs.runner import request_stop
from tangtui.runs.store import Store

PROBER = textwrap.dedent("""
    import sys
    from pathlib import Path
    from tangtui.runs.lock import is_locked
    run_dir, stop = Path(sys.argv[1]), Path(sys.argv[2])
    print("ready", flush=True)
    n = 0
    while not stop.exists():
        is_locked(run_dir)
        n += 1
    print(n)
""")


def test_acquire_is_never_refused_because_of_a_concurrent_probe(tmp_path: Path) -> None:
    """spawn() probes the lock every 50 ms while the trainer takes it; here a probe runs
    flat out in another process while this one takes and drops the lock many times."""
    run_dir, stop = tmp_path / "run", tmp_path / "stop"
    run_dir.mkdir()
    (run_dir / LOCK_NAME).write_text("")
    root = str(Path(__file__).resolve().parent.parent)
    prober = subprocess.Popen([sys.executable, "-c", PROBER, str(run_dir), str(stop)],
                              stdout=subprocess.PIPE, text=True,
                              env=dict(os.environ, PYTHONPATH=root))
    try:
        assert prober.stdout is not None and prober.stdout.readline().strip() == "ready"
        cycles, deadline = 0, time.monotonic() + 0.4
        while time.monotonic() < deadline or cycles < 200:  # thousands of cycles
            lock = RunLock(run_dir)
            lock.acquire()  # raised "already being trained" ~4% of the time before the retry
            lock.release()
            cycles += 1
    finally:
        stop.write_text("")
        out, _ = prober.communicate(timeout=30)
    assert int(out) > 100  # the probe really ran meanwhile


def test_release_empties_the_pid_file() -> None:
    store = Store()
    run_dir = store.run_dir(store.create_run({}).id)
    lock = RunLock(run_dir)
    lock.acquire()
    assert lock_holder(run_dir) == os.getpid() and is_locked(run_dir)
    lock.release()
    assert (run_dir / LOCK_NAME).read_text() == "" and lock_holder(run_dir) is None


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs /proc")
def test_a_stale_pid_in_the_lock_file_is_never_signalled() -> None:
    """After a kill -9 the file keeps the dead trainer's pid, which the system may give to an
    unrelated process; until the new trainer writes its own, that pid must not be trusted."""
    store = Store()
    run = store.create_run({}, name="stale")
    run_dir = store.run_dir(run.id)
    bystander = subprocess.Popen(["sleep", "30"])
    lock = RunLock(run_dir)
    lock.acquire()
    try:
        (run_dir / LOCK_NAME).write_text(f"{bystander.pid}\n")  # as in the window after acquire
        assert is_locked(run_dir) and lock_holder(run_dir) is None
        with pytest.raises(TangtuiError, match="run stale is not training"):
            request_stop(store, run.id)
        assert bystander.poll() is None  # still alive: no SIGTERM went to it
    finally:
        lock.release()
        bystander.kill()
        bystander.wait()
