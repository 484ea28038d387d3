"""The poem-mode finishing stage of a stream run (``train.poem_steps``): its last updates read
whole poems from a zero state, and a stop on either side of the switch resumes exactly."""

from __future__ import annotations

import re
import threading
from pathlib import Path

import numpy as np
import pytest
from test_trainer_engines import StopAt, config, trainer
from trainer_fakes import fake_config

from engine.config import ConfigError
from engine.corpus.dataset import POEM_STAGE_LEN, build_dataset
from engine.presets import build_config
from engine.trainer import POEM_STAGE
from engine.trainer_ckpt import CheckpointKeeper

STAGE = {"train.mode": "stream", "train.seq_len": 24, "train.epochs": 1, "train.steps": 12,
         "train.poem_steps": 4, "train.poem_batch": 5}


def test_the_last_updates_read_whole_poems_from_their_own_start(tmp_path: Path) -> None:
    t = trainer(config("numpy", **STAGE), tmp_path)
    calls: list[tuple[str, int, int]] = []
    train_batch = t.engine.train_batch
    t.engine.train_batch = lambda key, e, i: (calls.append((key, e, i)), train_batch(key, e, i))
    assert t.run().status == "finished"
    assert [c[0] for c in calls] == ["train"] * 8 + [POEM_STAGE] * 4
    n = t.data.train_poems.num_batches()
    assert [c[1:] for c in calls[8:]] == [(k // n, k % n) for k in range(4)]
    _, y, mask = t.data.train_poems.batch(0, 0)
    assert mask.sum() == (y != 0).sum() < y.size or mask.all()  # padding masked, poems whole


@pytest.mark.parametrize("at", [8, 9], ids=["at-the-switch", "inside-the-stage"])
def test_a_stop_around_the_switch_resumes_as_an_unbroken_run(tmp_path: Path, at: int) -> None:
    cfg = config("numpy", **STAGE)
    full = trainer(cfg, tmp_path / "full")
    assert full.run().status == "finished"
    stop = threading.Event()
    assert trainer(cfg, tmp_path / "cut", StopAt(at, stop), stop).run().status == "stopped"
    second = trainer(cfg, tmp_path / "cut")
    second.resume(CheckpointKeeper(tmp_path / "cut").latest())
    assert second.run().status == "finished"
    a, b = full.engine.state_dict(), second.engine.state_dict()
    for name in a:
        np.testing.assert_allclose(b[name], a[name], rtol=1e-5, atol=1e-6, err_msg=name)


@pytest.mark.parametrize(("extra", "says"), [
    ({"train.mode": "poem"}, "needs train.mode=stream"),
    ({"train.steps": 4}, "must be below train.steps (4)"),
    ({"optim.accum": "full"}, "full-batch updates"),
])
def test_a_finishing_stage_that_cannot_run_is_refused(extra: dict, says: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(says)):
        fake_config(**{**STAGE, **extra}).validate()


def test_a_stage_as_long_as_an_epochs_run_is_refused(tmp_path: Path) -> None:
    cfg = config("numpy", **{**STAGE, "train.steps": 0, "train.poem_steps": 1000})
    with pytest.raises(ConfigError, match="must be below the run's 9 updates"):
        trainer(cfg, tmp_path)


def test_the_dataset_builds_the_stage_from_the_training_poems() -> None:
    cfg = build_config("tiny", overrides=["train.poem_steps=5", "train.poem_batch=16"])
    data = build_dataset(cfg)
    stage = data.train_poems
    assert stage is not None and stage.mode == "poem" and stage.batch_size == 16
    assert len(stage.lengths) + stage.dropped == data.info["train_poems"]
    assert int(stage.lengths.max()) <= POEM_STAGE_LEN
    assert data.info["poem_stage_batches"] == stage.num_batches() > 0
    assert build_dataset(build_config("tiny")).train_poems is None
