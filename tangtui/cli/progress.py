"""The one-line progress bar of a foreground ``tangtui train`` (on stderr, so --json stays clean).

On a terminal it redraws one line at most ``FPS`` times a second and prints evaluations and
samples above it; elsewhere (a pipe, a CI log) it prints one plain line per evaluation.
"""

from __future__ import annotations

import math
import shutil
import sys
import time
from typing import Any, TextIO

FPS = 8.0


def fmt_duration(seconds: float | None) -> str:
    """``1:02:03``, ``4:05`` or ``--:--``."""
    if seconds is None or not math.isfinite(seconds) or seconds < 0:
        return "--:--"
    s = int(round(seconds))
    h, m = divmod(s, 3600)
    m, s = divmod(m, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def ppl(loss: float | None) -> float | None:
    return None if loss is None else math.exp(min(loss, 700.0))


class ProgressBar:
    """Trainer hooks drawing ``step ━━━━──── 42% loss 4.81 ppl 123 test 131 12,345 tok/s ETA``."""

    def __init__(self, stream: TextIO | None = None, tty: bool | None = None) -> None:
        self.out = stream or sys.stderr
        self.tty = self.out.isatty() if tty is None else tty
        self.loss: float | None = None
        self.tps: float | None = None
        self.test_ppl: float | None = None
        self._last_draw = 0.0
        self._drawn = False

    # -- hooks ---------------------------------------------------------------------------------

    def on_start(self, p: Any) -> None:
        if p.step:
            self._print(f"resuming at step {p.step:,} of {p.total_steps:,} (epoch {p.epoch + 1})")

    def on_step(self, p: Any) -> None:
        now = time.monotonic()
        if self.tty and (now - self._last_draw >= 1.0 / FPS or p.step >= p.total_steps):
            self._last_draw = now
            self._draw(p)

    def on_log(self, p: Any) -> None:
        self.loss, self.tps = p.train_loss, p.tokens_per_s

    def on_eval(self, p: Any, ev: Any) -> None:
        self.test_ppl = ev.ppl
        train = f"train loss {self.loss:.4f}  " if self.loss is not None else ""
        stream = f"  stream ppl {ev.stream_ppl:.2f}" if ev.stream_ppl is not None else ""
        self._print(f"step {p.step:,}: {train}held-out ppl {ev.ppl:.2f} per poem  (best "
                    f"{p.best_test_ppl:.2f}){stream}")

    def on_samples(self, p: Any, samples: list[tuple[str, str]]) -> None:
        if self.tty:
            for _, text in samples:
                self._print(f"  {text}")

    def on_checkpoint(self, p: Any, path: Any) -> None: ...

    # -- drawing -------------------------------------------------------------------------------

    def line(self, p: Any, width: int) -> str:
        frac = p.step / max(1, p.total_steps)
        parts = [f"{frac:4.0%}"]
        if self.loss is not None:
            parts.append(f"loss {self.loss:.3f} ppl {ppl(self.loss):.1f}")
        if self.test_ppl is not None:
            parts.append(f"test {self.test_ppl:.1f}")
        if self.tps:
            parts.append(f"{self.tps:,.0f} tok/s")
        parts.append(f"ETA {fmt_duration(p.eta_s)}")
        head = f"step {p.step:,}/{p.total_steps:,} "
        tail = " " + " │ ".join(parts)
        room = width - len(head) - len(tail) - 1
        if room >= 8:
            filled = int(round(frac * min(room, 30)))
            return head + "━" * filled + "─" * (min(room, 30) - filled) + tail
        return (head + tail)[: width - 1]

    def _draw(self, p: Any) -> None:
        width = shutil.get_terminal_size((100, 24)).columns
        self.out.write("\r\x1b[2K" + self.line(p, width))
        self.out.flush()
        self._drawn = True

    def _print(self, text: str) -> None:
        if self.tty and self._drawn:
            self.out.write("\r\x1b[2K")
        self.out.write(text + "\n")
        self.out.flush()

    def close(self) -> None:
        if self.tty and self._drawn:
            self.out.write("\n")
            self.out.flush()
            self._drawn = False
