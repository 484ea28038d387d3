"""The Monitor's side panel as markup: status, phase, next evaluation, legend and config diff."""

from __future__ import annotations

import math
import time
from datetime import datetime
from typing import TYPE_CHECKING, Any

from rich.markup import escape

from tangtui.runs.dist_launch import processes_text
from tangtui.ui.format import fmt_duration, fmt_ppl, fmt_rate, run_status
from tangtui.ui.monitor_view import PALETTE, ChartView, RunCurves, config_diff, hex_colour

if TYPE_CHECKING:
    from tangtui.runs.rows import Run

COLOURS = {"running": "$success", "dead": "$error", "failed": "$error", "finished": "$accent",
           "stopped": "$warning"}


def status_markup(rc: RunCurves) -> str:
    """Status and reason, phase, step/epoch, tokens/s, ETA, next evaluation, device, ppl."""
    run = rc.run
    status = run_status(run)
    total = f"/{run.total_steps:,}" if run.total_steps else ""
    test = rc.test.y_mean
    last_test = test[-1] if test else None
    rows = [
        f"[b]{escape(run.name)}[/]",
        f"[{COLOURS.get(status, '$foreground')}]{status}[/]"
        + (f" [dim]{escape(run.reason)}[/]" if run.reason else ""),
    ]
    phase = phase_line(run, status)
    if phase:
        rows.append(phase)
    rows += [
        f"step {run.step:,}{total} · epoch {run.epoch + 1}",
        f"{fmt_rate(run.tokens_per_s)} tok/s · ETA "
        f"{fmt_duration(run.eta_s) if status == 'running' else '—'}",
    ]
    nxt = next_eval_line(run, status, has_eval=bool(test))
    if nxt:
        rows.append(nxt)
    rows.append(f"{run.engine} on {run.device or '?'}")
    procs = processes_text(run.config or {})  # N processes x rows = the global batch
    if procs:
        rows.append(f"[dim]{escape(procs)}[/]")
    rows += [
        f"ppl/poem {fmt_ppl(math.exp(last_test) if last_test is not None else None)}"
        f" · best {fmt_ppl(run.best_test_ppl)}",
    ]
    return "\n".join(rows)


def phase_line(run: Run, status: str) -> str:
    """What a running trainer is doing now (``info.phase``, written by the trainer)."""
    if status != "running":
        return ""
    phase = (run.info or {}).get("phase") or "starting"
    since = (run.info or {}).get("phase_time")
    took = f" for {fmt_duration(time.time() - since)}" if since and phase != "training" else ""
    return f"[dim]phase:[/] {escape(str(phase))}{took}"


def next_eval_line(run: Run, status: str, has_eval: bool) -> str:
    """``next evaluation at step N, in about M min`` from the schedule and the step rate."""
    from engine.schedule import EARLY_S, early_step, next_eval_step

    if status != "running" or not run.total_steps:
        return ""
    train = (run.config or {}).get("train", {})
    early = (bool(train.get("early_eval", False)) and not has_eval and run.attempt == 0
             and run.step < early_step(run.total_steps))
    step = next_eval_step(run.step, run.total_steps, int(train.get("eval_every", 0) or 0), early)
    if step is None:
        return ""
    left = run.total_steps - run.step
    per_step = run.eta_s / left if run.eta_s and left > 0 else None
    wait = (step - run.step) * per_step if per_step is not None else None
    started = _timestamp(run.started)
    if early and started is not None:  # the early one also comes after EARLY_S of training
        by_time = max(0.0, EARLY_S - (time.time() - started))
        if wait is None or by_time < wait:
            wait = by_time
            if per_step:
                step = min(step, run.step + max(1, math.ceil(by_time / per_step)))
    about = f", in about {fmt_duration(wait)}" if wait is not None else ""
    return f"next evaluation at step {step:,}{about}"


def legend_markup(runs: list[RunCurves], view: ChartView) -> str:
    """A coloured square and name per overlaid run, then what the marks mean."""
    parts = [f"[{hex_colour(PALETTE[i % len(PALETTE)])}]■[/] {escape(rc.run.name)}"
             for i, rc in enumerate(runs)] if len(runs) > 1 else []
    marks = "━ train" + (f" (smoothed {view.weight:g})" if view.smooth and view.weight else "")
    parts.append(f"[dim]{marks} · ∙ test[/]")
    if view.log_y:
        parts.append("[b reverse] log y [/]")
    if view.zoom:
        parts.append("[b reverse] zoom [/]")
    return "  ".join(parts)


def diff_markup(runs: list[RunCurves]) -> str:
    """The config fields that differ between the overlaid runs, one per line."""
    if len(runs) < 2:
        return ""
    diff = config_diff(runs)
    if not diff:
        return "[dim]same config[/]"
    rows = ["[b]config differs[/]"]
    for key, values in diff:
        shown = " | ".join(
            f"[{hex_colour(PALETTE[i % len(PALETTE)])}]{escape(_short(v))}[/]"
            for i, v in enumerate(values))
        rows.append(f"[dim]{escape(key)}[/] {shown}")
    return "\n".join(rows)


def _timestamp(iso: str | None) -> float | None:
    try:
        return datetime.fromisoformat(iso).timestamp() if iso else None
    except ValueError:
        return None


def _short(value: Any) -> str:
    return "—" if value is None else (f"{value:g}" if isinstance(value, float) else str(value))
