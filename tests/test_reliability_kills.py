"""Kills and stops at named moments of real trainer processes (TANGTUI_FAULT), then a resume:
``best`` ends up holding the best evaluation, an interrupted evaluation is redone, and the
history has every step exactly once."""

from __future__ import annotations

import numpy as np
import pytest
from fault_helpers import meta, tangtui, train

from engine.checkpoint import load_checkpoint
from tangtui.runs.store import Store

EVERY = ["train.eval_every=10", "train.checkpoint_every=0"]


def ckpts(store: Store, name: str):
    return store.run_dir(store.get_run(name).id) / "checkpoints"


def test_a_kill_while_best_is_written_is_mended_on_resume() -> None:
    killed = train("b", "train.steps=20", *EVERY, fault="best-tmp@20:kill", check=False)
    assert killed.returncode == -9
    store = Store()
    ck = ckpts(store, "b")
    assert list(ck.glob(".best.tmp-*"))  # killed with the new best half written
    assert meta(ck / "best")["step"] == 10 and meta(ck / "step-00000020")["best_step"] == 20
    resumed = tangtui("resume", "b")
    assert "checkpoints/best was of step 10; rewrote it from step-00000020" in resumed.stderr
    run = store.get_run("b")
    assert run.status == "finished" and run.best_step == 20 == meta(ck / "best")["step"]
    assert not list(ck.glob(".best.tmp-*"))
    best, step = load_checkpoint(ck / "best").tensors, load_checkpoint(ck / "step-00000020").tensors
    assert all(np.array_equal(best[k], step[k]) for k in step)
    assert [e.step for e in store.evals(run.id)] == [10, 20]
    assert [m.step for m in store.metrics(run.id)] == list(range(1, 21))


@pytest.mark.parametrize(("at", "steps"), [pytest.param(10, 20, marks=pytest.mark.slow),
                                           (20, 20)], ids=["midway", "final"])
def test_a_stop_during_an_evaluation_is_redone_on_resume(at: int, steps: int) -> None:
    stopped = train("e", f"train.steps={steps}", *EVERY, fault=f"eval@{at}:term", check=False)
    assert stopped.returncode == 0, stopped.stderr
    store = Store()
    run = store.get_run("e")
    assert run.status == "stopped" and run.step == at  # not "finished" without its evaluation
    assert at not in [e.step for e in store.evals(run.id)]
    assert meta(ckpts(store, "e") / f"step-{at:08d}")["pending"] == ["eval", "samples"]
    tangtui("resume", "e")
    run = store.get_run("e")
    assert run.status == "finished" and run.step == steps
    assert [e.step for e in store.evals(run.id)] == list(range(10, steps + 1, 10))
    assert run.best_step == steps and meta(ckpts(store, "e") / "best")["step"] == steps
    assert store.latest_samples(run.id)[0].step == steps
    samples = store._query("SELECT DISTINCT step FROM samples WHERE run_id = ?", (run.id,))
    assert sorted(s for (s,) in samples) == list(range(10, steps + 1, 10))
    assert [m.step for m in store.metrics(run.id)] == list(range(1, steps + 1))


@pytest.mark.parametrize("fault", [pytest.param("eval@20:kill", marks=pytest.mark.slow),
                                   pytest.param("step-tmp@20:kill", marks=pytest.mark.slow),
                                   "step-saved@20:kill"])
def test_a_kill_at_each_write_phase_then_resume_loses_nothing(fault: str) -> None:
    killed = train("k", "train.steps=30", *EVERY, fault=fault, check=False)
    assert killed.returncode == -9
    store = Store()
    ck = ckpts(store, "k")
    latest = sorted(p.name for p in ck.glob("step-*"))[-1]
    assert latest == ("step-00000020" if fault.startswith("step-saved") else "step-00000010")
    tangtui("resume", "k")
    run = store.get_run("k")
    assert run.status == "finished" and run.attempt == 1
    assert [e.step for e in store.evals(run.id)] == [10, 20, 30]
    assert [m.step for m in store.metrics(run.id)] == list(range(1, 31))
    assert meta(ck / "best")["step"] == run.best_step == 30
    assert not list(ck.glob(".*.tmp-*")) and not list(ck.glob(".*.old-*"))
