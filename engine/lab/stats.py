"""Small statistics over member runs: curves aggregated over seeds, thresholds, x axes.

Seeds are summarised as the median with a band of plus/minus one standard deviation (population
std over seeds) at every x that every seed reached, so a run still in progress shortens the band
rather than bending it.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence

from engine.lab.spec import MemberData, Series

X_AXES = ("step", "tokens", "seconds")


def curve(member: MemberData, x_axis: str = "step") -> list[tuple[float, float]]:
    """The member's (x, train loss) points with x in steps, target characters or seconds.

    Seconds are training time only: each interval's characters over its measured throughput.
    """
    if x_axis not in X_AXES:
        raise ValueError(f"unknown x axis {x_axis!r} (choose {', '.join(X_AXES)})")
    per_step = member.tokens_per_step() if x_axis != "step" else 1.0
    out: list[tuple[float, float]] = []
    seconds, last = 0.0, 0
    for step, loss, tps in member.metrics:
        if loss is None:
            continue
        if x_axis == "seconds":
            seconds += (step - last) * per_step / tps if tps else 0.0
            x = seconds
        else:
            x = step * per_step
        last = step
        out.append((x, float(loss)))
    return out


def aggregate(label: str, curves: Sequence[Sequence[tuple[float, float]]],
              by_index: bool = False) -> Series:
    """Median and +-1 std over seeds at the x values every curve has (or, with ``by_index``,
    position by position: for x values such as seconds that differ between seeds)."""
    curves = [c for c in curves if c]
    if not curves:
        return Series(label, [], [])
    if by_index:
        n = min(len(c) for c in curves)
        xs = [statistics.median(c[i][0] for c in curves) for i in range(n)]
        cols = [[c[i][1] for c in curves] for i in range(n)]
    else:
        maps = [dict(c) for c in curves]
        xs = sorted(set.intersection(*(set(m) for m in maps)))
        cols = [[m[x] for m in maps] for x in xs]
    med = [statistics.median(col) for col in cols]
    if len(curves) == 1:
        return Series(label, xs, med)
    sd = [statistics.pstdev(col) for col in cols]
    return Series(label, xs, med, [m - s for m, s in zip(med, sd, strict=True)],
                  [m + s for m, s in zip(med, sd, strict=True)])


def first_below(points: Sequence[tuple[float, float]], threshold: float) -> float | None:
    """The first x whose y is at or below ``threshold`` (None if never)."""
    return next((x for x, y in points if math.isfinite(y) and y <= threshold), None)


def median_sd(values: Sequence[float]) -> tuple[float, float] | None:
    vals = [v for v in values if v is not None and math.isfinite(v)]
    if not vals:
        return None
    return statistics.median(vals), statistics.pstdev(vals) if len(vals) > 1 else 0.0


def fmt_pm(values: Sequence[float], digits: int = 1) -> str:
    """``median +- std`` of the finite values, '-' when there are none."""
    found = median_sd(values)
    if found is None:
        return "-"
    med, sd = found
    return f"{med:.{digits}f}" + (f" ± {sd:.{digits}f}" if len(values) > 1 else "")


def final_ppl(member: MemberData) -> float | None:
    """The last held-out perplexity of a finished member; +inf for a diverged one."""
    if member.diverged:
        return math.inf
    return member.evals[-1][2] if member.evals and member.done else None


def probe_series(member: MemberData, name: str) -> list[tuple[float, float]]:
    return [(float(s), float(v)) for s, v in member.probes.get(name, [])]
