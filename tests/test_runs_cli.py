"""Runs end to end through the real CLI and real trainer processes (tiny models, a few poems)."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from fault_helpers import wait_for

from engine.schedule import early_step
from engine.trainer_ckpt import CheckpointKeeper, checkpoint_step
from tangtui.runs.store import Store

TINY = ["corpus.forms=wujue", "corpus.max_poems=80", "model.embed_dim=16", "model.hidden_dim=16",
        "train.batch_size=8", "train.seq_len=32", "train.log_every=1", "train.eval_every=10",
        "train.sample_every=10"]
ROOT = Path(__file__).resolve().parent.parent


def env() -> dict[str, str]:
    # one intra-op thread: on a loaded 2-core box torch's spinning threads slow tiny LSTMs 50x
    return dict(os.environ, PYTHONPATH=str(ROOT), OMP_NUM_THREADS="1")


def tangtui(*args: str, check: bool = True, timeout: float = 120) -> subprocess.CompletedProcess:
    proc = subprocess.run([sys.executable, "-m", "tangtui", *args], capture_output=True,
                          text=True, env=env(), timeout=timeout)
    if check and proc.returncode != 0:
        raise AssertionError(f"tangtui {' '.join(args)} -> {proc.returncode}\n{proc.stderr}")
    return proc




def start_detached(*sets: str, engine: str = "numpy", name: str | None = None) -> dict:
    args = ["train", "--engine", engine, "--detach", "--json", "--set", *TINY, *sets]
    out = tangtui(*args, *(["--name", name] if name else [])).stdout
    return json.loads(out)


def steps_of(run: str) -> list[int]:
    return [r["step"] for r in json.loads(tangtui("metrics", run, "--json").stdout)]


@pytest.mark.parametrize("engine", ["numpy", pytest.param("torch", marks=pytest.mark.slow)])
def test_tiny_run_end_to_end(engine: str) -> None:
    info = start_detached("train.steps=12", "train.checkpoint_every=5", engine=engine,
                          name=f"tiny-{engine}")
    assert info["status"] in ("queued", "running") and Path(info["log"]).parent.is_dir()
    store = Store()
    run = wait_for(lambda: (r := store.get_run(info["id"])).status == "finished" and r,
                   what="the run to finish")
    runs = json.loads(tangtui("runs", "--json").stdout)
    assert {"id", "name", "engine", "status", "pid", "step", "best_test_ppl",
            "created"} <= set(runs[0])
    assert (runs[0]["name"], runs[0]["engine"], runs[0]["step"]) == (f"tiny-{engine}", engine, 12)
    rows = json.loads(tangtui("metrics", f"tiny-{engine}", "--json").stdout)
    assert [r["step"] for r in rows] == list(range(1, 13))
    evaluated = [r for r in rows if r["test_ppl"] is not None]
    assert [r["step"] for r in evaluated] == [1, 10, 12]  # early (5 %), every 10, the end
    assert run.best_test_ppl == min(r["test_ppl"] for r in evaluated) < 2000
    assert len(store.latest_samples(run.id)) == 4
    watch = tangtui("watch", run.id).stdout
    assert "held-out ppl" in watch and "per poem" in watch
    assert watch.rstrip().endswith("finished at step 12")
    assert (store.run_dir(run.id) / "checkpoints" / "step-00000012" / "meta.json").is_file()


@pytest.mark.slow
def test_kill_9_then_resume_gives_a_history_without_gaps_or_duplicates() -> None:
    total = 70
    info = start_detached(f"train.steps={total}", "train.checkpoint_every=7")
    store = Store()
    kill_after = random.randint(9, 45)  # a random moment: between checkpoints, usually
    wait_for(lambda: len(store.metrics(info["id"])) >= kill_after, what="some steps")
    pid = store.get_run(info["id"]).pid
    os.kill(pid, signal.SIGKILL)
    wait_for(lambda: store.get_run(info["id"]).display_status == "dead", timeout=10,
             what="the run to look dead")
    before = store.get_run(info["id"])
    ckpt = before.checkpoint_step
    # the trainer checkpoints every checkpoint_every steps and at each evaluation (the run's
    # own config says how often); a kill between a save and its store row leaves the disk ahead
    train = before.config["train"]
    every = [n for n in (train["checkpoint_every"], train["eval_every"]) if n]
    latest = CheckpointKeeper(store.run_dir(info["id"])).latest()
    assert ckpt is not None and latest is not None and checkpoint_step(latest) >= ckpt
    early = early_step(before.total_steps)  # the early evaluation's checkpoint (5 % of the run)
    assert all(s == early or any(s % n == 0 for n in every)
               for s in (ckpt, checkpoint_step(latest))), every
    tangtui("resume", info["id"])
    after = store.get_run(info["id"])
    assert after.status == "finished" and after.step == total and after.attempt == 1
    steps = steps_of(info["id"])
    assert steps == list(range(1, total + 1))
    evals = [e.step for e in store.evals(info["id"])]
    assert evals == sorted(set(evals)) and evals[-1] == total


def test_sigterm_saves_a_checkpoint_and_the_lock_refuses_a_second_trainer() -> None:
    info = start_detached("train.steps=100000", "train.checkpoint_every=1000", name="long")
    store = Store()
    wait_for(lambda: len(store.metrics(info["id"])) >= 5, what="some steps")
    second = subprocess.run([sys.executable, "-m", "tangtui.runs.runner", info["id"], "--resume"],
                            capture_output=True, text=True, env=env())
    assert second.returncode == 2 and "already being trained (pid" in second.stderr
    refused = tangtui("resume", "long", check=False)
    assert refused.returncode == 2 and "still training" in refused.stderr
    refused = tangtui("rm", "long", check=False)
    assert refused.returncode == 2 and "stop it first" in refused.stderr
    assert store.get_run("long").status == "running"  # the refused trainers touched nothing

    stopped = json.loads(tangtui("stop", "long", "--json").stdout)
    assert stopped["status"] == "stopped" and stopped["reason"] == "stopped by SIGTERM"
    assert stopped["checkpoint_step"] == stopped["step"] >= 5
    ckpt = store.run_dir(info["id"]) / "checkpoints" / f"step-{stopped['step']:08d}"
    assert json.loads((ckpt / "meta.json").read_text())["step"] == stopped["step"]
    assert steps_of("long") == list(range(1, stopped["step"] + 1))
    assert tangtui("stop", "long", check=False).returncode == 2  # not training any more
    assert "removed" in tangtui("rm", "long").stdout
    assert json.loads(tangtui("runs", "--json").stdout) == []


def test_nan_guard_fails_the_run_with_a_reason() -> None:
    proc = tangtui("train", "--set", *TINY, "train.steps=20", "optim.name=sgd", "optim.lr=1e5",
                   "optim.clip=0", "--name", "hot", check=False)
    assert proc.returncode == 1
    run = json.loads(tangtui("runs", "--json").stdout)[0]
    assert run["status"] == "failed"
    assert "loss" in run["reason"] and "lower optim.lr" in run["reason"]


@pytest.mark.parametrize(("args", "message"), [
    (["train", "--set", "model.layers=0"],
     "tangtui: error: model.layers: must be an integer from 1 to 16, got 0"),
    (["train", "--preset", "nope"], "tangtui: error: unknown preset 'nope'"),
    (["train", "--preset", "tiny", "--name", "../escape"], "tangtui: error: invalid run name"),
    (["metrics", "missing"], "tangtui: error: no run 'missing'"),
    (["resume", "../../etc"], "tangtui: error: no run '../../etc'"),
])
def test_bad_input_gives_one_line_errors(args: list[str], message: str) -> None:
    proc = tangtui(*args, check=False)
    assert proc.returncode == 2 and proc.stderr.startswith(message)
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr


def test_unwritable_store_gives_one_line_error(tmp_path: Path, monkeypatch) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    monkeypatch.setenv("TANGTUI_HOME", str(blocker / "home"))
    proc = tangtui("train", "--preset", "tiny", check=False)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1
    assert proc.stderr.startswith("tangtui: error: cannot use the run store")


def test_metrics_refuses_a_tail_below_one() -> None:
    proc = tangtui("metrics", "anything", "--tail", "-1", check=False)
    assert proc.returncode == 2 and "--tail: must be at least 1, got -1" in proc.stderr
    assert "Traceback" not in proc.stderr
