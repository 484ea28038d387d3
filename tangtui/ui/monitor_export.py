"""Export the Monitor's shown series as CSV or JSON (the format follows the file's suffix)."""

from __future__ import annotations

import csv
import io
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tangtui.ui.monitor_view import ChartView, Line, RunCurves

if TYPE_CHECKING:
    from collections.abc import Sequence

FIELDS = ["run", "series", "x_axis", "x", "value", "min", "max", "points"]


def export_rows(lines: Sequence[Line], runs: Sequence[RunCurves], view: ChartView,
                x_label: str) -> list[dict[str, Any]]:
    """One row per shown point of every train and test line: the value drawn (smoothed when
    smoothing is on), the bucket's min and max and how many logged points it stands for."""
    names = {rc.run.id: rc.run.name for rc in runs}
    buckets = {(rc.run.id, "train"): rc.train for rc in runs}
    buckets.update({(rc.run.id, "test"): rc.test for rc in runs})
    metric = "ppl" if view.metric == "ppl" else "loss"
    rows = []
    for line in lines:
        if line.kind == "raw":
            continue
        curve = buckets[(line.run_id, line.kind)]
        lo, hi = _to(view, curve.y_min), _to(view, curve.y_max)
        for i, (x, y) in enumerate(zip(line.xs, line.ys, strict=True)):
            rows.append({"run": names.get(line.run_id, line.run_id),
                         "series": f"{line.kind}_{metric}", "x_axis": x_label, "x": x,
                         "value": y, "min": lo[i], "max": hi[i], "points": curve.count[i]})
    return rows


def _to(view: ChartView, ys: list[float]) -> list[float]:
    from tangtui.ui.monitor_view import to_metric

    return [to_metric(view.metric, y) for y in ys]


def write_rows(rows: list[dict[str, Any]], path: Path) -> Path:
    """Write ``rows`` to ``path`` atomically: JSON for ``.json``, else CSV."""
    if path.suffix.lower() == ".json":
        text = json.dumps(rows, ensure_ascii=False, indent=1)
    else:
        buf = io.StringIO()
        writer = csv.DictWriter(buf, FIELDS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        text = buf.getvalue()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
    return path
