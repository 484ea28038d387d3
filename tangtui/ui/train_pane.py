"""The Train pane: a form for the run config with inline validation; start (a detached
process), stop and resume."""

from __future__ import annotations

from typing import Any

from rich.markup import escape
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Button, Input, Label, Select, Static

from tangtui.runs.launch_check import (
    Machine,
    check_launch,
    launch_problems,
    memory_estimate,
    param_count,
    probe,
    size_text,
    taken_names,
)
from tangtui.ui.format import run_status
from tangtui.ui.messages import OpenRun, RunLaunched, RunsListed
from tangtui.ui.pane import Pane
from tangtui.ui.run_actions import run_name
from tangtui.ui.train_fields import (
    FIELDS,
    SECTIONS,
    base_config,
    build_config,
    field_id,
    presets,
    value_text,
)

NO_PRESET = "defaults"
NAME = "name"  # the run name field: not part of the config


class TrainPane(Pane):
    """Set up and start a training run"""

    BINDINGS = [
        Binding("ctrl+r", "start", "Start"),
        Binding("ctrl+t", "stop", "Stop"),
        Binding("ctrl+u", "resume", "Resume"),
    ]
    BACKGROUND = frozenset({"train-runs"})
    LEAVE_TO = "#train-form"
    COMMANDS = [("Start training run", "Start a detached run of the Train form (ctrl+r)",
                 "action_start")]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.errors: dict[str, str] = {}
        self.last_run_id: str | None = None
        self.runs: list[Any] = []
        self.machine: Machine | None = None  # probed in a worker: devices and free memory
        self._filling = False

    def compose(self) -> ComposeResult:
        cfg = base_config(None)
        with Horizontal(id="train-body"):
            with VerticalScroll(id="train-form"):
                with Horizontal(classes="field"):
                    yield Label("Preset", classes="field-label")
                    yield Select([(p, p) for p in [NO_PRESET, *presets()]], value=NO_PRESET,
                                 allow_blank=False, id="f-preset", compact=True)
                with Horizontal(classes="field"):
                    yield Label("Run name", classes="field-label")
                    yield Input(placeholder="optional", id="f-name", compact=True)
                yield Static("", classes="field-error", id="f-name-err")
                yield Static("", classes="field-error", id="f-other-err")  # fields not shown
                for title, fields in SECTIONS:
                    yield Static(title, classes="section")
                    for f in fields:
                        with Horizontal(classes="field"):
                            yield Label(f.label, classes="field-label")
                            value = value_text(cfg, f.key)
                            if f.choices:
                                yield Select([(c, c) for c in f.choices], value=value,
                                             allow_blank=False, id=field_id(f.key),
                                             compact=True)
                            else:
                                yield Input(value, placeholder=f.hint, id=field_id(f.key),
                                            compact=True)
                        yield Static("", classes="field-error", id=field_id(f.key) + "-err")
            with Vertical(id="train-side"):
                yield Static("", id="train-summary")
                yield Button("Start  ctrl+r", id="train-start", variant="success", compact=True)
                yield Button("Stop  ctrl+t", id="train-stop", variant="error", compact=True)
                yield Button("Resume  ctrl+u", id="train-resume", compact=True)
                yield Static("", id="train-run")

    def on_mount(self) -> None:
        self.validate()
        self.probe_machine()

    @work(thread=True, exit_on_error=False, group="train-probe")
    def probe_machine(self) -> None:
        """What this machine offers (torch, CUDA, free memory): the same check as the CLI's."""
        machine = probe()
        self.app.call_from_thread(self._probed, machine)

    def _probed(self, machine: Machine) -> None:
        self.machine = machine
        if not self._filling:
            self.validate()

    def focus_default(self) -> None:
        self.focus_now(self.query_one("#f-preset", Select))

    def values(self) -> dict[str, str]:
        out = {}
        for f in FIELDS:
            widget = self.query_one(f"#{field_id(f.key)}")
            value = widget.value if isinstance(widget, (Input, Select)) else ""
            out[f.key] = "" if value is Select.NULL else str(value)
        return out

    def preset(self) -> str | None:
        value = self.query_one("#f-preset", Select).value
        return None if value in (NO_PRESET, Select.NULL) else str(value)

    def validate(self) -> None:
        """Re-check every field and the launch (name, device, memory); show problems inline."""
        cfg, parsed = build_config(self.preset(), self.values())
        launch = launch_problems(cfg, self.run_name(), taken_names(self.runs), self.machine)
        self.errors = {**({NAME: launch[NAME]} if NAME in launch else {}), **parsed}
        for key, message in launch.items():
            self.errors.setdefault(key, message)
        shown = {NAME, *(f.key for f in FIELDS)}
        for key in shown:
            err = self.query_one(f"#{field_id(key)}-err", Static)
            message = self.errors.get(key, "")
            err.update(escape(message))
            err.display = bool(message)
            self.query_one(f"#{field_id(key)}").set_class(bool(message), "invalid")
        other = [f"{k}: {v}" for k, v in self.errors.items() if k not in shown]
        self.query_one("#f-other-err", Static).update(escape("\n".join(other)))
        self.query_one("#f-other-err").display = bool(other)
        n = len(self.errors)
        state = (f"[$error]{n:,} problem{'s' if n > 1 else ''}[/]" if n else "[$success]ready[/]")
        memory = f"\n≈{size_text(memory_estimate(cfg).shared_ram)} to train" if not parsed \
            else ""
        self.query_one("#train-summary", Static).update(
            f"[b]New run[/] · {state}\n{cfg.engine} · {cfg.train.mode} · {cfg.optim.name}\n"
            f"≈{param_count(cfg) / 1e6:,.2f}M parameters{memory}")
        self.query_one("#train-start", Button).disabled = bool(n)

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        if not self._filling:
            self.validate()

    def on_select_changed(self, event: Select.Changed) -> None:
        event.stop()
        if event.select.id == "f-preset":
            self.fill(self.preset())
        elif not self._filling:
            self.validate()

    def fill(self, preset: str | None) -> None:
        """Put the preset's values (or the defaults) in every field."""
        cfg = base_config(preset)
        self._filling = True
        try:
            for f in FIELDS:
                widget = self.query_one(f"#{field_id(f.key)}")
                if isinstance(widget, (Input, Select)):
                    widget.value = value_text(cfg, f.key)
        finally:
            self.call_after_refresh(self._filled)

    def _filled(self) -> None:
        self._filling = False
        self.validate()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        action = {"train-start": self.action_start, "train-stop": self.action_stop,
                  "train-resume": self.action_resume}.get(event.button.id or "")
        if action:
            action()

    def run_name(self) -> str | None:
        return self.query_one("#f-name", Input).value.strip() or None

    def action_start(self) -> None:
        self.validate()
        if self.errors:
            key = next(iter(self.errors))
            self.notify(f"{key}: {self.errors[key]}", title="Fix the form first",
                        severity="error")
            return
        cfg, _ = build_config(self.preset(), self.values())
        self.query_one("#train-start", Button).disabled = True
        self.start_run(cfg.to_dict(), self.run_name())

    @work(thread=True, exit_on_error=False, group="train-control")
    def start_run(self, config: dict[str, Any], name: str | None) -> None:
        from engine.config import RunConfig

        runs = self.services.store().list_runs()  # names taken since the form last looked
        check_launch(RunConfig.from_dict(config), name, taken_names(runs),
                     self.machine or probe())
        run_id = self.services.runner().start(config, name)
        self.post_message(RunLaunched(run_id, "start", run_name(self.services.store(), run_id)))

    def worker_failed(self, worker: Any) -> None:
        self.validate()

    def _target(self) -> str | None:
        return self.last_run_id or (self.runs[0].id if self.runs else None)

    def action_stop(self) -> None:
        rid = self._target()
        if rid:
            self.control(rid, "stop")

    def action_resume(self) -> None:
        rid = self._target()
        if rid:
            self.control(rid, "resume")

    @work(thread=True, exit_on_error=False, group="train-control")
    def control(self, run_id: str, action: str) -> None:
        runner = self.services.runner()
        runner.stop(run_id) if action == "stop" else runner.resume(run_id)
        self.post_message(RunLaunched(run_id, action, run_name(self.services.store(), run_id)))
        self.post_message(RunsListed(self.services.store().list_runs()))

    def on_run_launched(self, message: RunLaunched) -> None:
        message.stop()
        self.last_run_id = message.run_id
        verb = {"start": "Started", "stop": "Stopping", "resume": "Resumed"}[message.action]
        self.notify(f"{verb} run {message.label}", title="Train")
        if message.action == "start":
            self.query_one("#f-name", Input).value = ""  # that name is taken now
        self.validate()
        self.refresh_runs()
        if message.action in ("start", "resume"):
            self.post_message(OpenRun([message.run_id]))

    def on_pane_shown(self) -> None:
        self.refresh_runs()

    @work(thread=True, exclusive=True, exit_on_error=False, group="train-runs")
    def refresh_runs(self) -> None:
        self.post_message(RunsListed(self.services.store().list_runs()))

    def on_runs_listed(self, message: RunsListed) -> None:
        message.stop()
        self.runs = message.runs
        rid = self._target()
        run = next((r for r in self.runs if r.id == rid), None)
        self.query_one("#train-run", Static).update(
            f"Stop/resume acts on\n[b]{escape(run.name)}[/] · {run_status(run)}" if run else
            "No run yet.")
        if not self._filling:
            self.validate()  # the names taken may have changed
