"""A stored experiment with made-up, deterministic rows (for the Lab pane's tests)."""

from __future__ import annotations

import math
from typing import Any
from unittest import mock

from engine.config import INITS
from engine.lab.scales import base_config
from tangtui.runs.rows import EvalRow, MetricRow
from tangtui.runs.store import Store


def fake_init_experiment(store: Store, exp_id: str = "init-000001") -> str:
    """An ``init`` experiment at scale tiny, one seed, finished, with probes at steps 0..6."""
    with mock.patch("tangtui.runs.experiments.secrets.token_hex", return_value=exp_id[5:]):
        exp = store.create_experiment("init", "tiny", 1, {})
    for k, scheme in enumerate(INITS):
        cfg = base_config("tiny", {"model.init": scheme})
        run = store.create_run(cfg.to_dict(), name=f"{exp.id}.{scheme}.s0")
        store.add_member(exp.id, f"{scheme}/s0", run.id, scheme, 0, "main", True)
        rate = 0.0 if scheme == "zeros" else 0.05 * (k + 1)
        store.add_metrics(run.id, [MetricRow(s, 0, 6.5 - rate * s, 1e-2, 1000.0, 1.0 * s)
                                   for s in range(1, 7)])
        ppl = math.exp(6.5 - rate * 6)
        store.add_eval(run.id, EvalRow(6, 0, math.log(ppl), ppl, 100, 7.0))
        for s in range(7):
            cos = 1.0 if scheme == "zeros" else 0.2 + 0.05 * k + 0.01 * s
            values: dict[str, Any] = {
                "max_cos": cos, "erank": 0.0 if scheme == "zeros" else 3.0 + 0.2 * s,
                "saturation": {g: 0.01 * k for g in ("i", "f", "g", "o", "tanh_c")}}
            if s in (0, 6):
                values.update({f"hist_{g}": [i % 5 + k for i in range(20)]
                               for g in ("i", "f", "g", "o", "tanh_c")})
            store.add_probes(run.id, s, values)
        store.update_run(run.id, status="finished", step=6, total_steps=6,
                         info={"dataset": {"vocab_size": 665, "train_tokens": 1400,
                                           "train_batches": 24}})
    store.update_experiment(exp.id, status="finished", ended="2026-01-01T00:00:00+00:00")
    return exp.id
