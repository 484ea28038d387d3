"""``tangtui lab`` end to end in real processes: detach, stop, resume; a full optimizer race."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tangtui.runs.experiments import lab_data
from tangtui.runs.store import Store

ROOT = Path(__file__).resolve().parent.parent


def tangtui(home: Path, *args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, TANGTUI_HOME=str(home), PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-m", "tangtui", *args], capture_output=True,
                          text=True, env=env, timeout=timeout)


@pytest.mark.slow
def test_detach_stop_and_resume_finish_with_contiguous_curves(tmp_path: Path) -> None:
    home = tmp_path / "home"
    started = tangtui(home, "lab", "run", "optimizers", "--scale", "tiny", "--seeds", "1",
                      "--detach", "--json")
    assert started.returncode == 0, started.stderr
    exp_id = json.loads(started.stdout)["id"]
    store = Store(home)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and len(store.experiment_members(exp_id)) < 2:
        time.sleep(0.2)
    stopped = tangtui(home, "lab", "stop", exp_id, "--json")
    assert stopped.returncode == 0, stopped.stderr
    assert json.loads(stopped.stdout)["status"] == "stopped"
    resumed = tangtui(home, "lab", "resume", exp_id, "--json")
    assert resumed.returncode == 0, resumed.stderr
    out = json.loads(resumed.stdout)
    assert out["experiment"]["status"] == "finished" and out["members_done"] == 16
    for m in lab_data(store, store.get_experiment(exp_id)).members:
        total = store.get_run(m.run_id).total_steps
        assert [s for s, _, _ in m.metrics] == list(range(1, total + 1)), m.key


@pytest.mark.slow
def test_a_killed_experiment_is_dead_and_resumes_with_contiguous_curves(tmp_path: Path) -> None:
    """SIGKILL in the middle of a member (no checkpoint written, rows past the last one):
    `lab list` says dead, `lab resume` retrains from the checkpoint and finishes."""
    home = tmp_path / "home"
    started = tangtui(home, "lab", "run", "init", "--scale", "tiny", "--seeds", "1",
                      "--detach", "--json")
    assert started.returncode == 0, started.stderr
    out = json.loads(started.stdout)
    exp_id, pid = out["id"], out["pid"]
    store = Store(home)
    deadline = time.monotonic() + 300
    victim = None
    while time.monotonic() < deadline and victim is None:
        members = store.experiment_members(exp_id)
        if len(members) >= 2:
            run = store.get_run(members[1].run_id)
            if 2 <= run.step < run.total_steps:
                victim = run.id
        time.sleep(0.02)
    assert victim is not None, "the second member never got going"
    os.kill(pid, signal.SIGKILL)
    listed = tangtui(home, "lab", "list", "--json")
    [exp] = json.loads(listed.stdout)["experiments"]
    assert exp["status"] == "dead"
    assert store.get_run(victim).display_status == "dead"
    resumed = tangtui(home, "lab", "resume", exp_id, "--json")
    assert resumed.returncode == 0, resumed.stderr
    assert json.loads(resumed.stdout)["experiment"]["status"] == "finished"
    for m in lab_data(store, store.get_experiment(exp_id)).members:
        total = store.get_run(m.run_id).total_steps
        assert [s for s, _, _ in m.metrics] == list(range(1, total + 1)), m.key
        assert [s for s, _ in m.probes["max_cos"]] == list(range(0, total + 1)), m.key


@pytest.mark.slow
def test_the_tiny_optimizer_race_runs_to_its_verdicts(tmp_path: Path) -> None:
    done = tangtui(tmp_path / "home", "lab", "run", "optimizers", "--scale", "tiny",
                   "--seeds", "2", "--json")
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["experiment"]["status"] == "finished" and out["members_done"] == 24
    assert all(v["holds"] is not None for v in out["verdicts"])
    assert [r[0] for r in out["table"]["rows"]][-1] == "adam"
