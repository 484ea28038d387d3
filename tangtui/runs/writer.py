"""A trainer's writes to the store, kept in order in memory and retried while the store is busy.

A viewer holding a long write transaction, a backup taking ``BEGIN EXCLUSIVE``, a full disk: the
trainer must train on through any of them. :class:`StoreWriter` queues every write (metrics,
evaluations, samples, progress) and one thread applies them in order; a write that fails with
:class:`StoreError` stays at the head and is retried with exponential back-off (0.25 s doubling to
8 s), so nothing is lost or reordered. The log says when the store stopped answering, and when it
answered again how long it waited and how many writes were held back. Memory: about 200 bytes a
queued write (a log row every 10 steps stays under a megabyte an hour).

:func:`retrying` does one write the same way but waits for it (start and end of a run).
"""

from __future__ import annotations

import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import TextIO, TypeVar

from tangtui.runs.rows import StoreError

T = TypeVar("T")
BACKOFF_FIRST, BACKOFF_MAX = 0.25, 8.0  # seconds between retries: doubling from first to max
PATIENCE = 600.0  # seconds a trainer waits for the store at its start and end before giving up


def log_line(text: str, stream: TextIO | None = None) -> None:
    """Print one line of the trainer's log; a full disk under train.log never ends the run."""
    try:
        print(text, file=stream or sys.stdout, flush=True)
    except (OSError, ValueError):  # ENOSPC, or a closed stream
        pass


def retrying(write: Callable[[], T], what: str, say: Callable[[str], None],
             patience: float = PATIENCE) -> T:
    """``write()``, retried with back-off for up to ``patience`` s while it raises StoreError."""
    started, delay, told = time.monotonic(), BACKOFF_FIRST, False
    while True:
        try:
            result = write()
        except StoreError as exc:
            waited = time.monotonic() - started
            if waited + delay > patience:
                raise
            if not told:
                say(f"the run store is not answering ({_short(exc)}); retrying {what}")
                told = True
            time.sleep(delay)
            delay = min(2 * delay, BACKOFF_MAX)
            continue
        if told:
            say(f"the run store answered after {time.monotonic() - started:.1f} s; {what} done")
        return result


class StoreWriter:
    """An ordered queue of store writes, applied by one background thread with retries."""

    def __init__(self, say: Callable[[str], None]) -> None:
        self.say = say
        self._queue: deque[tuple[str, Callable[[], object]]] = deque()
        self._cond = threading.Condition()
        self._closed = False
        self._busy = False  # a write is being applied
        self.outages: list[tuple[float, int]] = []  # (seconds waited, writes held) per outage
        self._thread = threading.Thread(target=self._drain, name="tangtui-store-writer",
                                        daemon=True)
        self._thread.start()

    def put(self, what: str, write: Callable[[], object]) -> None:
        """Queue ``write`` (a call on the store); returns at once."""
        with self._cond:
            self._queue.append((what, write))
            self._cond.notify_all()

    def pending(self) -> int:
        with self._cond:
            return len(self._queue) + self._busy

    def flush(self, timeout: float = PATIENCE) -> bool:
        """Wait until every queued write is applied; False if ``timeout`` s passed first."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._queue or self._busy:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(min(left, 0.5))
        return True

    def close(self, timeout: float = PATIENCE) -> bool:
        """Flush, then stop the thread; False (with a log line) if writes were left over."""
        done = self.flush(timeout)
        with self._cond:
            left = len(self._queue)
            self._closed = True
            self._queue.clear()
            self._cond.notify_all()
        if not done:
            self.say(f"gave up on the run store after {timeout:g} s: {left} writes (metrics, "
                     "evaluations, samples) were not recorded; the checkpoints are intact")
        return done

    def _drain(self) -> None:
        outage: float | None = None  # monotonic time the current outage began
        delay = BACKOFF_FIRST
        while True:
            with self._cond:
                while not self._queue and not self._closed:
                    self._cond.wait()
                if self._closed:
                    return
                what, write = self._queue[0]
                self._busy = True
            try:
                write()
            except StoreError as exc:
                with self._cond:
                    self._busy = False
                if outage is None:
                    outage = time.monotonic()
                    self.say(f"the run store is not answering ({_short(exc)}); keeping {what} "
                             "and what follows in memory, retrying")
                time.sleep(delay)
                delay = min(2 * delay, BACKOFF_MAX)
                continue
            except Exception as exc:  # a bug in one write must not stop the others
                self.say(f"could not record {what} in the run store: {exc}")
            with self._cond:
                self._queue.popleft()
                self._busy = False
                held = len(self._queue) + 1
                self._cond.notify_all()
            if outage is not None:
                waited = time.monotonic() - outage
                self.outages.append((waited, held))
                self.say(f"the run store answered after {waited:.1f} s; writing the {held} "
                         "writes held in memory")
                outage, delay = None, BACKOFF_FIRST


def _short(exc: BaseException) -> str:
    text = str(exc)
    return text.rsplit(": ", 1)[-1] if ": " in text else text
