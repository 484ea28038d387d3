"""Rows of the run store (see :mod:`tangtui.runs.store`): runs, metrics, evals, samples, poems.

Also the liveness rule, run id/name validation and :class:`StoreError`.
"""

from __future__ import annotations

import os
import re
import socket
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from tangtui.errors import TangtuiError

STATUSES = ("queued", "running", "finished", "stopped", "failed")
ACTIVE = ("queued", "running")
HEARTBEAT_EVERY = 2.0  # seconds between heartbeats of a trainer
HEARTBEAT_STALE = 30.0  # a run with an older heartbeat is considered dead
_ID_RE = re.compile(r"^[a-z0-9][a-z0-9-]{2,40}$")
_NAME_RE = re.compile(r"^[^\W_][\w.-]{0,63}$")  # letters (any script), digits, '.', '_', '-'

class StoreError(TangtuiError):
    """The store cannot be opened or written, or a run does not exist."""


def now_iso() -> str:
    """Local time with offset, to the second: ``2025-01-31T14:03:12+08:00``."""
    return datetime.now().astimezone().isoformat(timespec="seconds")


def _pid_exists(pid: int) -> bool:
    """True if ``pid`` is a live process on this host (a zombie waiting to be reaped is not)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            return f.read().rsplit(b")", 1)[1].split()[0] != b"Z"
    except (OSError, IndexError):
        return True  # no /proc (macOS): trust kill(0)


@dataclass
class Run:
    id: str
    name: str
    engine: str
    status: str  # queued | running | finished | stopped | failed
    reason: str | None  # why it stopped or failed
    pid: int | None
    host: str | None
    heartbeat: float | None  # unix time of the last heartbeat
    created: str  # ISO 8601
    started: str | None
    ended: str | None
    config: dict[str, Any]  # RunConfig.to_dict()
    step: int  # optimizer updates done
    epoch: int
    total_steps: int | None
    tokens_per_s: float | None
    eta_s: float | None
    device: str | None
    best_test_ppl: float | None
    best_step: int | None
    checkpoint_step: int | None  # step of the latest checkpoint on disk
    attempt: int  # incremented at each resume that rewrote history
    info: dict[str, Any] = field(default_factory=dict)

    def heartbeat_age(self, now: float | None = None) -> float | None:
        return None if self.heartbeat is None else (now or time.time()) - self.heartbeat

    def liveness(self, now: float | None = None) -> str:
        """``alive``, ``dead`` (claims to run but does not) or ``ended``."""
        if self.status not in ACTIVE:
            return "ended"
        if self.pid and self.host == socket.gethostname() and not _pid_exists(self.pid):
            return "dead"
        age = self.heartbeat_age(now)
        if age is None:  # queued and not started yet: give the process time to start
            created = datetime.fromisoformat(self.created).timestamp()
            return "alive" if (now or time.time()) - created < HEARTBEAT_STALE else "dead"
        return "alive" if age < HEARTBEAT_STALE else "dead"

    @property
    def display_status(self) -> str:
        return "dead" if self.liveness() == "dead" else self.status

    def to_json(self) -> dict[str, Any]:
        """The keys of ``tangtui runs --json`` first, then the rest."""
        return {"id": self.id, "name": self.name, "engine": self.engine,
                "status": self.display_status, "pid": self.pid, "step": self.step,
                "best_test_ppl": self.best_test_ppl, "created": self.created,
                "reason": self.reason, "epoch": self.epoch + 1,  # counted from 1, as shown
                "total_steps": self.total_steps,
                "tokens_per_s": self.tokens_per_s, "eta_s": self.eta_s, "device": self.device,
                "heartbeat_age_s": _round(self.heartbeat_age()), "started": self.started,
                "ended": self.ended, "best_step": self.best_step,
                "checkpoint_step": self.checkpoint_step}


def _round(x: float | None) -> float | None:
    return None if x is None else round(x, 1)


@dataclass
class MetricRow:
    step: int
    epoch: int
    train_loss: float | None  # mean per-token loss since the previous row (nats)
    lr: float | None
    tokens_per_s: float | None
    time: float  # unix time


@dataclass
class EvalRow:
    step: int
    epoch: int
    test_loss: float  # mean per-character loss, each held-out poem alone from a zero state
    test_ppl: float  # exp(test_loss): the headline perplexity
    tokens: int
    time: float
    stream_loss: float | None = None  # the same over the held-out poems joined into a stream
    stream_ppl: float | None = None


@dataclass
class Sample:
    step: int
    prompt: str
    text: str


@dataclass
class SavedPoem:
    id: int
    run_id: str | None
    text: str
    settings: dict[str, Any]
    created: str


def check_run_id(run_id: str) -> str:
    """Ids are generated (``YYYYmmdd-HHMMSS-xxxx``); anything else is refused before path use."""
    if not isinstance(run_id, str) or not _ID_RE.fullmatch(run_id):
        raise StoreError(f"invalid run id {run_id!r}")
    return run_id


def check_run_name(name: str) -> str:
    """Names: 1-64 letters (any script), digits, '.', '_' or '-', starting with a letter/digit."""
    if not _NAME_RE.fullmatch(name) or ".." in name:
        raise StoreError(f"invalid run name {name!r}: use 1-64 letters, digits, '.', '_' or '-', "
                         "starting with a letter or digit")
    return name
