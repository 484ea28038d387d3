"""Learning-rate schedules: warm-up, cosine from lr to exactly min_lr, step decay."""

from __future__ import annotations

import math

import pytest
from trainer_fakes import fake_config

from engine.schedule import learning_rate


def rates(total: int, **train: object) -> list[float]:
    cfg = fake_config(**{"optim.lr": 0.4, **{f"train.{k}": v for k, v in train.items()}})
    return [learning_rate(cfg, t, total) for t in range(total)]


def test_warmup_ramps_linearly_to_the_peak() -> None:
    lrs = rates(10, warmup=4)
    assert lrs[:4] == pytest.approx([0.1, 0.2, 0.3, 0.4])
    assert lrs[4:] == pytest.approx([0.4] * 6)  # constant after it


def test_cosine_starts_at_the_peak_and_its_last_update_reaches_min_lr() -> None:
    lrs = rates(11, schedule="cosine", warmup=2, min_lr=0.04)
    assert lrs[:3] == pytest.approx([0.2, 0.4, 0.4])  # warm-up, then the cosine at the peak
    assert lrs[-1] == pytest.approx(0.04, abs=1e-15)  # the last update, t = total - 1
    assert lrs[6] == pytest.approx((0.4 + 0.04) / 2)  # half-way through the 9 decay updates
    assert all(a > b for a, b in zip(lrs[2:], lrs[3:], strict=False))
    cos = [0.04 + 0.36 * (1 + math.cos(math.pi * (t - 2) / 8)) / 2 for t in range(2, 11)]
    assert lrs[2:] == pytest.approx(cos)


def test_cosine_without_warmup_and_with_no_room_to_decay() -> None:
    lrs = rates(5, schedule="cosine", min_lr=0.0)
    assert lrs[0] == pytest.approx(0.4) and lrs[-1] == pytest.approx(0.0, abs=1e-15)
    assert rates(1, schedule="cosine", min_lr=0.1) == pytest.approx([0.4])
    assert rates(3, schedule="cosine", warmup=2, min_lr=0.1) == pytest.approx([0.2, 0.4, 0.4])
    cfg = fake_config(**{"optim.lr": 0.4, "train.schedule": "cosine", "train.min_lr": 0.1})
    assert learning_rate(cfg, 7, 5) == pytest.approx(0.1)  # past the end: stays at the floor


def test_step_schedule_decays_every_step_every_updates_after_warmup() -> None:
    lrs = rates(9, schedule="step", warmup=1, step_every=3, gamma=0.5)
    assert lrs == pytest.approx([0.4, 0.4, 0.4, 0.4, 0.2, 0.2, 0.2, 0.1, 0.1])


def test_early_evaluation_schedule() -> None:
    from engine.schedule import early_due, early_step, next_eval_step

    assert early_step(4000) == 200 and early_step(10) == 1
    assert not early_due(199, 4000, 119.0) and early_due(200, 4000, 0.0)
    assert early_due(3, 4000, 120.0)  # two minutes, whichever first
    assert next_eval_step(0, 4000, 1000, True) == 200
    assert next_eval_step(200, 4000, 1000, False) == 1000
    assert next_eval_step(3999, 4000, 1000, False) == 4000
    assert next_eval_step(4000, 4000, 1000, False) is None
    assert next_eval_step(5, 4000, 0, False) == 4000
