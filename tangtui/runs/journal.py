"""A run folder's own record of its history: ``<run dir>/history.jsonl``.

The store is the index viewers poll; the journal is what survives when ``tangtui.db`` is lost
(``tangtui rebuild`` reads it back). One JSON object per line, appended by the trainer as it
logs: ``{"kind": "metric", "step", "epoch", "train_loss", "lr", "tokens_per_s", "time"}`` or
``{"kind": "eval", "step", "epoch", "test_loss", "test_ppl", "tokens", "time", ...}``. A resumed
run appends again from its checkpoint, so a reader keeps the last line of each step. Writing
never fails a run: a full disk only stops the journal (said once in the log).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, is_dataclass
from pathlib import Path
from typing import Any

NAME = "history.jsonl"


class Journal:
    def __init__(self, run_dir: Path, say: Callable[[str], None]) -> None:
        self.path, self.say, self._broken = Path(run_dir) / NAME, say, False

    def append(self, kind: str, row: Any) -> None:
        if self._broken:
            return
        data = asdict(row) if is_dataclass(row) and not isinstance(row, type) else dict(row)
        try:
            with open(self.path, "a", encoding="utf-8") as f:
                f.write(json.dumps({"kind": kind, **data}, ensure_ascii=False) + "\n")
        except OSError as exc:
            self._broken = True
            self.say(f"cannot append to {self.path} ({exc.strerror or exc}); the run store "
                     "still gets every row")


def read_journal(run_dir: Path, upto: int) -> tuple[list[dict], list[dict]]:
    """(metric rows, eval rows) with step <= ``upto``, the last line of each step, by step."""
    found: dict[str, dict[int, dict]] = {"metric": {}, "eval": {}}
    try:
        lines = (Path(run_dir) / NAME).read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return [], []
    for line in lines:
        try:
            row = json.loads(line)
            step = int(row["step"])
        except (ValueError, KeyError, TypeError):
            continue  # a line cut short by a kill
        if row.get("kind") in found and step <= upto:
            found[row["kind"]][step] = row
    return ([found["metric"][s] for s in sorted(found["metric"])],
            [found["eval"][s] for s in sorted(found["eval"])])


def replay_journal(store: Any, run_id: str, upto: int) -> int:
    """Write the journal's rows up to ``upto`` that the store lacks; how many were written.

    A trainer killed while the store was busy leaves queued rows unwritten; the journal has
    them, so a resume puts them back before training on.
    """
    from tangtui.runs.rows import EvalRow, MetricRow

    metrics, evals = read_journal(store.run_dir(run_id), upto)
    have_m = {m.step for m in store.metrics(run_id)}
    have_e = {e.step for e in store.evals(run_id)}
    new_m = [_row(MetricRow, m) for m in metrics if m["step"] not in have_m]
    new_e = [_row(EvalRow, e) for e in evals if e["step"] not in have_e]
    if new_m:
        store.add_metrics(run_id, new_m)
    for row in new_e:
        store.add_eval(run_id, row)
    return len(new_m) + len(new_e)


def _row(cls: Any, data: dict) -> Any:
    names = cls.__dataclass_fields__
    return cls(**{k: data.get(k) for k in names})
