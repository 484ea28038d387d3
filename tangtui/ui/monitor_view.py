"""What the Monitor chart shows, as plain data: the view settings, smoothing, x axes, lines.

No widgets here: the pane keeps a :class:`ChartView` and one :class:`RunCurves` per shown run
(fetched in a worker, already reduced to the chart's width), and :func:`chart_lines` turns them
into the few hundred points per line that the plot draws.

Smoothing is TensorBoard's debiased exponential moving average with weight ``w``::

    s_t = w s_{t-1} + (1 - w) y_t,    shown  s_t / (1 - w^t)

A bucket of ``c`` points with mean ``m`` counts as ``c`` points of value ``m``, so its update is
``s <- w^c s + (1 - w^c) m`` and the time constant in steps does not change with the zoom.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from tangtui.runs.series import EMPTY, Curve

if TYPE_CHECKING:
    from tangtui.runs.rows import Run, Sample

X_AXES = ("step", "tokens", "time")
WEIGHTS = (0.0, 0.3, 0.6, 0.8, 0.9, 0.95, 0.99)  # smoothing strengths, [ and ] step through
PALETTE = [(86, 182, 255), (255, 166, 77), (120, 220, 120), (240, 110, 170), (200, 160, 255),
           (240, 220, 90), (90, 220, 210), (250, 120, 100)]  # run i of the overlay: PALETTE[i]
GREY = (128, 128, 128)

RGB = tuple[int, int, int]


def faint(colour: RGB, share: float = 0.4) -> RGB:
    """``colour`` mixed into mid grey: visible on dark and light themes, behind the main line."""
    return tuple(round(share * c + (1 - share) * g) for c, g in zip(colour, GREY, strict=True))  # type: ignore[return-value]


def hex_colour(colour: RGB) -> str:
    return "#{:02x}{:02x}{:02x}".format(*colour)


@dataclass
class ChartView:
    """The user's choices: metric, log y, smoothing, x axis, zoom (display x units), cursor."""

    metric: str = "loss"  # loss | ppl
    log_y: bool = False
    smooth: bool = True
    weight: float = 0.6
    x_axis: str = "step"  # step | tokens | time
    zoom: tuple[float, float] | None = None
    cursor: float | None = None
    mark: float | None = None  # one end of a zoom range, set by the first `z`
    full: bool = False


@dataclass
class RunCurves:
    """One run as fetched: its row, train and test curves (x in fetch units), samples."""

    run: Run
    train: Curve = EMPTY
    test: Curve = EMPTY
    samples: list[Sample] = field(default_factory=list)
    key: tuple[Any, ...] = ()  # (attempt, step, fetch window) of the train curve

    def tokens_per_step(self) -> float | None:
        """Training tokens per update: the dataset's tokens per epoch / updates per epoch."""
        info = self.run.info or {}
        tokens = (info.get("dataset") or {}).get("train_tokens")
        per_epoch = info.get("steps_per_epoch")
        if tokens and per_epoch:
            return float(tokens) / float(per_epoch)
        train = (self.run.config or {}).get("train", {})
        if train.get("batch_size") and train.get("seq_len"):  # stream mode: B x T per batch
            accum = (self.run.config.get("optim") or {}).get("accum", 1) or 1
            return float(train["batch_size"] * train["seq_len"] * accum)
        return None

    def origin(self) -> float:
        """The run's first logged time (wall time counts from it)."""
        spans = [c.span[0] for c in (self.train, self.test) if c.span]
        return min(spans) if spans else 0.0


@dataclass(frozen=True)
class RunFetch:
    """What one poll read of a run (``None``: that curve did not change since ``key``)."""

    run: Run
    train: Curve | None
    test: Curve | None
    samples: list[Sample]
    key: tuple[Any, ...]


@dataclass(frozen=True)
class XScale:
    """How fetch units (step or unix time) map to what the axis shows."""

    axis: str  # step | tokens | time
    unit: float = 1.0  # display x = (fetch x - offset) * factor / unit
    label: str = "step"

    def show(self, x: float, curves: RunCurves) -> float:
        if self.axis == "tokens":
            return x * (curves.tokens_per_step() or 0.0) / self.unit
        if self.axis == "time":
            return (x - curves.origin()) / self.unit
        return x

    def fetch(self, x: float, curves: RunCurves) -> float:
        """The inverse of :meth:`show` (a zoom range in a run's own fetch units)."""
        if self.axis == "tokens":
            per = curves.tokens_per_step() or 1.0
            return x * self.unit / per
        if self.axis == "time":
            return x * self.unit + curves.origin()
        return x


