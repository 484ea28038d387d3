"""Held-out evaluation: the headline per-poem perplexity and the stream figure beside it.

Both are per character, over the held-out poems, with padding never counted::

    ppl = exp( sum over counted targets of -log p(y_t | x_<=t) / number of counted targets )

- **per poem** (the headline, what generation sees): each poem scored alone from a zero state,
  ``<bos> poem <eos>``: ``<bos>`` is the first input and never a target, ``<eos>`` is a target.
- **stream**: the poems joined as ``<bos> poem <eos> <bos> ...`` and read in windows with the
  state carried, so a poem's first characters are predicted with the previous poem as context
  (often by the same author); the certain ``<bos>`` after ``<eos>`` is not a target. Lower than
  the per-poem figure, and not what a poet starting from nothing achieves.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

POEMS, STREAM = "test_poems", "test"  # the engine keys the trainer binds the two splits under


@dataclass
class Evaluation:
    loss: float  # mean -log p per counted character, each poem alone (nats)
    ppl: float  # exp(loss): the headline perplexity
    tokens: int  # counted targets
    stream_loss: float | None = None  # the same over the concatenated stream
    stream_ppl: float | None = None
    stream_tokens: int = 0


def _ppl(loss: float) -> float:
    return math.exp(min(loss, 700.0))


def evaluate_heldout(engine: Any, max_batches: int = 0, stop: Callable[[], bool] | None = None,
                     stream: bool = True) -> Evaluation | None:
    """Score the bound ``test_poems`` (and ``test`` stream) splits; None when ``stop`` cut in."""
    loss_sum, n = engine.evaluate(POEMS, max_batches, stop=stop)
    if stop is not None and stop():
        return None
    loss = loss_sum / max(1, n)
    ev = Evaluation(loss, _ppl(loss), n)
    if stream:
        s_sum, s_n = engine.evaluate(STREAM, max_batches, stop=stop)
        if stop is not None and stop():
            return None
        ev.stream_loss = s_sum / max(1, s_n)
        ev.stream_ppl, ev.stream_tokens = _ppl(ev.stream_loss), s_n
    return ev
