"""Initialisation and symmetry (the report's Part 2(1): zero init keeps hidden units alike).

One member per scheme and seed, identical but for ``model.init`` (the forget-gate bias as the
scale sets it), each probed at every log step on a fixed held-out batch: the largest cosine
between two hidden units' weight rows, the effective rank of the hidden states, and the share of
saturated gates (histograms at the first and last step). See :mod:`engine.lab.probes`.
"""

from __future__ import annotations

from typing import Any

from engine.config import INITS
from engine.lab import stats
from engine.lab.probes import BINS, GATES
from engine.lab.spec import Figure, LabData, Member, MemberData, Report, Series, Verdict

SEED_BASE = 1234
SYMMETRIC = 1e-12  # zero init: max cosine within this of 1 at every step
BROKEN = 0.999  # a random scheme's max cosine must stay below this


def init_members(seeds: int, extra: dict[str, Any] | None = None) -> list[Member]:
    return [Member(f"{scheme}/s{s}", scheme, s, "main",
                   {"model.init": scheme, "train.seed": SEED_BASE + s, **(extra or {})},
                   probes=True)
            for scheme in INITS for s in range(seeds)]


class InitExperiment:
    name = "init"
    title = "Initialisation: symmetry, effective rank and gate saturation of six schemes"
    claims = ("zero init keeps units symmetric", "every random scheme breaks the symmetry",
              "zero init ends worse than every random scheme")
    figure_names = ("loss", "max_cosine", "effective_rank", *(f"gates-{s}" for s in INITS))

    def plan(self, scale: str, seeds: int, done: list[MemberData],
             options: dict[str, Any]) -> list[Member]:
        return init_members(seeds, {"optim.lr": 1e-2 if scale != "report" else 1e-3})

    def finish(self, data: LabData, kit: Any) -> dict[str, Any]:
        return {}

    def report(self, data: LabData, x_axis: str = "step") -> Report:
        groups = {s: [m for m in data.members if m.group == s] for s in INITS}
        loss = Figure("loss", "training loss per scheme", x_axis, "loss")
        cos = Figure("max_cosine", "largest cosine between two hidden units", "step", "cosine",
                     hlines=[(1.0, "identical")])
        rank = Figure("effective_rank", "effective rank of the hidden states (probe batch)",
                      "step", "rank")
        figures = [loss, cos, rank]
        rows = []
        for scheme, members in groups.items():
            loss.series.append(stats.aggregate(scheme, [stats.curve(m, x_axis) for m in members],
                                               by_index=x_axis == "seconds"))
            cos.series.append(stats.aggregate(
                scheme, [stats.probe_series(m, "max_cos") for m in members]))
            rank.series.append(stats.aggregate(
                scheme, [stats.probe_series(m, "erank") for m in members]))
            figures.append(_gates_figure(scheme, members))
            cos_last = [m.probes["max_cos"][-1][1] for m in members if m.probes.get("max_cos")]
            rank_last = [m.probes["erank"][-1][1] for m in members if m.probes.get("erank")]
            sat = [_mean_sat(m) for m in members if m.probes.get("saturation")]
            rows.append([scheme, stats.fmt_pm([stats.final_ppl(m) for m in members]),
                         stats.fmt_pm(cos_last, 6), stats.fmt_pm(rank_last, 2),
                         stats.fmt_pm([100 * s for s in sat], 1)])
        return Report(figures, ["scheme", "final ppl", "max cosine (last)", "effective rank",
                                "% gates saturated"], rows, _verdicts(groups))


def _mean_sat(m: MemberData) -> float:
    last = m.probes["saturation"][-1][1]
    return sum(last.values()) / max(1, len(last))


def _gates_figure(scheme: str, members: list[MemberData]) -> Figure:
    """Histograms of each gate at the last probed step (first seed), share saturated labelled."""
    fig = Figure(f"gates-{scheme}", f"gate values at the first and last step ({scheme})",
                 "value (sigmoids as 2a-1)", "share")
    m = members[0] if members else None
    if m is None:
        return fig
    centres = [-1.0 + (i + 0.5) * 2.0 / BINS for i in range(BINS)]
    for when, idx in (("first", 0), ("last", -1)):
        sat = m.probes.get("saturation", [])
        for gate in GATES:
            hist = m.probes.get(f"hist_{gate}", [])
            if not hist or not sat or (when == "last" and len(hist) < 2):
                continue
            counts = hist[idx][1]
            total = max(1, sum(counts))
            share = sat[0 if when == "first" else -1][1][gate]
            fig.series.append(Series(f"{gate} {when} ({100 * share:.0f}% sat)", centres,
                                     [c / total for c in counts]))
    return fig


def _verdicts(groups: dict[str, list[MemberData]]) -> list[Verdict]:
    done = all(m.done for ms in groups.values() for m in ms) and all(groups.values())
    zeros = [v for m in groups.get("zeros", []) for _, v in m.probes.get("max_cos", [])]
    others = {s: [m.probes["max_cos"][-1][1] for m in ms if m.probes.get("max_cos")]
              for s, ms in groups.items() if s != "zeros"}
    claim1 = "zero init keeps units symmetric"
    if not zeros or not done:
        v1 = Verdict(claim1, None, "still training")
    else:
        low = min(zeros)
        x = others.get("xavier") or [float("nan")]
        v1 = Verdict(claim1, low >= 1.0 - SYMMETRIC,
                     f"max cosine {low:.6f} at worst over {len(zeros)} probes; xavier "
                     f"{max(x):.2f}")
    claim2 = "every random scheme breaks the symmetry"
    if not done or not all(others.values()):
        v2 = Verdict(claim2, None, "still training")
    else:
        worst = max(others, key=lambda s: max(others[s]))
        v2 = Verdict(claim2, max(others[worst]) < BROKEN,
                     f"largest final max cosine {max(others[worst]):.3f} ({worst}); "
                     f"bound {BROKEN}")
    claim3 = "zero init ends worse than every random scheme"
    ppl = {s: stats.median_sd([stats.final_ppl(m) for m in ms]) for s, ms in groups.items()}
    if not done or any(v is None for v in ppl.values()):
        v3 = Verdict(claim3, None, "still training")
    else:
        best = min((s for s in ppl if s != "zeros"), key=lambda s: ppl[s][0])  # type: ignore
        z, b = ppl["zeros"][0], ppl[best][0]  # type: ignore[index]
        v3 = Verdict(claim3, all(z > ppl[s][0] for s in ppl if s != "zeros"),  # type: ignore
                     f"zeros {z:.1f}; best {best} {b:.1f}")
    return [v1, v2, v3]
