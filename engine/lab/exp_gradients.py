"""Gradients (the report's Part 1): the hand-written BPTT against finite differences, and the
gradient flow ||dL/dh_t|| over the window for each init scheme.

The check is :func:`engine.gradcheck.finite_differences` (float64, 2 layers, non-zero biases, a
holed mask, a carried state, dropout): per element the relative error
``|a - n| / max(|a| + |n|, 1e-300)`` goes into a histogram of log10 per parameter (an exact
match, both zero, is put at 10^-16), and per parameter the norm-based error of ``tangtui
gradcheck`` decides the verdict. The flow members train briefly per scheme and are probed at
the first and last step with the loss on the window's last target only.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from engine.config import INITS
from engine.gradcheck import TOLERANCE, GradcheckSetup, finite_differences
from engine.lab import stats
from engine.lab.exp_init import init_members
from engine.lab.scales import GRADIENT_STEPS
from engine.lab.spec import Figure, LabData, Member, MemberData, Report, Series, Verdict

FLOOR = -16.0  # log10 of an exact match
EDGES = np.arange(-16.0, 1.0, 1.0)  # histogram bins of log10 relative error
VANISH = 0.1  # "vanishes": the earliest step's norm below this share of the last step's


def gradient_check(setup: GradcheckSetup | None = None) -> dict[str, Any]:
    """Per parameter: elements, norm-based relative error, log10 element errors' histogram."""
    analytic, numeric = finite_differences(setup)
    params = {}
    for name, a in analytic.items():
        n = numeric[name]
        denom = float(np.linalg.norm(a) + np.linalg.norm(n))
        err = float(np.linalg.norm(a - n) / denom) if denom > 0 else 0.0
        with np.errstate(divide="ignore", invalid="ignore"):
            rel = np.abs(a - n) / np.maximum(np.abs(a) + np.abs(n), 1e-300)
        logs = np.where(rel > 0, np.log10(np.maximum(rel, 1e-300)), FLOOR).clip(FLOOR, 0.0)
        counts, _ = np.histogram(logs, bins=EDGES)
        params[name] = {"elements": int(a.size), "rel_error": err,
                        "worst_element": float(logs.max()), "hist": counts.tolist()}
    worst = max(p["rel_error"] for p in params.values())
    return {"params": params, "max_rel_error": worst, "tolerance": TOLERANCE,
            "edges": EDGES.tolist()}


class GradientsExperiment:
    name = "gradients"
    title = "Gradients: BPTT against finite differences, and the gradient flow per init scheme"
    claims = ("the hand-written BPTT matches finite differences",
              "zero init passes no gradient back to the hidden states",
              "with standard init the gradient shrinks over the window")
    figure_names = ("gradcheck", "flow_first", "flow_last")

    def plan(self, scale: str, seeds: int, done: list[MemberData],
             options: dict[str, Any]) -> list[Member]:
        return init_members(seeds, {"train.steps": GRADIENT_STEPS[scale], "train.epochs": 1,
                                    "optim.lr": 1e-2 if scale != "report" else 1e-3})

    def finish(self, data: LabData, kit: Any) -> dict[str, Any]:
        return {"gradcheck": gradient_check()}

    def report(self, data: LabData, x_axis: str = "step") -> Report:
        check = data.results.get("gradcheck")
        hist = Figure("gradcheck", "log10 relative error of each gradient element",
                      "log10 relative error", "elements",
                      note=f"tolerance {TOLERANCE:g} on each parameter's norm-based error")
        rows: list[list[Any]] = []
        if check:
            centres = [e + 0.5 for e in check["edges"][:-1]]
            for name, p in check["params"].items():
                hist.series.append(Series(name, centres, [float(c) for c in p["hist"]]))
                rows.append([name, p["elements"], f"{p['rel_error']:.2e}",
                             f"1e{p['worst_element']:.0f}"])
        flows = {}
        figures = [hist]
        for when, idx in (("first", 0), ("last", -1)):
            fig = Figure(f"flow_{when}", f"||dL/dh_t|| by distance from the window's end "
                         f"({when} step)", "distance from the end", "norm", log_y=True)
            for scheme in INITS:
                curves = [_flow(m, idx) for m in data.members if m.group == scheme]
                series = stats.aggregate(scheme, curves)
                fig.series.append(series)
                flows[(scheme, when)] = series
            figures.append(fig)
        return Report(figures, ["parameter", "elements", "relative error", "worst element"],
                      rows, _verdicts(check, flows, data))


def _flow(m: MemberData, idx: int) -> list[tuple[float, float]]:
    found = m.probes.get("flow", [])
    if not found or (idx == -1 and len(found) < 2):
        return []
    return [(float(d), float(v)) for d, v in enumerate(found[idx][1])]


def _verdicts(check: dict[str, Any] | None, flows: dict[tuple[str, str], Series],
              data: LabData) -> list[Verdict]:
    claim1 = "the hand-written BPTT matches finite differences"
    if not check:
        v1 = Verdict(claim1, None, "checked when the members are done")
    else:
        n = sum(p["elements"] for p in check["params"].values())
        worst = check["max_rel_error"]
        v1 = Verdict(claim1, worst < TOLERANCE, f"largest relative error {worst:.1e} "
                     f"{'<' if worst < TOLERANCE else '>='} {TOLERANCE:g} over {n} elements")
    done = bool(data.members) and all(m.done for m in data.members)
    zeros = flows.get(("zeros", "last"))
    claim2 = "zero init passes no gradient back to the hidden states"
    if not done or zeros is None or not zeros.ys:
        v2 = Verdict(claim2, None, "still training")
    else:
        peak = max(max(s.ys) for k, s in flows.items() if k[0] == "zeros" and s.ys)
        v2 = Verdict(claim2, peak == 0.0, f"largest ||dL/dh_t|| {peak:.3g} at the first and "
                                          "last step")
    std = flows.get(("standard", "last"))
    claim3 = "with standard init the gradient shrinks over the window"
    if not done or std is None or len(std.ys) < 2 or std.ys[0] <= 0:
        v3 = Verdict(claim3, None, "still training")
    else:
        ratio = std.ys[-1] / std.ys[0]
        v3 = Verdict(claim3, ratio < VANISH,
                     f"||dL/dh|| {len(std.ys) - 1} steps back is {ratio:.2g} of the last "
                     f"step's (bound {VANISH:g})" if math.isfinite(ratio) else "not finite")
    return [v1, v2, v3]
