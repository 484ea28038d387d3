"""Small formatting helpers shared by the panes (numbers, durations, run status)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tangtui.runs.rows import Run


def fmt_ppl(value: float | None) -> str:
    return "—" if value is None else f"{value:,.1f}"


def fmt_rate(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value / 1000:,.1f}k" if value >= 10_000 else f"{value:,.0f}"


def fmt_duration(seconds: float | None) -> str:
    """``1h02m``, ``3m05s`` or ``42s``; ``—`` when unknown."""
    if seconds is None or seconds != seconds or seconds < 0:
        return "—"
    s = int(round(seconds))
    if s >= 3600:
        return f"{s // 3600}h{s % 3600 // 60:02d}m"
    if s >= 60:
        return f"{s // 60}m{s % 60:02d}s"
    return f"{s}s"


def run_status(run: Run) -> str:
    """The status a viewer should see: ``dead`` when a run claims to run but its process is gone."""
    try:
        return run.display_status
    except (ValueError, OSError):
        return run.status
