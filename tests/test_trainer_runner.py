"""The runner in-process (fake engine): store writes, resume truncation, a full disk, the lock."""

from __future__ import annotations

import errno
import threading

import pytest
from trainer_fakes import BigramEngine, fake_config, tiny_dataset

from tangtui.errors import TangtuiError
from tangtui.runs.lock import RunLock, is_locked, lock_holder
from tangtui.runs.runner import execute
from tangtui.runs.store import Store


def run_once(store: Store, run_id: str, cfg, resume: bool = False, stop=None, hooks=()):
    ds = tiny_dataset(cfg)
    return execute(run_id, resume=resume, store=store, dataset=ds,
                   engine=BigramEngine(cfg, len(ds.vocab)), stop=stop, hooks=hooks,
                   handle_signals=False, log=False)


class StopAt:
    def __init__(self, step: int, stop: threading.Event) -> None:
        self.step, self.stop = step, stop

    def __getattr__(self, name: str):
        return lambda *a: None

    def on_step(self, p) -> None:
        if p.step == self.step:
            self.stop.set()


def test_a_run_writes_history_samples_and_status() -> None:
    store = Store()
    cfg = fake_config(**{"train.steps": 20})
    run = store.create_run(cfg.to_dict(), name="fake")
    result = run_once(store, run.id, cfg)
    got = store.get_run("fake")
    assert result.status == got.status == "finished" and got.step == 20
    assert (got.total_steps, got.checkpoint_step, got.best_step) == (20, 20, 20)
    assert [m.step for m in store.metrics(run.id)] == list(range(1, 21))
    assert [e.step for e in store.evals(run.id)] == [5, 10, 15, 20]
    assert [s.step for s in store.latest_samples(run.id)] == [20] * 4
    assert got.info["dataset"] == {} and got.pid and got.started and got.ended
    assert not is_locked(store.run_dir(run.id))


def test_stop_then_resume_rewrites_rows_after_the_checkpoint() -> None:
    store = Store()
    cfg = fake_config(**{"train.steps": 30, "train.checkpoint_every": 0, "train.eval_every": 10})
    run = store.create_run(cfg.to_dict())
    stop = threading.Event()
    assert run_once(store, run.id, cfg, stop=stop, hooks=[StopAt(13, stop)]).status == "stopped"
    assert store.get_run(run.id).checkpoint_step == 13
    # pretend the trainer had logged beyond its checkpoint before dying
    from tangtui.runs.store import MetricRow

    store.add_metrics(run.id, [MetricRow(s, 0, 99.0, 0.0, 0.0, 0.0) for s in (14, 15)])
    result = run_once(store, run.id, cfg, resume=True)
    assert result.status == "finished"
    losses = {m.step: m.train_loss for m in store.metrics(run.id)}
    assert sorted(losses) == list(range(1, 31)) and losses[14] != 99.0
    assert store.get_run(run.id).attempt == 1


def test_a_full_disk_fails_the_run_and_keeps_the_previous_checkpoint(monkeypatch) -> None:
    import engine.trainer_ckpt as tc

    real = tc.save_checkpoint
    calls = {"n": 0}

    def flaky(path, ckpt):
        calls["n"] += 1
        if calls["n"] > 2:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(path, ckpt)

    monkeypatch.setattr(tc, "save_checkpoint", flaky)
    store = Store()
    cfg = fake_config(**{"train.steps": 30})
    run = store.create_run(cfg.to_dict())
    result = run_once(store, run.id, cfg)
    got = store.get_run(run.id)
    assert result.status == got.status == "failed"
    assert got.reason.endswith("no space left on device; kept the checkpoint of step 5")
    assert got.checkpoint_step == 5
    assert tc.CheckpointKeeper(store.run_dir(run.id)).latest().name == "step-00000005"


def test_the_lock_refuses_a_second_trainer_and_names_the_holder() -> None:
    store = Store()
    cfg = fake_config(**{"train.steps": 3})
    run = store.create_run(cfg.to_dict())
    lock = RunLock(store.run_dir(run.id))
    lock.acquire()
    try:
        assert lock_holder(store.run_dir(run.id)) > 0
        with pytest.raises(TangtuiError, match=r"already being trained \(pid \d+\)"):
            run_once(store, run.id, cfg)
        assert store.get_run(run.id).status == "queued"  # untouched
    finally:
        lock.release()
    assert run_once(store, run.id, cfg).status == "finished"


def test_watch_json_and_metrics_of_a_finished_run(capsys) -> None:
    import json

    from tangtui.cli import main

    store = Store()
    cfg = fake_config(**{"train.steps": 10})
    run = store.create_run(cfg.to_dict(), name="w")
    run_once(store, run.id, cfg)
    capsys.readouterr()
    assert main(["watch", "w", "--json"]) == 0
    events = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [e["step"] for e in events if e["type"] == "train"] == list(range(1, 11))
    assert [e["step"] for e in events if e["type"] == "eval"] == [5, 10]
    assert events[-1] == {"type": "end", "status": "finished", "step": 10, "reason": None,
                          "best_test_ppl": store.get_run("w").best_test_ppl}
    assert main(["metrics", "w", "--evals", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["step"] for r in rows] == [5, 10] and all(r["test_ppl"] for r in rows)
    assert main(["resume", "w"]) == 2
    assert "already finished" in capsys.readouterr().err


def test_progress_line_fits_the_width() -> None:
    from types import SimpleNamespace

    from tangtui.cli.progress import ProgressBar, fmt_duration

    bar = ProgressBar(tty=True)
    bar.loss, bar.tps, bar.test_ppl = 4.5, 12345.0, 101.5
    p = SimpleNamespace(step=250, total_steps=1000, eta_s=3725.0)
    line = bar.line(p, 120)
    assert line.startswith("step 250/1,000 ") and "25%" in line and "ppl 90.0" in line
    assert "test 101.5" in line and "12,345 tok/s" in line and line.endswith("ETA 1:02:05")
    assert len(bar.line(p, 60)) < 60
    assert fmt_duration(None) == "--:--" and fmt_duration(65) == "1:05"
