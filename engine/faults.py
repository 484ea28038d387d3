"""Test-only fault injection at named write phases, so tests can kill or stop a real process
at an exact moment (a kill while ``best`` is half written, a stop during an evaluation).

``TANGTUI_FAULT`` holds comma-separated ``phase[@step][:action]`` items; a process reaching
:func:`fault_point` with a matching phase (and step, when one is given) acts:

    kill     SIGKILL itself (the default): a power cut at that moment
    term     SIGTERM itself: a stop request arriving at that moment
    enospc   raise ``OSError(ENOSPC)``: the disk fills at that moment

Phases: ``step-tmp``/``best-tmp`` (a checkpoint's temporary directory is complete, not yet
renamed into place), ``step-saved`` (a step checkpoint is in place, ``best`` not yet written),
``eval`` (an evaluation is starting), ``cache-write`` (the corpus cache file is half written).
Unset, as always outside tests, a fault point costs one environment lookup.
"""

from __future__ import annotations

import errno
import os
import signal

ENV = "TANGTUI_FAULT"


def fault_point(phase: str, step: int | None = None) -> None:
    """Act as ``$TANGTUI_FAULT`` asks when it names ``phase`` (at ``step``); else nothing."""
    spec = os.environ.get(ENV)
    if not spec:
        return
    for item in spec.split(","):
        where, _, action = item.strip().partition(":")
        name, _, at = where.partition("@")
        if name != phase or (at and (step is None or int(at) != step)):
            continue
        if action in ("", "kill"):
            os.kill(os.getpid(), signal.SIGKILL)
        elif action == "term":
            os.kill(os.getpid(), signal.SIGTERM)
        elif action == "enospc":
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        else:
            raise ValueError(f"{ENV}: unknown action {action!r} (kill, term or enospc)")
