"""What an experiment is made of: member runs, the data they leave, figures, a table, verdicts.

An experiment is a plain description (DeepOBS's protocol: members, metrics, verdict functions):

- :meth:`Experiment.plan` lists the member runs to train, given what the finished ones showed
  (the optimizer experiment adds its best-rate reruns once the learning-rate grid is done);
- :meth:`Experiment.finish` computes what needs the trained models (optional);
- :meth:`Experiment.report` turns the members' stored rows into :class:`Report` (figures, a
  table and one :class:`Verdict` per claim), which the CLI and the app's Lab pane both render.

Nothing here knows about the store, the CLI or the app.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass
class Member:
    """One run of an experiment: a dotted-key config overlay on top of the scale's base."""

    key: str  # unique in the experiment, e.g. "adam/lr=1e-03/s0"
    group: str  # what the figures aggregate over seeds, e.g. "adam"
    seed: int  # seed index (0 .. seeds-1); the run's train.seed is base + seed
    phase: str = "main"  # "grid" (learning-rate search) or "main"
    overrides: dict[str, Any] = field(default_factory=dict)
    probes: bool = False  # record symmetry, saturation and gradient-flow probes


@dataclass
class MemberData:
    """What the store holds about one member run (the input of :meth:`Experiment.report`)."""

    key: str
    group: str
    seed: int
    phase: str
    run_id: str
    status: str  # the run's status: queued | running | finished | stopped | failed | dead
    config: dict[str, Any]
    info: dict[str, Any]  # the run's info (dataset sizes)
    metrics: list[tuple[int, float, float]]  # (step, train_loss, tokens_per_s)
    evals: list[tuple[int, float, float]]  # (step, test_loss, test_ppl)
    probes: dict[str, list[tuple[int, Any]]] = field(default_factory=dict)  # name -> (step, v)

    @property
    def lr(self) -> float:
        return float(self.config.get("optim", {}).get("lr", 0.0))

    @property
    def diverged(self) -> bool:
        return self.status == "failed"

    @property
    def done(self) -> bool:
        return self.status in ("finished", "failed")

    def tokens_per_step(self) -> float:
        """Target characters one update sees (a whole epoch for full-batch GD)."""
        d, o, t = self.info.get("dataset", {}), self.config["optim"], self.config["train"]
        per_batch = d.get("train_tokens", 0) / max(1, d.get("train_batches", 1)) \
            if d else t["batch_size"] * t["seq_len"]
        if not o.get("accum"):
            return float(d.get("train_tokens", per_batch))
        return per_batch * o["accum"]


@dataclass
class LabData:
    """Everything :meth:`Experiment.report` reads: the members and the experiment's results."""

    kind: str
    scale: str
    seeds: int
    members: list[MemberData]
    results: dict[str, Any] = field(default_factory=dict)  # from Experiment.finish
    vocab_size: int = 0


@dataclass
class Series:
    """A curve: the median over seeds with an optional band (plus/minus one std)."""

    label: str
    xs: list[float]
    ys: list[float]
    lo: list[float] | None = None
    hi: list[float] | None = None
    marks: list[tuple[float, float]] = field(default_factory=list)  # points drawn as "x"


@dataclass
class Figure:
    name: str  # file name on export, e.g. "loss"
    title: str
    xlabel: str
    ylabel: str
    series: list[Series] = field(default_factory=list)
    hlines: list[tuple[float, str]] = field(default_factory=list)  # (y, label)
    log_y: bool = False
    kind: str = "line"  # line | bar (series[0] as bars over xs)
    xticks: list[tuple[float, str]] | None = None
    note: str = ""  # one line under the figure


@dataclass
class Verdict:
    claim: str
    holds: bool | None  # None: not enough data yet
    detail: str

    def line(self) -> str:
        word = "not yet known" if self.holds is None else str(self.holds).lower()
        return f"{self.claim}: {word} ({self.detail})"


@dataclass
class Report:
    figures: list[Figure]
    columns: list[str]
    rows: list[list[Any]]
    verdicts: list[Verdict]
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "table": {"columns": self.columns, "rows": self.rows},
            "verdicts": [{"claim": v.claim, "holds": v.holds, "detail": v.detail,
                          "line": v.line()} for v in self.verdicts],
            "figures": [{"name": f.name, "title": f.title, "xlabel": f.xlabel,
                         "ylabel": f.ylabel, "series": [s.__dict__ for s in f.series],
                         "hlines": f.hlines} for f in self.figures],
            "notes": self.notes,
        }


class Toolkit(Protocol):
    """What :meth:`Experiment.finish` may use (given by the lab runner)."""

    def trained_engine(self, run_id: str) -> tuple[Any, Any]:
        """(NumPy engine with the run's best weights, its Dataset)."""


class Experiment(Protocol):
    name: str
    title: str
    claims: tuple[str, ...]  # what the verdicts test, in words (for `lab list`)
    figure_names: tuple[str, ...]

    def plan(self, scale: str, seeds: int, done: list[MemberData],
             options: dict[str, Any]) -> list[Member]: ...

    def finish(self, data: LabData, kit: Toolkit) -> dict[str, Any]: ...

    def report(self, data: LabData, x_axis: str = "step") -> Report: ...
