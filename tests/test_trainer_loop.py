"""The engine-agnostic trainer, driven by a real bigram engine (tests/trainer_fakes.py)."""

from __future__ import annotations

import json
import math
import threading
from pathlib import Path

import numpy as np
import pytest
from trainer_fakes import BigramEngine, fake_config, tiny_dataset

from engine.checkpoint import load_checkpoint
from engine.trainer import Hooks, Trainer
from engine.trainer_ckpt import CheckpointKeeper


class Record(Hooks):
    def __init__(self, stop_at: int | None = None, stop: threading.Event | None = None) -> None:
        self.logs: list = []
        self.evals: list = []
        self.samples: list = []
        self.ckpts: list[int] = []
        self.stop_at, self.stop = stop_at, stop

    def on_step(self, p) -> None:
        if self.stop_at is not None and p.step == self.stop_at:
            self.stop.set()

    def on_log(self, p) -> None:
        self.logs.append((p.step, p.train_loss, p.lr))

    def on_eval(self, p, ev) -> None:
        self.evals.append((p.step, ev.loss, ev.ppl, ev.tokens))

    def on_samples(self, p, samples) -> None:
        self.samples.append(samples)

    def on_checkpoint(self, p, path) -> None:
        self.ckpts.append(p.step)


def make(cfg, run_dir=None, hooks=None, stop=None):
    ds = tiny_dataset(cfg)
    eng = BigramEngine(cfg, len(ds.vocab))
    return Trainer(cfg, ds, eng, run_dir, hooks or Record(), stop), eng


def test_loss_decreases_and_perplexity_is_exp_of_mean_loss(tmp_path: Path) -> None:
    rec = Record()
    trainer, eng = make(fake_config(), tmp_path, rec)
    result = trainer.run()
    assert result.status == "finished" and result.step == trainer.total_steps == 75
    first, last = rec.evals[0], rec.evals[-1]
    assert last[1] < first[1] - 0.5  # the held-out loss really falls
    for _, loss, ppl, tokens in rec.evals:
        assert ppl == pytest.approx(math.exp(loss)) and tokens == trainer.data.test_poems.n_tokens
    assert [s for s, *_ in rec.logs] == list(range(1, 76))
    assert result.best_test_ppl == pytest.approx(min(e[2] for e in rec.evals))
    assert [p for p, _ in rec.samples[-1]] == ["春", "月", "山", "风"]
    assert all(text.startswith(p) and "<" not in text for p, text in rec.samples[-1])
    assert trainer.samples() == trainer.samples()  # seeded by (seed, step): reproducible


def test_poem_mode_masks_padding_in_the_count(tmp_path: Path) -> None:
    cfg = fake_config(**{"train.mode": "poem", "train.seq_len": 40})
    rec = Record()
    trainer, _ = make(cfg, tmp_path, rec)
    trainer.run()
    # 3 held-out poems of 20 characters: 21 targets each (<eos> included), padding excluded
    assert {t for *_, t in rec.evals} == {63}


@pytest.mark.parametrize(("accum", "per_epoch"), [(1, 25), (3, 9), (0, 1)])
def test_accumulation_sets_updates_per_epoch(accum: int, per_epoch: int) -> None:
    cfg = fake_config(**{"optim.accum": accum, "train.epochs": 2})
    trainer, eng = make(cfg)
    assert trainer.steps_per_epoch == per_epoch
    trainer.run()
    assert eng.updates == 2 * per_epoch
    assert eng.seen == [(e, i) for e in range(2) for i in range(25)]  # every batch, in order


def test_steps_override_epochs_and_warmup_ramps_lr() -> None:
    cfg = fake_config(**{"train.steps": 12, "train.warmup": 4, "train.schedule": "cosine",
                         "optim.lr": 0.4})
    rec = Record()
    trainer, _ = make(cfg, None, rec)
    assert trainer.run().step == 12
    lrs = [lr for *_, lr in rec.logs]
    assert lrs[:4] == pytest.approx([0.1, 0.2, 0.3, 0.4])
    assert all(a >= b for a, b in zip(lrs[3:], lrs[4:], strict=False))


def _weights(eng: BigramEngine) -> np.ndarray:
    return np.concatenate([eng.W.ravel(), eng.b.ravel(), eng.vW.ravel()])


