"""``tangtui watch``: a plain-text live view of a run, polling the store.

Prints each new log row, evaluation and sample round as a line (or a JSON object per line with
``--json``: ``{"type": "train"|"eval"|"samples"|"resumed"|"end", ...}``), and returns when the run
ends: 0 when it finished or stopped, 1 when it failed or its trainer died.
"""

from __future__ import annotations

import json
import math
import sys
import time
from typing import Any

from tangtui.runs.store import Store


def _emit(obj: dict[str, Any], text: str, as_json: bool) -> None:
    sys.stdout.write((json.dumps(obj, ensure_ascii=False) if as_json else text) + "\n")
    sys.stdout.flush()


def watch(store: Store, run_id: str, *, interval: float = 1.0, as_json: bool = False,
          samples: bool = True) -> int:
    run = store.get_run(run_id)
    if not as_json:
        total = f" of {run.total_steps:,}" if run.total_steps else ""
        print(f"run {run.name} ({run.engine}, {run.display_status}) at step {run.step:,}{total}",
              flush=True)
    seen_train = seen_eval = seen_sample = -1
    best: float | None = None  # best test perplexity up to the latest printed evaluation
    attempt = run.attempt
    while True:
        run = store.get_run(run_id)
        live = run.liveness()
        if run.attempt != attempt:  # resumed: rows after the checkpoint were dropped
            attempt = run.attempt
            back = run.checkpoint_step or 0
            seen_train, seen_eval, seen_sample = (min(s, back) for s in
                                                  (seen_train, seen_eval, seen_sample))
            kept = [e.test_ppl for e in store.evals(run_id) if e.step <= back]
            best = min(kept) if kept else None
            _emit({"type": "resumed", "step": back}, f"resumed from step {back:,}", as_json)
        for m in store.metrics(run_id, seen_train):
            seen_train = m.step
            ppl = math.exp(min(m.train_loss, 700)) if m.train_loss is not None else None
            tps = f"  {m.tokens_per_s:,.0f} tok/s" if m.tokens_per_s else ""
            _emit({"type": "train", "step": m.step, "epoch": m.epoch + 1,
                   "train_loss": m.train_loss,
                   "train_ppl": ppl, "lr": m.lr, "tokens_per_s": m.tokens_per_s},
                  f"step {m.step:>7,}  epoch {m.epoch + 1}  loss {m.train_loss:.4f}  "
                  f"ppl {ppl:.2f}  lr {m.lr:.3g}{tps}", as_json)
        for e in store.evals(run_id, seen_eval):
            seen_eval = e.step
            best = e.test_ppl if best is None else min(best, e.test_ppl)
            stream = f"  stream {e.stream_ppl:.2f}" if e.stream_ppl is not None else ""
            _emit({"type": "eval", "step": e.step, "epoch": e.epoch + 1, "test_loss": e.test_loss,
                   "test_ppl": e.test_ppl, "stream_ppl": e.stream_ppl, "best_test_ppl": best},
                  f"eval    {e.step:>7,}  held-out ppl {e.test_ppl:.2f} per poem  (best "
                  f"{best:.2f}){stream}", as_json)
        latest = store.latest_samples(run_id) if samples else []
        if latest and latest[0].step > seen_sample:
            seen_sample = latest[0].step
            _emit({"type": "samples", "step": seen_sample,
                   "samples": [s.text for s in latest]},
                  "\n".join(f"  {s.text}" for s in latest), as_json)
        if live != "alive":
            status = "dead" if live == "dead" else run.status
            why = f": {run.reason}" if run.reason else ""
            if live == "dead":
                why = " (its trainer died; continue with `tangtui resume`)"
            _emit({"type": "end", "status": status, "step": run.step, "reason": run.reason,
                   "best_test_ppl": run.best_test_ppl},
                  f"run {run.name} {status} at step {run.step:,}{why}", as_json)
            return 0 if status in ("finished", "stopped") else 1
        time.sleep(interval)
