"""Stop, resume and delete a run from a pane: the one copy shared by the Runs and Monitor panes.

The slow part (a CLI call, or deleting a directory) runs in a worker; the pane gets a
:class:`RunLaunched` back, notifies, and re-reads through its :meth:`run_changed` hook.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual import work

from tangtui.ui.format import run_status
from tangtui.ui.messages import RunLaunched
from tangtui.ui.pane import Pane

if TYPE_CHECKING:
    from tangtui.runs.rows import Run

VERBS = {"stop": "Stopping", "resume": "Resumed", "delete": "Deleted"}


class RunActionsPane(Pane):
    """A pane that can stop, resume and delete runs."""

    def stop_run(self, run: Run | None) -> None:
        """Ask the trainer of ``run`` to stop (it checkpoints first), if it is alive."""
        if run is None:
            self.notify("No run selected", severity="warning")
        elif run.liveness() != "alive":
            self.notify(f"{run.name} is not running ({run_status(run)})", severity="warning")
        else:
            self.control_run(run.id, "stop")

    def resume_run(self, run: Run | None) -> None:
        """Start a new trainer for a stopped, failed or dead ``run``."""
        if run is None:
            self.notify("No run selected", severity="warning")
        elif run.liveness() == "alive":
            self.notify(f"{run.name} is already running", severity="warning")
        else:
            self.control_run(run.id, "resume")

    @work(thread=True, exit_on_error=False, group="run-control")
    def control_run(self, run_id: str, action: str) -> None:
        """``stop``/``resume`` through the runner, ``delete`` through the store (which refuses
        while a trainer holds the run's lock); failures become a notification."""
        name = run_name(self.services.store(), run_id)
        if action == "delete":
            self.services.store().delete_run(run_id)
        elif action == "stop":
            self.services.runner().stop(run_id)
        else:
            self.services.runner().resume(run_id)
        self.post_message(RunLaunched(run_id, action, name))

    def on_run_launched(self, message: RunLaunched) -> None:
        message.stop()
        self.notify(f"{VERBS.get(message.action, message.action)} {message.label}")
        self.run_changed(message)

    def run_changed(self, message: RunLaunched) -> None:
        """Hook: re-read the runs after one was stopped, resumed or deleted."""


def run_name(store: Any, run_id: str) -> str:
    """The run's name (its id when the store cannot say)."""
    try:
        return str(store.get_run(run_id).name)
    except Exception:  # noqa: BLE001 - a toast must not fail over a name
        return run_id