@pytest.mark.parametrize("mode", ["stream", "poem"])
def test_stop_then_resume_equals_an_uninterrupted_run(tmp_path: Path, mode: str) -> None:
    cfg = fake_config(**{"train.mode": mode, "train.seq_len": 24, "optim.accum": 2,
                         "train.checkpoint_every": 0, "train.eval_every": 0})
    full, full_eng = make(cfg, tmp_path / "a")
    full.run()

    stop = threading.Event()
    first, _ = make(cfg, tmp_path / "b", Record(stop_at=7, stop=stop), stop)
    result = first.run()
    assert result.status == "stopped" and result.step == 7
    meta = load_checkpoint(result.checkpoint).meta
    assert (meta["step"], meta["epoch"], meta["batch"]) == (7, first.epoch, first.batch)
    second, eng = make(cfg, tmp_path / "b")
    second.resume(CheckpointKeeper(tmp_path / "b").latest())
    assert (second.step, second.epoch, second.batch) == (7, first.epoch, first.batch)
    assert second.run().status == "finished"
    np.testing.assert_allclose(_weights(eng), _weights(full_eng), rtol=1e-6, atol=1e-7)
    assert eng.rng.random() == full_eng.rng.random()


def test_checkpoints_keep_the_latest_few_and_the_best(tmp_path: Path) -> None:
    cfg = fake_config(**{"train.keep_checkpoints": 2})
    rec = Record()
    trainer, _ = make(cfg, tmp_path, rec)
    trainer.run()
    keeper = CheckpointKeeper(tmp_path)
    assert [p.name for p in keeper.steps()] == ["step-00000070", "step-00000075"]
    best = json.loads((keeper.best() / "meta.json").read_text())
    assert best["best_test_ppl"] == pytest.approx(min(e[2] for e in rec.evals))
    assert rec.ckpts == list(range(5, 76, 5))


def test_nan_guard_stops_with_a_reason_and_keeps_the_last_good_checkpoint(tmp_path) -> None:
    cfg = fake_config(**{"optim.lr": 50.0, "optim.clip": 0.0, "train.checkpoint_every": 1,
                         "train.eval_every": 0, "train.log_every": 3})
    trainer, _ = make(cfg, tmp_path)
    result = trainer.run()
    assert result.status == "failed"
    assert "step" in result.reason and "optim.lr" in result.reason
    latest = CheckpointKeeper(tmp_path).latest()
    ckpt = load_checkpoint(latest)
    assert f"kept the checkpoint of step {ckpt.meta['step']}" in result.reason
    assert all(np.isfinite(v).all() for v in ckpt.tensors.values())
    assert ckpt.meta["step"] < result.step - 1  # the weights the bad loss came from are gone
    assert result.checkpoint == latest


def test_a_run_that_explodes_at_once_keeps_no_checkpoint(tmp_path) -> None:
    cfg = fake_config(**{"optim.lr": 1e5, "optim.clip": 0.0, "train.checkpoint_every": 1,
                         "train.eval_every": 0, "train.log_every": 3})
    trainer, _ = make(cfg, tmp_path)
    result = trainer.run()
    assert result.status == "failed" and "no good checkpoint is kept" in result.reason
    assert CheckpointKeeper(tmp_path).latest() is None and result.checkpoint is None


def test_resume_refuses_a_checkpoint_of_another_vocabulary(tmp_path: Path) -> None:
    from engine.checkpoint import CheckpointError

    trainer, _ = make(fake_config(**{"train.steps": 5}), tmp_path)
    trainer.run()
    other, _ = make(fake_config())
    other.data.vocab.itos[5] = "X"
    with pytest.raises(CheckpointError, match="another vocabulary"):
        other.resume(CheckpointKeeper(tmp_path).latest())


def test_a_kill_between_renames_leaves_a_usable_checkpoint(tmp_path: Path) -> None:
    trainer, _ = make(fake_config(**{"train.steps": 10}), tmp_path)
    trainer.run()
    root = tmp_path / "checkpoints"
    (root / "best").rename(root / ".best.old-123")  # killed after moving the old one away
    (root / ".step-00000011.tmp-123").mkdir()  # killed while writing a new one
    keeper = CheckpointKeeper(tmp_path)
    assert keeper.best() is not None and not list(root.glob(".*"))
    assert keeper.latest().name == "step-00000010"


