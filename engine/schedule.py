"""Learning-rate schedules: constant, cosine and step decay, each after a linear warm-up.

For update number ``t`` (0-based) of ``total`` updates, peak rate ``lr`` and warm-up ``w``::

    warm-up    lr_t = lr * (t + 1) / w                                    for t < w
    constant   lr_t = lr
    cosine     lr_t = min_lr + (lr - min_lr) * (1 + cos(pi * p)) / 2,  p = (t - w) / (total - 1 - w)
    step       lr_t = lr * gamma ** floor((t - w) / step_every)

so the warm-up's last update (t = w - 1) runs at ``lr``, the cosine starts there at ``lr``
(t = w) and its last update (t = total - 1) runs at exactly ``min_lr``. With a single update
after the warm-up the cosine has no room to fall, and that update uses ``lr``.

The evaluation schedule: every ``eval_every`` updates and at the end, plus (``early_eval``) one
early evaluation, sample round and checkpoint after ``EARLY_SHARE`` of the run or ``EARLY_S``
seconds of training, whichever comes first, so a run is never blind for its first quarter.
"""

from __future__ import annotations

import math

from engine.config import RunConfig


def learning_rate(config: RunConfig, t: int, total: int) -> float:
    """The rate of update ``t`` (0-based) in a run of ``total`` updates."""
    o, tc = config.optim, config.train
    lr, w = o.lr, tc.warmup
    if t < w:
        return lr * (t + 1) / w
    if tc.schedule == "cosine":
        span = total - 1 - w  # updates w .. total - 1 span p = 0 .. 1
        p = min(1.0, (t - w) / span) if span > 0 else 0.0
        return tc.min_lr + (lr - tc.min_lr) * 0.5 * (1.0 + math.cos(math.pi * p))
    if tc.schedule == "step":
        return lr * tc.gamma ** ((t - w) // max(1, tc.step_every))
    return lr


EARLY_SHARE = 0.05  # the early evaluation comes after this share of the run's updates...
EARLY_S = 120.0  # ...or after this many seconds of training, whichever is first


def early_step(total: int) -> int:
    """The update after which the early evaluation is due (5 % of the run, at least 1)."""
    return max(1, math.ceil(EARLY_SHARE * total))


def early_due(step: int, total: int, elapsed_s: float) -> bool:
    """True once the early evaluation is due: 5 % of the updates done or EARLY_S seconds."""
    return step >= early_step(total) or elapsed_s >= EARLY_S


def next_eval_step(step: int, total: int, eval_every: int, early_pending: bool) -> int | None:
    """The update of the next scheduled evaluation after ``step`` (None when none is left);
    with ``early_pending`` the early one counts (its time rule may bring it sooner)."""
    if step >= total:
        return None
    due = [total]
    if eval_every > 0:
        due.append((step // eval_every + 1) * eval_every)
    if early_pending:
        due.append(max(step + 1, early_step(total)))
    return min(due)