def x_scale(axis: str, runs: list[RunCurves]) -> XScale:
    """The axis with a readable unit for the longest run shown."""
    if axis == "tokens":
        top = max((c.train.span[1] * (c.tokens_per_step() or 0) for c in runs if c.train.span),
                  default=0.0)
        for unit, name in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
            if top >= 10 * unit:
                return XScale("tokens", unit, f"tokens seen ({name})")
        return XScale("tokens", 1.0, "tokens seen")
    if axis == "time":
        top = max((c.train.span[1] - c.origin() for c in runs if c.train.span), default=0.0)
        if top >= 3 * 3600:
            return XScale("time", 3600.0, "wall time (h)")
        if top >= 180:
            return XScale("time", 60.0, "wall time (min)")
        return XScale("time", 1.0, "wall time (s)")
    return XScale("step")


def smooth(curve: Curve, weight: float) -> list[float]:
    """The debiased EMA of a curve's bucket means (each bucket weighs its count)."""
    out: list[float] = []
    s = d = 0.0
    for m, c in zip(curve.y_mean, curve.count, strict=True):
        if not math.isfinite(m):
            out.append(out[-1] if out else m)
            continue
        a = weight ** c
        s, d = a * s + (1 - a) * m, a * d + (1 - a)
        out.append(s / d if d > 0 else m)
    return out


@dataclass
class Line:
    """One drawn line: points in display units, colour, marker, and what it is."""

    run_id: str
    kind: str  # train | raw | test
    xs: list[float]
    ys: list[float]
    colour: RGB
    label: str = ""
    draw: str = "line"  # line | dotted | points (unjoined) | bars (from zero up to each point)
    mark: str = ""  # a glyph in the cell of every point ("•" for test points by default)
    tag: str = ""  # a glyph in the cell of the last point: names the line without colour


def to_metric(metric: str, y: float) -> float:
    """Loss in nats per character, or the per-character perplexity exp(loss)."""
    return math.exp(min(y, 50.0)) if metric == "ppl" else y


def chart_lines(view: ChartView, runs: list[RunCurves], scale: XScale) -> list[Line]:
    """The lines to draw: per run the faint raw min/max envelope, the (smoothed) train curve
    and the test points, in the run's colour (its place in the overlay)."""
    lines: list[Line] = []
    many = len(runs) > 1
    for i, rc in enumerate(runs):
        colour = PALETTE[i % len(PALETTE)]
        name = f"{rc.run.name} " if many else ""
        tr = rc.train
        if tr.x:
            xs = [scale.show(x, rc) for x in tr.x]
            val = [to_metric(view.metric, y) for y in tr.y_mean]
            if view.smooth and view.weight > 0:
                raw_x, raw_y = [], []
                for x, lo, hi in zip(xs, tr.y_min, tr.y_max, strict=True):
                    raw_x += [x, x] if lo != hi else [x]
                    raw_y += ([to_metric(view.metric, lo), to_metric(view.metric, hi)]
                              if lo != hi else [to_metric(view.metric, lo)])
                lines.append(Line(rc.run.id, "raw", raw_x, raw_y, faint(colour)))
                val = [to_metric(view.metric, y) for y in smooth(tr, view.weight)]
            lines.append(Line(rc.run.id, "train", xs, val, colour, f"{name}train".strip()))
        te = rc.test
        if te.x:
            lines.append(Line(rc.run.id, "test", [scale.show(x, rc) for x in te.x],
                              [to_metric(view.metric, y) for y in te.y_mean], colour,
                              f"{name}test".strip()))
    return lines


def value_at(line: Line, x: float) -> float | None:
    """The line's value nearest to ``x`` (None when the line is empty)."""
    if not line.xs:
        return None
    i = min(range(len(line.xs)), key=lambda k: abs(line.xs[k] - x))
    return line.ys[i]


def config_diff(runs: list[RunCurves]) -> list[tuple[str, list[Any]]]:
    """The config fields (dotted) whose values differ between the shown runs."""
    flat = [_flatten(rc.run.config or {}) for rc in runs]
    keys = sorted({k for f in flat for k in f})
    return [(k, [f.get(k) for f in flat]) for k in keys
            if len({repr(f.get(k)) for f in flat}) > 1]


def _flatten(d: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in d.items():
        if isinstance(v, dict):
            out.update(_flatten(v, f"{prefix}{k}."))
        else:
            out[f"{prefix}{k}"] = v
    return out


def next_weight(weight: float, up: bool) -> float:
    """The next smoothing strength up or down the WEIGHTS ladder."""
    if up:
        return next((w for w in WEIGHTS if w > weight + 1e-9), WEIGHTS[-1])
    return next((w for w in reversed(WEIGHTS) if w < weight - 1e-9), WEIGHTS[0])
