"""The optimizer race (the report's Part 2(3): "Adam converges fastest").

DeepOBS's protocol: each optimizer first trains at a few log-spaced learning rates around its
own centre (``factor * centre`` for each factor of the grid), one seed; the rate with the lowest
final held-out perplexity is its best, and the best is rerun with the other seeds. Every member
starts from the same weights and sees the same data in the same order (same seed per seed
index): members of one seed differ only in ``optim.*``. Every member gets the same budget, a
number of passes over the training split; full-batch GD is ``sgd`` with ``optim.accum = 0``
(one update per pass), so with the same characters it takes far fewer steps.
"""

from __future__ import annotations

import math
from typing import Any

from engine.lab import stats
from engine.lab.scales import LOSS_THRESHOLD, OPTIMIZER_EPOCHS
from engine.lab.spec import Figure, LabData, Member, MemberData, Report, Series, Verdict
from engine.optim_defaults import STANDARD

# (label, optimizer, extra overrides, grid centre): centres are where each one does well here
OPTIMIZERS: list[tuple[str, str, dict[str, Any], float]] = [
    ("gd", "sgd", {"optim.accum": 0}, 1.0),
    ("sgd", "sgd", {}, 1.0),
    ("momentum", "momentum", {}, 0.1),
    ("nag", "nag", {}, 0.1),
    ("adagrad", "adagrad", {}, 0.05),
    ("adadelta", "adadelta", {}, 1.0),
    ("rmsprop", "rmsprop", {}, 3e-3),
    ("adam", "adam", {}, 3e-3),
]
GRID = {"tiny": (1.0, 10 ** 0.5), "small": (10 ** -0.5, 1.0, 10 ** 0.5),
        "report": (0.1, 10 ** -0.5, 1.0, 10 ** 0.5)}
SEED_BASE = 1234


def _optim_overrides(label: str, name: str, extra: dict[str, Any], lr: float) -> dict[str, Any]:
    """optim.name first (it moves lr), then its standard settings, then the rate."""
    std = {f"optim.{k}": v for k, v in STANDARD[name].items() if k != "lr"}
    return {"optim.name": name, "optim.accum": 1, **std, **extra, "optim.lr": lr,
            "train.log_every": 1}  # every step logged: the race is timed to the step


def grid_factors(scale: str, options: dict[str, Any]) -> tuple[float, ...]:
    given = options.get("lr_grid")
    factors = tuple(given) if given is not None else GRID[scale]
    if not factors or any(not (isinstance(f, (int, float)) and f > 0) for f in factors):
        raise ValueError("the learning-rate grid must hold positive factors")
    return factors


class OptimizersExperiment:
    name = "optimizers"
    title = "Optimizers: GD, SGD, Momentum, NAG, AdaGrad, AdaDelta, RMSprop and Adam at their " \
            "best learning rates"
    claims = ("Adam reaches the loss threshold first", "Adam ends with the lowest held-out "
              "perplexity")
    figure_names = ("loss", "sensitivity")

    def plan(self, scale: str, seeds: int, done: list[MemberData],
             options: dict[str, Any]) -> list[Member]:
        factors = grid_factors(scale, options)
        budget = {"train.steps": 0, "train.epochs": OPTIMIZER_EPOCHS[scale]}  # equal data
        members = [Member(f"{label}/lr={c * f:.3g}", label, 0, "grid",
                          {**_optim_overrides(label, name, extra, c * f),
                           "train.seed": SEED_BASE, **budget})
                   for label, name, extra, c in OPTIMIZERS for f in factors]
        by_key = {m.key: m for m in done}
        if not all(m.key in by_key and by_key[m.key].done for m in members):
            return members
        for label, name, extra, _ in OPTIMIZERS:
            best = best_grid_member([by_key[m.key] for m in members if m.group == label])
            for s in range(1, seeds):
                members.append(Member(f"{label}/best/s{s}", label, s, "main",
                                      {**_optim_overrides(label, name, extra, best.lr),
                                       "train.seed": SEED_BASE + s, **budget}))
        return members

    def finish(self, data: LabData, kit: Any) -> dict[str, Any]:
        return {}

    def report(self, data: LabData, x_axis: str = "step") -> Report:
        threshold = LOSS_THRESHOLD[data.scale]
        ln_v = math.log(data.vocab_size) if data.vocab_size else None
        loss = Figure("loss", f"training loss at each optimizer's best rate (x: {x_axis})",
                      x_axis, "loss", hlines=[(threshold, "threshold")])
        if ln_v:
            loss.hlines.append((ln_v, "ln V"))
        sens = Figure("sensitivity", "final held-out perplexity against the learning rate",
                      "log10 lr", "ppl", log_y=True, note="diverged runs: x at the top")
        rows: list[list[Any]] = []
        reach: dict[str, float | None] = {}
        final: dict[str, float | None] = {}
        top = max((p for m in data.members if (p := stats.final_ppl(m)) and math.isfinite(p)),
                  default=None)
        for label, name, _, _ in OPTIMIZERS:
            grid = [m for m in data.members if m.group == label and m.phase == "grid"]
            finished = [m for m in grid if m.done]
            points = sorted((math.log10(m.lr), stats.final_ppl(m)) for m in finished)
            clip = (top or 1.0) * 1.5
            series = Series(label, [x for x, _ in points],
                            [min(p, clip) if p is not None else clip for _, p in points])
            series.marks = [(x, clip) for x, p in points if p is None or not math.isfinite(p)]
            sens.series.append(series)
            if len(finished) < len(grid) or not grid:
                rows.append([label, _settings(name), "-", "-", "-", "-"])
                continue
            best = best_grid_member(finished)
            runs = [best] + [m for m in data.members if m.group == label and m.phase == "main"]
            curves = [stats.curve(m, x_axis) for m in runs]
            loss.series.append(stats.aggregate(label, curves, by_index=x_axis == "seconds"))
            hits = [stats.first_below(stats.curve(m, "step"), threshold) for m in runs]
            toks = [stats.first_below(stats.curve(m, "tokens"), threshold) for m in runs]
            reach[label] = _median_or_none(hits, len(runs))
            ppls = [stats.final_ppl(m) for m in runs]
            final[label] = _median_or_none(ppls, len(runs))
            rows.append([label, _settings(name), f"{best.lr:.3g}", stats.fmt_pm(ppls),
                         _fmt_steps(reach[label]), _fmt_steps(_median_or_none(toks, len(runs)))])
        verdicts = [_race(reach, threshold), _lowest(final)]
        return Report([loss, sens], ["optimizer", "standard settings", "best lr",
                                     "final ppl", f"steps to {threshold:g}",
                                     f"chars to {threshold:g}"], rows, verdicts)


