"""One rank of a run trained by N processes (started by torchrun).

Rank 0 is the run's trainer as in one process (:func:`tangtui.runs.runner.execute`: the lock,
the store, heartbeats, checkpoints, samples), and sends the others what they need, so they never
touch the store and may run on machines without it:

1. the *plan*: the run's config and vocabulary (JSON), then every rank picks its device;
2. the checkpoint a resume starts from (weights, optimizer, carried state, position), which every
   rank loads;
3. at every stop check, whether any rank was asked to stop (:class:`CollectiveStop`).

The other ranks (:func:`follow`) build the same dataset and engine and run the same
:class:`~engine.trainer.Trainer` loop with a keeper that writes nothing and no hooks.
"""

from __future__ import annotations

import threading
from typing import Any

from engine.base import create_engine
from engine.checkpoint import load_checkpoint
from engine.config import RunConfig
from engine.torch_engine import distributed
from engine.torch_engine.dist_engine import FollowerKeeper
from engine.trainer import Hooks, Trainer, TrainResult


def send_plan(ctx: distributed.DistContext, config: RunConfig, vocab: list[str],
              resume: bool) -> None:
    """Rank 0: the config and vocabulary every rank builds its dataset and engine from."""
    distributed.broadcast_json(ctx, {"config": config.to_dict(), "vocab": vocab,
                                     "resume": resume})
    config.train.device = distributed.use_device(ctx, config.train.device, config.train.backend)


def send_checkpoint(ctx: distributed.DistContext, trainer: Trainer, path: Any) -> None:
    """Rank 0: load the checkpoint once, send it to every rank, resume from it."""
    ckpt = load_checkpoint(path)
    distributed.broadcast_checkpoint(ctx, ckpt)
    trainer.resume(path, ckpt)


def follow(ctx: distributed.DistContext) -> TrainResult:
    """A rank other than 0: receive the plan, train in step with rank 0, write nothing."""
    from engine.corpus import Vocab, build_dataset
    from engine.corpus.loader import load_corpus
    from tangtui.runs.signals import install_signals

    local_stop = threading.Event()
    restore = install_signals(local_stop, quiet=True)
    try:
        plan = distributed.broadcast_json(ctx)
        config = RunConfig.from_dict(plan["config"]).validate()
        config.train.device = distributed.use_device(ctx, config.train.device,
                                                     config.train.backend)
        dataset = build_dataset(config, load_corpus(config.corpus.script),
                                vocab=Vocab(list(plan["vocab"])))
        engine = create_engine(config, len(dataset.vocab))
        trainer = Trainer(config, dataset, engine, hooks=Hooks(),
                          stop=distributed.CollectiveStop(local_stop, ctx),  # type: ignore[arg-type]
                          keeper=FollowerKeeper())
        if plan["resume"]:
            trainer.resume("(rank 0's checkpoint)", distributed.broadcast_checkpoint(ctx, None))
        return trainer.run()
    finally:
        import signal

        for sig, handler in restore.items():
            signal.signal(sig, handler)
