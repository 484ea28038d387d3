"""The trainer with the real engines: learning, and a resume that equals an unbroken run."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest
from trainer_fakes import fake_config, tiny_dataset

from engine.base import create_engine
from engine.checkpoint import load_checkpoint
from engine.trainer import Hooks, Trainer
from engine.trainer_ckpt import CheckpointKeeper

ENGINES = ["numpy", pytest.param("torch", marks=pytest.mark.slow)]


def config(engine: str, **extra):
    base = {"engine": engine, "model.embed_dim": 12, "model.hidden_dim": 12,
            "model.dropout": 0.2, "model.layers": 2, "optim.name": "adam", "optim.lr": 0.02,
            "train.mode": "poem", "train.seq_len": 40, "train.batch_size": 4,
            "train.epochs": 2, "train.eval_every": 0, "train.checkpoint_every": 0,
            "train.sample_every": 0, "train.log_every": 1, "train.device": "cpu"}
    return fake_config(**{**base, **extra})


def trainer(cfg, run_dir: Path, hooks=None, stop=None) -> Trainer:
    ds = tiny_dataset(cfg)
    return Trainer(cfg, ds, create_engine(cfg, len(ds.vocab)), run_dir, hooks, stop)


class StopAt(Hooks):
    def __init__(self, step: int, stop: threading.Event) -> None:
        self.step, self.stop = step, stop

    def on_step(self, p) -> None:
        if p.step == self.step:
            self.stop.set()


@pytest.fixture
def one_thread():
    """On a loaded 2-core box torch's spinning intra-op threads slow tiny LSTMs ~50x."""
    torch = pytest.importorskip("torch")
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.mark.parametrize("mode", ["poem", "stream"])
@pytest.mark.parametrize("engine", ENGINES)
def test_resume_continues_exactly_where_it_stopped(tmp_path: Path, engine: str, mode: str,
                                                   request: pytest.FixtureRequest) -> None:
    """Stop mid-epoch, resume: the same weights as an unbroken run (in stream mode this needs
    the recurrent state carried into the next window, saved with the checkpoint)."""
    if engine == "torch":
        request.getfixturevalue("one_thread")
    cfg = config(engine, **({"train.seq_len": 24, "optim.accum": 2} if mode == "stream" else {}),
                 **{"train.mode": mode})
    full = trainer(cfg, tmp_path / "full")
    assert full.run().status == "finished"

    stop = threading.Event()
    first = trainer(cfg, tmp_path / "cut", StopAt(7, stop), stop)  # mid-epoch (9 per epoch)
    assert first.run().status == "stopped"
    assert 0 < first.batch < first.n_batches
    latest = CheckpointKeeper(tmp_path / "cut").latest()
    carry = [k for k in load_checkpoint(latest).optim_tensors if k.startswith("carry/")]
    assert len(carry) == (4 if mode == "stream" else 0)  # (h, c) of 2 layers
    second = trainer(cfg, tmp_path / "cut")
    second.resume(latest)
    assert second.run().status == "finished"

    a, b = full.engine.state_dict(), second.engine.state_dict()
    for name in a:
        np.testing.assert_allclose(b[name], a[name], rtol=1e-5, atol=1e-6, err_msg=name)
    assert full.engine.evaluate("test") == pytest.approx(second.engine.evaluate("test"))


def test_numpy_engine_learns_and_samples(tmp_path: Path) -> None:  # torch: test_runs_cli
    cfg = config("numpy", **{"train.epochs": 4, "train.eval_every": 9, "model.dropout": 0.0,
                            "model.layers": 1, "train.sample_every": 36})
    evals: list[float] = []
    samples: list = []

    class Rec(Hooks):
        def on_eval(self, p, ev) -> None:
            evals.append(ev.ppl)

        def on_samples(self, p, s) -> None:
            samples.append(s)

    t = trainer(cfg, tmp_path, Rec())
    assert t.run().status == "finished"
    assert evals[-1] < evals[0] * 0.7
    assert [p for p, _ in samples[-1]] == ["春", "月", "山", "风"]