def best_grid_member(grid: list[MemberData]) -> MemberData:
    """The rate with the lowest final held-out perplexity (diverged runs never win; if every
    rate diverged, the smallest)."""
    ok = [m for m in grid if (p := stats.final_ppl(m)) is not None and math.isfinite(p)]
    if not ok:
        return min(grid, key=lambda m: m.lr)
    return min(ok, key=lambda m: (stats.final_ppl(m), m.lr))


def _settings(name: str) -> str:
    return ", ".join(f"{k} {v:g}" for k, v in STANDARD[name].items())


def _median_or_none(values: list[float | None], n: int) -> float | None:
    """The median over seeds, counting a seed that never got there as +inf."""
    vals = sorted(math.inf if v is None else v for v in values)
    if len(vals) < n or not vals:
        return None
    med = vals[len(vals) // 2] if len(vals) % 2 else (vals[len(vals) // 2 - 1]
                                                      + vals[len(vals) // 2]) / 2
    return med if math.isfinite(med) else None


def _fmt_steps(v: float | None) -> str:
    return "never" if v is None else f"{v:,.0f}"


def _race(reach: dict[str, float | None], threshold: float) -> Verdict:
    claim = f"Adam reaches loss {threshold:g} first"
    if len(reach) < len(OPTIMIZERS):
        return Verdict(claim, None, f"{len(reach)} of {len(OPTIMIZERS)} optimizers done")
    order = sorted((v, k) for k, v in reach.items() if v is not None)
    if not order:
        return Verdict(claim, False, "no optimizer reached it")
    adam = reach.get("adam")
    others = [(v, k) for v, k in order if k != "adam"]
    nxt = f"next {others[0][1]} {others[0][0]:,.0f}" if others else "no other reached it"
    if adam is None:
        return Verdict(claim, False, f"Adam never did; first {order[0][1]} "
                                     f"({order[0][0]:,.0f} steps)")
    holds = not others or adam < others[0][0]  # a tie is not "first"
    if holds:
        return Verdict(claim, True, f"{adam:,.0f} steps; {nxt}")
    tie = " (a tie)" if adam == others[0][0] else ""
    return Verdict(claim, False, f"Adam {adam:,.0f} steps; first {others[0][1]} "
                                 f"{others[0][0]:,.0f}{tie}")


def _lowest(final: dict[str, float | None]) -> Verdict:
    claim = "Adam ends with the lowest held-out perplexity"
    if len(final) < len(OPTIMIZERS):
        return Verdict(claim, None, f"{len(final)} of {len(OPTIMIZERS)} optimizers done")
    order = sorted((v, k) for k, v in final.items() if v is not None)
    if not order:
        return Verdict(claim, False, "every optimizer diverged")
    best_v, best_k = order[0]
    adam = final.get("adam")
    if best_k == "adam":
        nxt = f"; next {order[1][1]} {order[1][0]:.1f}" if len(order) > 1 else ""
        return Verdict(claim, True, f"{adam:.1f}{nxt}")
    adam_txt = f"{adam:.1f}" if adam is not None else "diverged"
    return Verdict(claim, False, f"Adam {adam_txt}; lowest {best_k} {best_v:.1f}")
