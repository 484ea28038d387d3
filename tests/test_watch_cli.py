"""`tangtui watch` and `tangtui metrics` on a finished run written straight into a real store."""

from __future__ import annotations

import json
import time

from tangtui.cli import main
from tangtui.runs.rows import EvalRow, MetricRow
from tangtui.runs.store import Store


def _finished_run(store: Store) -> str:
    run = store.create_run({"engine": "numpy"}, name="w")
    now = time.time()
    store.add_metrics(run.id, [MetricRow(s, 0, 6.0 - s / 100, 1e-3, 100.0, now)
                               for s in (10, 20, 30)])
    for step, ppl in ((10, 300.0), (20, 200.0), (30, 250.0)):
        store.add_eval(run.id, EvalRow(step, 0, float(ppl), ppl, 1000, now))
    store.update_run(run.id, status="finished", step=30)
    return run.id


def test_watch_shows_the_best_so_far_and_epochs_from_one(capsys):
    with Store() as store:
        _finished_run(store)
    assert main(["watch", "w", "--no-samples", "--json"]) == 0
    events = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    evals = [e for e in events if e["type"] == "eval"]
    assert [e["best_test_ppl"] for e in evals] == [300.0, 200.0, 200.0]
    assert {e["epoch"] for e in events if e["type"] in ("train", "eval")} == {1}
    assert events[-1]["type"] == "end" and events[-1]["status"] == "finished"
    assert main(["metrics", "w", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["step"] for r in rows] == [10, 20, 30] and {r["epoch"] for r in rows} == {1}
