"""The training loop, engine-agnostic: batches, updates, evaluation, samples, checkpoints, guard.

One *step* is one optimizer update. With ``optim.accum = k`` a step follows k batches (the last
group of an epoch may be shorter); with ``accum = 0`` it follows the whole epoch (full-batch GD),
so an epoch of N batches has ``ceil(N / k)`` steps, or 1.

With ``train.poem_steps = k`` a stream run trains its last k updates on whole poems instead
(``train.poem_batch`` a batch, each from a zero state, padding masked): a model trained only on
the joined stream learns to open each poem with the previous one as context, which generation
never has, and this short stage closes most of the gap between its stream and per-poem figures.
The learning-rate schedule runs on over both stages.

Held-out evaluation (:mod:`engine.evaluation`) reports the per-character perplexity of each
held-out poem scored alone from a zero state (the headline ``test_ppl``, what generation sees)
and, beside it, over the poems joined into streams (``stream_ppl``)::

    test_loss = sum_t -log p(y_t | x_<=t) / n_tokens        test_ppl = exp(test_loss)

where padding and ``<bos>`` targets are never among the n_tokens (the engines mask them).

The loop checks ``stop`` before every batch and evaluation checks it between batches. An
evaluation cut short by a stop is not reported; the checkpoint records it as pending (with the
samples of that step, when due) and a resume does it first. On a stop it writes a checkpoint at
the last update
(position, weights, optimizer and RNG state, and in stream mode the recurrent state carried into
the next window, as ``carry/*`` arrays beside the optimizer slots), so a resume continues
exactly there. The guard ends the run as ``failed`` when the training loss is NaN/inf or
explodes above ``EXPLODE_FACTOR * ln V`` (a uniform guess scores ln V), or when the weights stop
being finite; it runs at every log step and before every checkpoint, and never writes the bad
weights. A training loss judges the weights of the update *before* its batches, so on a failure
the step checkpoints no passing guard has vouched for yet are removed: the last good checkpoint
stays the latest. ``sample_every = 0`` means no samples.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from engine.base import Engine
from engine.checkpoint import Checkpoint, CheckpointError, load_checkpoint
from engine.config import ConfigError, RunConfig
from engine.corpus.dataset import Dataset
from engine.evaluation import POEMS, STREAM, Evaluation, evaluate_heldout
from engine.faults import fault_point
from engine.schedule import early_due, learning_rate
from engine.trainer_ckpt import CheckpointKeeper
from engine.trainer_samples import PROMPTS, sample_poems

EXPLODE_FACTOR = 3.0  # loss above EXPLODE_FACTOR * ln(V) counts as an explosion
POEM_STAGE = "train_poems"  # the bound split of the poem-mode finishing stage
CARRY = "carry/"  # prefix of the carried stream state among a checkpoint's optimizer tensors


@dataclass
class Progress:
    """Where the run is, passed to every hook."""

    step: int  # updates done
    total_steps: int
    epoch: int  # epoch (0-based) of the latest update's batches
    batch: int  # next batch of the epoch to train (0 after an epoch's last update)
    batches_per_epoch: int
    lr: float = 0.0
    train_loss: float | None = None  # mean over the last log interval
    tokens_per_s: float | None = None  # training throughput over the last log interval
    eta_s: float | None = None
    test_loss: float | None = None  # latest evaluation, each held-out poem alone
    test_ppl: float | None = None
    stream_ppl: float | None = None  # latest evaluation over the joined stream
    best_test_ppl: float | None = None


class Hooks:
    """Callbacks of :class:`Trainer`; subclass and override what you need (all no-ops)."""

    def on_start(self, p: Progress) -> None: ...
    def on_step(self, p: Progress) -> None: ...
    def on_log(self, p: Progress) -> None: ...
    def on_eval(self, p: Progress, ev: Evaluation) -> None: ...
    def on_samples(self, p: Progress, samples: list[tuple[str, str]]) -> None: ...
    def on_checkpoint(self, p: Progress, path: Path) -> None: ...
    def on_phase(self, phase: str) -> None: ...  # training | evaluating | sampling | checkpointing


@dataclass
class TrainResult:
    status: str  # finished | stopped | failed
    reason: str | None
    step: int
    best_test_ppl: float | None
    checkpoint: Path | None = None  # the latest checkpoint written
    extra: dict[str, Any] = field(default_factory=dict)


class Trainer:
    def __init__(self, config: RunConfig, dataset: Dataset, engine: Engine,
                 run_dir: str | Path | None = None, hooks: Hooks | None = None,
                 stop: threading.Event | None = None, prompts: tuple[str, ...] = PROMPTS,
                 keeper: Any = None) -> None:
        self.config, self.data, self.engine = config, dataset, engine
        self.hooks = hooks or Hooks()
        self.stop = stop or threading.Event()
        self.prompts = prompts
        self.keeper = keeper or (CheckpointKeeper(Path(run_dir), config.train.keep_checkpoints)
                                 if run_dir is not None else None)  # a rank > 0 writes nothing
        engine.bind("train", dataset.train)
        engine.bind(STREAM, dataset.test)
        engine.bind(POEMS, dataset.test_poems if dataset.test_poems is not None else dataset.test)
        self.n_batches = dataset.train.num_batches()
        if self.n_batches == 0:
            raise ValueError("the training split has no batches")
        accum = config.optim.accum
        self.steps_per_epoch = -(-self.n_batches // accum) if accum else 1
        t = config.train
        self.total_steps = t.steps if t.steps > 0 else t.epochs * self.steps_per_epoch
        self.poem_from = self._poem_stage(dataset)  # first update of the finishing stage
        self.step, self.epoch, self.batch = 0, 0, 0  # updates done; next batch to train
        self._step_epoch = 0  # epoch of the latest update (shown in progress and metrics)
        self.best_test_ppl: float | None = None
        self.best_step: int | None = None  # the step of the evaluation `best` holds
        self._pending: list[str] = []  # "eval"/"samples" of this step cut short by a stop
        self.last_checkpoint: Path | None = None
        self.stop_reason = "stop requested"
        self._loss_sum, self._loss_n = 0.0, 0  # since the last log row
        self._best_pending = False  # the latest evaluation is the best: save `best` too
        self._checked_step = 0  # weights up to this update have passed the loss guard
        self._early_pending = config.train.early_eval  # the early evaluation is still to come
        self._phase = ""  # what the loop is doing, told to the hooks when it changes
        self.explode_at = EXPLODE_FACTOR * math.log(max(2, engine.vocab_size))

    def _poem_stage(self, dataset: Dataset) -> int | None:
        """Bind the poem-mode finishing stage's batches; the step it starts after, or None."""
        n = self.config.train.poem_steps
        if not n or self.config.train.mode != "stream":
            return None
        if n >= self.total_steps:
            raise ConfigError(f"train.poem_steps: must be below the run's {self.total_steps:,} "
                              f"updates; got {n:,}")
        poems = dataset.train_poems
        if poems is None or poems.num_batches() == 0:
            raise ValueError("the poem-mode finishing stage has no training poems short "
                             "enough")
        self.engine.bind(POEM_STAGE, poems)
        return self.total_steps - n

    def _split(self) -> tuple[str, int]:
        """The bound training split the next update reads, and its batches per epoch.

        Position (epoch, batch) always refers to that split: it restarts at (0, 0) when the
        finishing stage begins, so a checkpoint written at any step resumes in the right one."""
        if self.poem_from is not None and self.step >= self.poem_from:
            return POEM_STAGE, self.data.train_poems.num_batches()  # type: ignore[union-attr]
        return "train", self.n_batches

    # -- resume ------------------------------------------------------------------------------

    def resume(self, path: str | Path, ckpt: Checkpoint | None = None) -> None:
        """Continue from a checkpoint: weights, optimizer, RNG, step and position in the epoch.

        ``ckpt``: the checkpoint at ``path`` already loaded (a rank of a distributed run gets it
        from rank 0).
        """
        ckpt = ckpt or load_checkpoint(path)
        meta = ckpt.meta
        missing = [k for k in ("step", "epoch", "batch") if k not in meta]
        if missing:
            raise CheckpointError(f"checkpoint at {path} cannot be resumed: its meta.json lacks "
                                  f"{', '.join(map(repr, missing))}")
        if list(meta.get("vocab", [])) != list(self.data.vocab.itos):
            raise CheckpointError(f"checkpoint at {path} was trained on another vocabulary "
                                  "(the corpus or its filters changed)")
        self.engine.load_state_dict(ckpt.tensors)
        carry = {k: v for k, v in ckpt.optim_tensors.items() if k.startswith(CARRY)}
        slots = {k: v for k, v in ckpt.optim_tensors.items() if not k.startswith(CARRY)}
        if slots or ckpt.optim_meta:
            self.engine.load_optimizer_state(slots, ckpt.optim_meta)
        self.engine.set_carry_state(carry, "train")  # {} (poem mode, epoch start): none
        if meta.get("rng"):
            self.engine.set_rng_state(meta["rng"])
        self.step, self.epoch = int(meta["step"]), int(meta["epoch"])
        self.batch = int(meta["batch"])
        self._step_epoch = self.epoch - 1 if self.batch == 0 and self.epoch > 0 else self.epoch
        self.best_test_ppl = meta.get("best_test_ppl")
        self.best_step = meta.get("best_step")
        self._pending = [str(x) for x in meta.get("pending", [])]
        self.last_checkpoint = Path(path)
        self._checked_step = self.step  # the user resumes from it: never removed
        self._early_pending = self._early_pending and self.step == 0

    # -- the loop ----------------------------------------------------------------------------

    def progress(self, **extra: Any) -> Progress:
        return Progress(self.step, self.total_steps, self._step_epoch, self.batch,
                        self._split()[1], best_test_ppl=self.best_test_ppl, **extra)

    def run(self) -> TrainResult:
        tc, accum = self.config.train, self.config.optim.accum
        self.hooks.on_start(self.progress())
        if self._pending:  # an evaluation a stop cut short: do it before training on
            due, self._pending = self._pending, []
            failure = self._after_update(self.step >= self.total_steps, "eval" in due,
                                         "samples" in due)
            if failure:
                return failure
        self._set_phase("training")
        t_start, step_start = time.perf_counter(), self.step
        t_log, overhead = time.perf_counter(), 0.0  # overhead: eval, samples, checkpoints
        lr = learning_rate(self.config, self.step, self.total_steps)
        pending = 0  # batches accumulated since the last update
        while self.step < self.total_steps:
            i = self.batch + pending
            if self.stop.is_set():
                return self._stopped()
            split, n_batches = self._split()
            self.engine.train_batch(split, self.epoch, i)
            pending += 1
            if not ((accum and pending == accum) or i == n_batches - 1):
                continue
            lr = learning_rate(self.config, self.step, self.total_steps)
            self.engine.apply_update(lr)
            self.step += 1
            self._step_epoch = self.epoch
            self.batch += pending
            pending = 0
            if self.batch >= n_batches:
                self.epoch, self.batch = self.epoch + 1, 0
            if self.step == self.poem_from:  # the finishing stage starts at its own beginning
                self.epoch, self.batch = 0, 0
            done = self.step >= self.total_steps
            elapsed = time.perf_counter() - t_start
            eta = elapsed / (self.step - step_start) * (self.total_steps - self.step)
            self.hooks.on_step(self.progress(lr=lr, eta_s=eta))
            if self.step % tc.log_every == 0 or done:
                failure = self._log(lr, eta, time.perf_counter() - t_log - overhead)
                if failure:
                    return failure
                t_log, overhead = time.perf_counter(), 0.0
            t0 = time.perf_counter()
            early = self._early_pending and early_due(self.step, self.total_steps, t0 - t_start)
            self._early_pending = self._early_pending and not early
            failure = self._after_update(done, early=early)
            if failure:
                return failure
            overhead += time.perf_counter() - t0
        if self.last_checkpoint is None or self._ckpt_step() != self.step:
            failure = self._save()
            if failure:
                return failure
        return TrainResult("finished", None, self.step, self.best_test_ppl, self.last_checkpoint)

    # -- pieces ------------------------------------------------------------------------------

    def _set_phase(self, phase: str) -> None:
        self._phase = phase
        self.hooks.on_phase(phase)

    def _after_update(self, done: bool, eval_due: bool | None = None,
                      samples_due: bool | None = None, early: bool = False
                      ) -> TrainResult | None:
        """Evaluation, samples and checkpoint due at this step (by the config unless given;
        ``early``: the early first round); a TrainResult when the run ends here (a failure,
        or a stop during the evaluation). Each part is told to the hooks as a phase."""
        tc = self.config.train
        if eval_due is None:
            eval_due = bool(tc.eval_every and (self.step % tc.eval_every == 0 or early)) or done
        if samples_due is None:
            samples_due = bool(tc.sample_every and (self.step % tc.sample_every == 0 or done
                                                    or early))
        failure = None
        if eval_due:
            self._set_phase("evaluating")
            failure = self._evaluate()
            if failure:
                return failure
            if self.stop.is_set():  # cut short: not reported, redone on resume
                self._pending = ["eval", *(["samples"] if samples_due else [])]
                return self._stopped()
        if samples_due:
            self._set_phase("sampling")
            self.hooks.on_samples(self.progress(), self.samples())
        if (tc.checkpoint_every and (self.step % tc.checkpoint_every == 0 or early)) or eval_due:
            self._set_phase("checkpointing")
            failure = self._save()
        if self._phase != "training" and failure is None:
            self._set_phase("training")
        return failure

    def _take_train_loss(self) -> TrainResult | None:
        """Guard the engine's loss since the last check, then add it to the log interval's."""
        loss_sum, n = self.engine.pop_train_loss()
        self._loss_sum += loss_sum
        self._loss_n += n
        return self._guard(loss_sum / n) if n else None

    def _log(self, lr: float, eta: float, train_time: float) -> TrainResult | None:
        bad = self._take_train_loss()
        if bad:
            return bad
        loss = self._loss_sum / max(1, self._loss_n)
        tps = self._loss_n / train_time if train_time > 0 else None
        self._loss_sum, self._loss_n = 0.0, 0
        self.hooks.on_log(self.progress(lr=lr, train_loss=loss, tokens_per_s=tps, eta_s=eta))
        return None

    def _guard(self, loss: float) -> TrainResult | None:
        """Check the mean training loss since the last check (at a log step or a checkpoint);
        its batches used the weights of the updates up to ``step - 1``."""
        if math.isfinite(loss) and loss <= self.explode_at:
            self._checked_step = max(self._checked_step, self.step - 1)
            return None
        what = f"loss is {loss}" if not math.isfinite(loss) else \
            f"loss exploded to {loss:.3g} (> {self.explode_at:.3g} = {EXPLODE_FACTOR:g} ln V)"
        clip = self.config.optim.clip
        hint = f"lower optim.lr or optim.clip (now {clip:g})" if clip > 0 else \
            "lower optim.lr or set optim.clip (e.g. 5)"
        return self._failed(f"{what} at step {self.step}; {hint}")

    def _failed(self, reason: str) -> TrainResult:
        if self.keeper is not None and self.keeper.discard_after(self._checked_step):
            self.last_checkpoint = self.keeper.latest()
        kept = self._ckpt_step()
        reason += f"; kept the checkpoint of step {kept}" if kept is not None else \
            "; no good checkpoint is kept"
        return TrainResult("failed", reason, self.step, self.best_test_ppl, self.last_checkpoint)

    def _evaluate(self) -> TrainResult | None:
        fault_point("eval", self.step)
        ev = evaluate_heldout(self.engine, self.config.train.eval_batches, stop=self.stop.is_set)
        if ev is None:
            return None  # partial: the caller stops
        if not math.isfinite(ev.loss):
            return self._failed(f"test loss is {ev.loss} at step {self.step}; lower optim.lr")
        if self.best_test_ppl is None or ev.ppl < self.best_test_ppl:
            self.best_test_ppl = ev.ppl
            self._best_pending = True
        p = self.progress(test_loss=ev.loss, test_ppl=ev.ppl, stream_ppl=ev.stream_ppl)
        self.hooks.on_eval(p, ev)
        return None

    def samples(self, max_len: int = 48) -> list[tuple[str, str]]:
        """A few short poems from the fixed first characters (same seed at the same step)."""
        rng = np.random.default_rng((self.config.train.seed, self.step))
        return sample_poems(self.engine, self.data.vocab, self.prompts, rng, max_len)

    def _ckpt_step(self) -> int | None:
        if self.last_checkpoint is None:
            return None
        name = self.last_checkpoint.name
        return int(name.split("-")[1]) if name.startswith("step-") else self.step

    def _save(self) -> TrainResult | None:
        best, self._best_pending = self._best_pending, False
        if self.keeper is None:
            return None
        if best:
            self.best_step = self.step
        bad_loss = self._take_train_loss()  # checkpoints may fall between log steps
        if bad_loss:
            return bad_loss
        tensors = self.engine.state_dict()
        bad = [k for k, v in tensors.items() if not np.all(np.isfinite(v))]
        if bad:
            return self._failed(f"weights {bad[0]} are not finite at step {self.step}")
        optim_tensors, optim_meta = self.engine.optimizer_state()
        optim_tensors = {**optim_tensors, **self.engine.carry_state("train")}
        meta = {"engine": self.engine.name, "config": self.config.to_dict(),
                "vocab": list(self.data.vocab.itos), "script": self.config.corpus.script,
                "step": self.step, "epoch": self.epoch, "batch": self.batch,
                "total_steps": self.total_steps, "rng": self.engine.rng_state(),
                "best_test_ppl": self.best_test_ppl, "best_step": self.best_step,
                "pending": self._pending, "saved": time.time()}
        ckpt = Checkpoint(tensors, meta, optim_tensors, optim_meta)
        try:
            self.last_checkpoint = self.keeper.save(ckpt, self.step, best=best)
        except CheckpointError as exc:  # a full disk: fail with the reason, keep the last one
            return self._failed(str(exc).replace("; the previous checkpoint is kept", ""))
        self.hooks.on_checkpoint(self.progress(), self.last_checkpoint)
        return None

    def _stopped(self) -> TrainResult:
        if self.last_checkpoint is None or self._ckpt_step() != self.step:
            failure = self._save()
            if failure:
                return failure
        return TrainResult("stopped", self.stop_reason, self.step, self.best_test_ppl,
                           self.last_checkpoint)
