"""The Torch engine on 2 gloo processes equals one process with the whole batch (CPU, fork)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from dist_harness import run_ranks
from trainer_fakes import fake_config, tiny_dataset

pytest.importorskip("torch")

from engine.base import create_engine  # noqa: E402
from engine.trainer import Hooks, Trainer  # noqa: E402


def config(mode: str, softmax: str = "full"):
    # 36 training poems in groups of 5: the last poem group has one row, so in poem mode rank 0's
    # share of it is empty (it trains on an all-padding row); the 3 held-out poems split 1 + 2.
    return fake_config(**{"engine": "torch", "optim.name": "sgd", "optim.lr": 0.5,
                          "optim.clip": 1.0, "train.precision": "fp64", "train.device": "cpu",
                          "train.mode": mode, "train.batch_size": 5,
                          "train.seq_len": 8 if mode == "stream" else 64, "train.steps": 9,
                          "train.eval_every": 4, "train.sample_every": 0,
                          "train.checkpoint_every": 0, "train.log_every": 2,
                          "model.softmax": softmax, "model.cutoffs": "8,20",
                          "train.stream_eval": "every"})


class Record(Hooks):
    def __init__(self) -> None:
        self.rows: list[float] = []

    def on_log(self, p) -> None:
        self.rows.append(p.train_loss)

    def on_eval(self, p, ev) -> None:  # per poem (the headline) and over the stream
        self.rows += [ev.loss, ev.ppl, ev.tokens, ev.stream_loss, ev.stream_ppl, ev.stream_tokens]


def train(rank: int, out: Path, mode: str, softmax: str = "full") -> None:
    cfg = config(mode, softmax)
    data = tiny_dataset(cfg)
    engine = create_engine(cfg, len(data.vocab))  # DDP on a rank, plain in one process
    hooks = Record()
    assert Trainer(cfg, data, engine, hooks=hooks).run().status == "finished"
    np.savez(out / f"rank{rank}.npz", **engine.state_dict(), rows=np.array(hooks.rows))


@pytest.mark.parametrize("mode, softmax", [("stream", "full"), ("poem", "adaptive")])
def test_two_ranks_equal_one_process_with_twice_the_batch(tmp_path: Path, mode: str,
                                                          softmax: str) -> None:
    train(-1, tmp_path, mode, softmax)  # this process: the whole batch of 5 rows (and torch
    run_ranks(train, 2, (tmp_path, mode, softmax), timeout=120)  # warmed up for the forks)
    r0, r1, one = (np.load(tmp_path / f"rank{r}.npz") for r in (0, 1, -1))
    for name in r0.files:
        if name != "rows":
            assert np.array_equal(r0[name], r1[name]), f"{name} differs between the ranks"
        # logged train loss, held-out loss and token count: those of the whole batch and split
        np.testing.assert_allclose(r0[name], one[name], rtol=1e-10, atol=1e-12, err_msg=name)
    assert len(r0["rows"]) == 5 + 3 * 6  # log rows at steps 2, 4, 6, 8, 9; evals at 4, 8, 9
