"""When the stream figure (a second full pass over the held-out set) is scored: at the run's
last evaluation by default, at every one with ``train.stream_eval=every``, never with ``off``."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_trainer_engines import config, trainer

from engine.trainer import Hooks


class Evals(Hooks):
    def __init__(self) -> None:
        self.rows: list[tuple[int, float, float | None]] = []

    def on_eval(self, p, ev) -> None:
        self.rows.append((p.step, ev.ppl, ev.stream_ppl))


@pytest.mark.parametrize(("when", "streamed"), [("final", [6]), ("every", [2, 4, 6]),
                                                 ("off", [])])
def test_the_stream_figure_is_scored_when_asked(tmp_path: Path, when: str,
                                                streamed: list[int]) -> None:
    cfg = config("numpy", **{"train.mode": "stream", "train.seq_len": 24, "train.steps": 6,
                             "train.eval_every": 2, "train.early_eval": False,
                             "train.stream_eval": when})
    hooks = Evals()
    assert trainer(cfg, tmp_path, hooks).run().status == "finished"
    assert [step for step, _, _ in hooks.rows] == [2, 4, 6]
    assert all(ppl > 1 for _, ppl, _ in hooks.rows)  # the headline, always
    assert [step for step, _, s in hooks.rows if s is not None] == streamed