def test_guard_runs_before_every_checkpoint_not_only_at_log_steps(tmp_path) -> None:
    """Checkpoints between log rows must not save exploded (finite) weights."""
    cfg = fake_config(**{"optim.lr": 50.0, "optim.clip": 0.0, "train.checkpoint_every": 1,
                         "train.eval_every": 0, "train.log_every": 1000})
    rec = Record()
    trainer, _ = make(cfg, tmp_path, rec)
    result = trainer.run()
    assert result.status == "failed" and "exploded" in result.reason
    assert rec.logs == [] and 2 < result.step < trainer.total_steps  # the save's guard caught it
    assert rec.ckpts == list(range(1, result.step))  # the failing step is never written
    # its loss came from the weights of the step before, whose checkpoint is removed too
    latest = CheckpointKeeper(tmp_path).latest()
    kept = load_checkpoint(latest).meta["step"]
    assert kept == result.step - 2
    check, eng = make(cfg)
    check.resume(latest)
    *_, loss, n = eng._forward("train", 0, kept)  # the batch of update kept + 1, as the guard
    assert loss / n <= trainer.explode_at  # saw it: what was kept had not exploded


def test_sample_every_zero_means_no_samples() -> None:
    rec = Record()
    trainer, _ = make(fake_config(**{"train.sample_every": 0, "train.steps": 7}), None, rec)
    assert trainer.run().status == "finished"
    assert rec.samples == []
    rec = Record()
    trainer, _ = make(fake_config(**{"train.sample_every": 5, "train.steps": 7}), None, rec)
    trainer.run()
    assert len(rec.samples) == 2  # step 5 and the end


def test_a_stop_during_evaluation_drops_it_and_saves_the_position(tmp_path: Path) -> None:
    class StopInEval(BigramEngine):
        stop: threading.Event | None = None

        def _forward(self, key, epoch, i):
            if key == "test_poems" and self.stop is not None:
                self.stop.set()  # the user presses stop while the first test batch runs
            return super()._forward(key, epoch, i)

    cfg = fake_config(**{"train.eval_every": 5, "train.checkpoint_every": 0})
    ds = tiny_dataset(cfg)
    assert ds.test.num_batches() >= 2
    eng, stop, rec = StopInEval(cfg, len(ds.vocab)), threading.Event(), Record()
    eng.stop = stop
    result = Trainer(cfg, ds, eng, tmp_path, rec, stop).run()
    assert result.status == "stopped" and result.step == 5
    assert eng.eval_batches == 1 and rec.evals == [] and result.best_test_ppl is None
    assert load_checkpoint(result.checkpoint).meta["step"] == 5


class PhaseRecord(Record):
    def __init__(self) -> None:
        super().__init__()
        self.phases: list[str] = []

    def on_phase(self, phase: str) -> None:
        self.phases.append(phase)


def test_the_first_evaluation_samples_and_checkpoint_come_early(tmp_path: Path) -> None:
    rec = PhaseRecord()
    cfg = fake_config(**{"train.steps": 100, "train.eval_every": 50, "train.sample_every": 50,
                         "train.checkpoint_every": 0, "train.early_eval": True})
    trainer, _ = make(cfg, tmp_path, rec)
    assert trainer.run().status == "finished"
    assert [s for s, *_ in rec.evals] == [5, 50, 100]  # 5 % of the run, then the schedule
    assert len(rec.samples) == 3 and rec.ckpts[:1] == [5]
    assert rec.phases[:5] == ["training", "evaluating", "sampling", "checkpointing", "training"]


def test_the_early_evaluation_comes_after_two_minutes_if_sooner(tmp_path, monkeypatch) -> None:
    import engine.schedule

    monkeypatch.setattr(engine.schedule, "EARLY_S", 0.0)  # "two minutes" have passed at once
    rec = Record()
    cfg = fake_config(**{"train.steps": 100, "train.eval_every": 50, "train.early_eval": True})
    trainer, _ = make(cfg, None, rec)
    trainer.run()
    assert [s for s, *_ in rec.evals] == [1, 50, 100]
