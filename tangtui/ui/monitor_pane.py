"""The Monitor pane: live loss/perplexity curves of one or more runs, their status and samples.

It polls the store a few times a second from a worker (only rows after the last step it has
seen), so it attaches to any run, wherever it was started, and notices when one dies.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from rich.markup import escape
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Select, Static

from tangtui.runs.dist_launch import processes_text
from tangtui.ui.format import fmt_duration, fmt_ppl, fmt_rate, run_status
from tangtui.ui.messages import HistoryFetched, RunLaunched, RunsListed
from tangtui.ui.plots import CurvePlot
from tangtui.ui.run_actions import RunActionsPane

if TYPE_CHECKING:
    from tangtui.runs.rows import Run, Sample

POLL_S = 0.75


@dataclass
class RunTrace:
    """What the pane has seen of one run: its points so far and its resume attempt."""

    run: Run
    attempt: int
    train: list[tuple[int, float]] = field(default_factory=list)
    test: list[tuple[int, float]] = field(default_factory=list)
    samples: list[Sample] = field(default_factory=list)

    # Two cursors: the trainer writes the train row of step s *before* evaluating at s (which
    # takes seconds), so a poll in between has train rows up to s but test rows only up to an
    # earlier step; one shared cursor would skip the eval row of step s for ever.

    @property
    def last_train(self) -> int:
        return self.train[-1][0] if self.train else -1

    @property
    def last_test(self) -> int:
        return self.test[-1][0] if self.test else -1


class MonitorPane(RunActionsPane):
    """Live curves and status of runs"""

    BINDINGS = [
        Binding("l", "toggle_log", "Log y"),
        Binding("v", "toggle_metric", "Loss/ppl"),
        Binding("s", "stop", "Stop the run", show=False),
        Binding("u", "resume", "Resume the run", show=False),
    ]
    BACKGROUND = frozenset({"monitor-poll"})
    COMMANDS = [
        ("Toggle log y axis", "Monitor: log scale on the loss plot (key l)", "action_toggle_log"),
        ("Loss or perplexity", "Monitor: switch the plotted metric (key v)",
         "action_toggle_metric"),
    ]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.run_ids: list[str] = []
        self.traces: dict[str, RunTrace] = {}
        self.metric = "loss"  # loss | ppl
        self.runs: list[Run] = []
        self._chosen = False  # the user picked runs (else follow the newest live run)
        self._options: tuple[list[tuple[str, str]], str | None] = ([], None)

    def compose(self) -> ComposeResult:
        with Horizontal(id="monitor-bar"):
            yield Select([], prompt="No runs", id="monitor-run", compact=True, allow_blank=True)
            yield Static("", id="monitor-compare")
        with Horizontal(id="monitor-body"):
            yield CurvePlot("loss (nats/char)", id="monitor-plot")
            with Vertical(id="monitor-side"):
                yield Static("No run selected.", id="monitor-status")
                with VerticalScroll(id="monitor-samples-box"):
                    yield Static("", id="monitor-samples")

    def on_mount(self) -> None:
        self.poll()
        self.set_interval(POLL_S, self.poll)

    def focus_default(self) -> None:
        self.focus_now(self.query_one("#monitor-run", Select))

    def show_runs(self, run_ids: list[str]) -> None:
        """Show these runs (overlaid); the first one is the main one."""
        self._chosen = True
        self.run_ids = list(dict.fromkeys(run_ids))
        self.traces = {k: v for k, v in self.traces.items() if k in self.run_ids}
        self._sync_select()
        self.redraw()
        self.poll()

    @work(thread=True, exclusive=True, exit_on_error=False, group="monitor-poll")
    def poll(self) -> None:
        """Read new rows of the runs on show (never touches widgets)."""
        store = self.services.store()
        runs = store.list_runs()
        self.post_message(RunsListed(runs))
        by_id = {r.id: r for r in runs}
        for rid in self.run_ids:
            run = by_id.get(rid)
            if run is None:
                continue
            trace = self.traces.get(rid)
            reset = trace is None or trace.attempt != run.attempt
            since_train = -1 if reset or trace is None else trace.last_train
            since_test = -1 if reset or trace is None else trace.last_test
            train = [(m.step, m.train_loss) for m in store.metrics(rid, since_train)
                     if m.train_loss is not None]
            test = [(e.step, e.test_loss) for e in store.evals(rid, since_test)]
            samples = store.latest_samples(rid)
            self.post_message(HistoryFetched(run, train, test, samples, reset))

    def on_runs_listed(self, message: RunsListed) -> None:
        message.stop()
        self.runs = message.runs
        if not self._chosen and self.runs:
            live = [r for r in self.runs if r.liveness() == "alive"]
            newest = (live or self.runs)[0].id
            if self.run_ids != [newest]:
                self.run_ids = [newest]
                self.poll()
        self._sync_select()

    def _sync_select(self) -> None:
        select = self.query_one("#monitor-run", Select)
        options = [(f"{r.name} · {run_status(r)}", r.id) for r in self.runs]
        current = self.run_ids[0] if self.run_ids else None
        if (options, current) != self._options:
            self._options = (options, current)
            with select.prevent(Select.Changed):
                select.set_options(options)
                if current in {o[1] for o in options}:
                    select.value = current
        others = [self._run_name(rid) for rid in self.run_ids[1:]]
        self.query_one("#monitor-compare", Static).update(
            "vs " + ", ".join(others) if others else "")

    def _run_name(self, run_id: str) -> str:
        return next((r.name for r in self.runs if r.id == run_id), run_id)

    def on_select_changed(self, event: Select.Changed) -> None:
        event.stop()
        if event.value is not Select.NULL and (not self.run_ids or
                                               event.value != self.run_ids[0]):
            self.show_runs([str(event.value)])

    def on_history_fetched(self, message: HistoryFetched) -> None:
        message.stop()
        run = message.run
        if run.id not in self.run_ids:
            return
        trace = self.traces.get(run.id)
        if message.reset or trace is None:
            trace = self.traces[run.id] = RunTrace(run, run.attempt)
        seen_train, seen_test = trace.last_train, trace.last_test
        trace.run = run
        trace.train += [p for p in message.train if p[0] > seen_train]
        trace.test += [p for p in message.test if p[0] > seen_test]
        trace.samples = message.samples
        if message.train or message.test or message.reset:
            self.redraw()
        self.update_status()

    def redraw(self) -> None:
        plot = self.query_one(CurvePlot)
        to_y = (lambda v: math.exp(min(v, 50.0))) if self.metric == "ppl" else (lambda v: v)
        plot.title = "perplexity (per char)" if self.metric == "ppl" else "loss (nats/char)"
        plot.series = {}
        many = len(self.run_ids) > 1
        for rid in self.run_ids:
            trace = self.traces.get(rid)
            if trace is None:
                continue
            name = trace.run.name if many else ""
            for kind, points in (("train", trace.train), ("test", trace.test)):
                if points:
                    label = f"{name} {kind}".strip()
                    plot.series[label] = ([float(s) for s, _ in points],
                                          [to_y(v) for _, v in points])
        plot.replot()

    def update_status(self) -> None:
        status = self.query_one("#monitor-status", Static)
        samples = self.query_one("#monitor-samples", Static)
        trace = self.traces.get(self.run_ids[0]) if self.run_ids else None
        if trace is None:
            status.update("No run selected." if not self.runs else "Loading…")
            samples.update("")
            return
        status.update(status_markup(trace))
        samples.update("\n".join(f"[dim]{escape(s.prompt)}[/] {escape(s.text)}"
                                 for s in trace.samples) or "[dim]no samples yet[/]")
        samples.parent.border_title = (f"samples @ {trace.samples[0].step}"  # type: ignore[union-attr]
                                       if trace.samples else "samples")

    def action_toggle_log(self) -> None:
        plot = self.query_one(CurvePlot)
        plot.log_y = not plot.log_y
        plot.replot()

    def action_toggle_metric(self) -> None:
        self.metric = "ppl" if self.metric == "loss" else "loss"
        self.redraw()

    def _main_run(self) -> Run | None:
        trace = self.traces.get(self.run_ids[0]) if self.run_ids else None
        return trace.run if trace else None

    def action_stop(self) -> None:
        self.stop_run(self._main_run())

    def action_resume(self) -> None:
        self.resume_run(self._main_run())

    def run_changed(self, message: RunLaunched) -> None:
        self.poll()


def status_markup(trace: RunTrace) -> str:
    """The side panel: status and reason, step/epoch, tokens/s, ETA, device, best ppl."""
    run = trace.run
    status = run_status(run)
    colour = {"running": "$success", "dead": "$error", "failed": "$error",
              "finished": "$accent", "stopped": "$warning"}.get(status, "$foreground")
    total = f"/{run.total_steps}" if run.total_steps else ""
    last_test = trace.test[-1][1] if trace.test else None
    rows = [
        f"[b]{escape(run.name)}[/]",
        f"[{colour}]{status}[/]" + (f" [dim]{escape(run.reason)}[/]" if run.reason else ""),
        f"step {run.step}{total} · epoch {run.epoch + 1}",
        f"{fmt_rate(run.tokens_per_s)} tok/s · ETA "
        f"{fmt_duration(run.eta_s) if status == 'running' else '—'}",
        f"{run.engine} on {run.device or '?'}",
        *([f"[dim]{escape(procs)}[/]"] if (procs := processes_text(run.config or {})) else []),
        f"ppl/poem {fmt_ppl(math.exp(last_test) if last_test is not None else None)}"
        f" · best {fmt_ppl(run.best_test_ppl)}",
    ]
    return "\n".join(rows)
