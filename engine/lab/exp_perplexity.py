"""Perplexity counted three ways (the report's Part 2(2): loss 8.76 -> 2.92, perplexity 18.75).

The same trained model's held-out perplexity, per character, with n counted targets::

    per poem   exp(sum -log p / n), each poem scored alone from a zero state, <eos> counted,
               padding never (the honest figure)
    stream     the held-out poems concatenated (<bos> poem <eos> ...), scored in windows of 64
               with the state carried, the certain <bos> targets not counted
    padded     as "per poem", but every poem padded to the report's 125 positions and the
               padding counted: exp(sum -log p / (n + n_pad)), a padded target scored at loss 0
               (after <eos> the padding is certain, and a model trained on padding learns it)

The third is what the report's 18.75 most likely was. The loss curve is logged from the first
update, where an untrained model scores about ln V (the report starts at 8.76).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from engine.corpus.batching import make_batches
from engine.evaluation import POEMS, STREAM, evaluate_heldout
from engine.lab import stats
from engine.lab.scales import PAD_TO, PERPLEXITY_MODEL
from engine.lab.spec import Figure, LabData, Member, MemberData, Report, Series, Verdict

REPORT = {"first_loss": 8.76, "last_loss": 2.92, "ppl": 18.75}
NEAR_LN_V = 0.05  # the first loss is "about ln V" within 5%
WAYS = ("per_poem", "stream", "padded")


def three_ways(engine: Any, dataset: Any, pad_to: int = PAD_TO, window: int = 64
               ) -> dict[str, Any]:
    """The held-out perplexity of ``engine`` counted the three ways (see the module docstring).

    Per poem and stream are :func:`engine.evaluation.evaluate_heldout` (the trainer's own
    figures), over every held-out poem alone and over them joined in windows of ``window``.
    """
    poems_b = dataset.test_poems
    poems = [np.asarray(poems_b.rows[r, 1:poems_b.lengths[r] - 1])
             for r in range(len(poems_b.lengths))]
    engine.bind(POEMS, poems_b)
    engine.bind(STREAM, make_batches(poems, "stream", 16, window))
    ev = evaluate_heldout(engine)
    n_pad = sum(max(0, pad_to - (len(p) + 1)) for p in poems)
    return {
        "per_poem": ev.ppl, "stream": ev.stream_ppl,
        "padded": math.exp(ev.loss * ev.tokens / (ev.tokens + n_pad)), "targets": ev.tokens,
        "stream_targets": ev.stream_tokens, "pad_targets": n_pad, "poems": len(poems),
    }


class PerplexityExperiment:
    name = "perplexity"
    title = "Perplexity counted three ways: per poem, over the stream, with padding"
    claims = ("the loss starts near ln V, as the report's 8.76 does",
              "counting padding lowers the figure below the per-poem one",
              "the honest per-poem figure is above the report's 18.75")
    figure_names = ("loss", "three_ways")

    def plan(self, scale: str, seeds: int, done: list[MemberData],
             options: dict[str, Any]) -> list[Member]:
        return [Member(f"model/s{s}", "model", s, "main",
                       {**PERPLEXITY_MODEL[scale], "train.seed": 1234 + s})
                for s in range(seeds)]

    def finish(self, data: LabData, kit: Any) -> dict[str, Any]:
        found = {}
        for m in data.members:
            if m.status == "finished":
                engine, dataset = kit.trained_engine(m.run_id)
                found[m.key] = three_ways(engine, dataset)
        return {"three_ways": found}

    def report(self, data: LabData, x_axis: str = "step") -> Report:
        ln_v = math.log(data.vocab_size) if data.vocab_size else None
        loss = Figure("loss", "training loss from the first update", x_axis, "loss",
                      hlines=[(REPORT["first_loss"], "report start 8.76"),
                              (REPORT["last_loss"], "report end 2.92")])
        if ln_v:
            loss.hlines.append((ln_v, "ln V"))
        loss.series.append(stats.aggregate("loss", [stats.curve(m, x_axis)
                                                    for m in data.members],
                                           by_index=x_axis == "seconds"))
        found = list(data.results.get("three_ways", {}).values())
        bars = Figure("three_ways", "held-out perplexity counted three ways", "", "ppl",
                      kind="bar", hlines=[(REPORT["ppl"], "report 18.75")],
                      xticks=[(0, "per poem"), (1, "stream"), (2, "padded")])
        rows = []
        med = {}
        for i, way in enumerate(WAYS):
            vals = [f[way] for f in found]
            med[way] = stats.median_sd(vals)
            counted = {"per_poem": "targets", "stream": "stream_targets"}.get(way)
            n = found[0][counted] if found and counted else (
                found[0]["targets"] + found[0]["pad_targets"] if found else 0)
            rows.append([way.replace("_", " "), stats.fmt_pm(vals, 2), f"{n:,}"])
            if med[way]:
                bars.series.append(Series(way, [float(i)], [med[way][0]]))
        return Report([loss, bars], ["counted", "perplexity", "targets counted"], rows,
                      _verdicts(data, med, ln_v))


def _verdicts(data: LabData, med: dict[str, Any], ln_v: float | None) -> list[Verdict]:
    firsts = [m.metrics[0][1] for m in data.members if m.metrics and m.metrics[0][0] == 1]
    claim1 = "the loss starts near ln V, as the report's 8.76 does"
    if not firsts or not ln_v:
        v1 = Verdict(claim1, None, "no first-step loss yet")
    else:
        first = float(np.median(firsts))
        v1 = Verdict(claim1, abs(first - ln_v) <= NEAR_LN_V * ln_v,
                     f"first loss {first:.2f}, ln V {ln_v:.2f}; the report's 8.76 is "
                     f"ln {math.exp(8.76):,.0f}")
    p, s, pad = med.get("per_poem"), med.get("stream"), med.get("padded")
    claim2 = "counting padding lowers the figure below the per-poem one"
    claim3 = "the honest per-poem figure is above the report's 18.75"
    if not p or not pad:
        return [v1, Verdict(claim2, None, "measured when training ends"),
                Verdict(claim3, None, "measured when training ends")]
    v2 = Verdict(claim2, pad[0] < p[0], f"padded {pad[0]:.2f}, per poem {p[0]:.2f}, "
                                        f"stream {s[0]:.2f}" if s else "")
    v3 = Verdict(claim3, p[0] > REPORT["ppl"], f"per poem {p[0]:.2f}")
    return [v1, v2, v3]
