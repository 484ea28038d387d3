"""The checkpoints of one run: ``<run dir>/checkpoints/step-NNNNNNNN`` (the latest few) + ``best``.

Each is written atomically by :func:`engine.checkpoint.save_checkpoint`; older step checkpoints
are removed only after a newer one is complete, so a kill at any moment leaves a good one.

On resume :meth:`CheckpointKeeper.intact` picks the newest step checkpoint whose files match
their checksums; a damaged one is renamed ``damaged-step-NNNNNNNN`` (kept for inspection, never
listed again) and the reason is reported. :meth:`CheckpointKeeper.repair_best` then makes
``best`` hold the weights of the best evaluation recorded in that checkpoint: a kill between
writing ``step-N`` and ``best`` (or a damaged ``best``) is mended from ``step-N``.
"""

from __future__ import annotations

import errno
import json
import shutil
from collections.abc import Callable
from pathlib import Path

from engine.checkpoint import (
    Checkpoint,
    CheckpointError,
    is_complete,
    load_checkpoint,
    read_meta,
    save_checkpoint,
)
from engine.faults import fault_point

FULL = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)


class CheckpointKeeper:
    def __init__(self, run_dir: Path, keep: int = 3) -> None:
        self.root = Path(run_dir) / "checkpoints"
        self.keep = max(1, keep)
        self.root.mkdir(parents=True, exist_ok=True)
        for stale in self.root.glob(".*.tmp-*"):  # left by a kill during a save
            shutil.rmtree(stale, ignore_errors=True)
        for old in self.root.glob(".*.old-*"):  # a kill between save_checkpoint's renames
            final = self.root / old.name[1:].rsplit(".old-", 1)[0]
            if final.exists():
                shutil.rmtree(old, ignore_errors=True)
            else:
                old.rename(final)

    def save(self, ckpt: Checkpoint, step: int, best: bool = False) -> Path:
        """Write ``step-NNNNNNNN`` (and ``best`` when asked), then drop the oldest extras.

        A full disk (or any write error) raises :class:`CheckpointError` saying so; the
        temporary files are gone and the previous checkpoints are intact.
        """
        try:
            path = save_checkpoint(self.root / f"step-{step:08d}", ckpt)
            fault_point("step-saved", step)
            if best:
                save_checkpoint(self.root / "best", ckpt)
        except OSError as exc:
            raise CheckpointError(f"cannot write a checkpoint under {self.root}: "
                                  f"{_why(exc)}") from None
        except Exception as exc:  # safetensors' SafetensorError is no OSError
            if type(exc).__name__ != "SafetensorError":
                raise
            raise CheckpointError(f"cannot write a checkpoint under {self.root}: "
                                  f"{_why(exc)}") from None
        for old in self.steps()[: -self.keep]:
            shutil.rmtree(old, ignore_errors=True)
        return path

    def steps(self) -> list[Path]:
        """Complete step checkpoints, oldest first."""
        return sorted((p for p in self.root.glob("step-*") if is_complete(p)),
                      key=lambda p: p.name)

    def discard_after(self, step: int) -> bool:
        """Remove the step checkpoints later than ``step`` (a failed run's unchecked ones)."""
        late = [p for p in self.steps() if int(p.name.split("-")[1]) > step]
        for p in late:
            shutil.rmtree(p, ignore_errors=True)
        return bool(late)

    def latest(self) -> Path | None:
        steps = self.steps()
        return steps[-1] if steps else None

    def best(self) -> Path | None:
        path = self.root / "best"
        return path if is_complete(path) else None

    def intact(self, say: Callable[[str], None] = print) -> Path | None:
        """The newest step checkpoint that loads and matches its checksums, else None.

        The damaged ones newer than it are renamed ``damaged-<name>`` and reported through
        ``say``. Raises :class:`CheckpointError` naming each damage (and renaming nothing)
        when step checkpoints exist but none is intact.
        """
        damaged: list[tuple[Path, str]] = []
        for path in reversed(self.steps()):
            try:
                load_checkpoint(path)
            except CheckpointError as exc:
                damaged.append((path, str(exc).replace(f"damaged checkpoint at {path}: ", "")))
                continue
            for bad, why in damaged:
                aside = self.root / f"damaged-{bad.name}"
                shutil.rmtree(aside, ignore_errors=True)
                bad.rename(aside)
                say(f"checkpoint {bad.name} is damaged ({why}); moved it to {aside.name}")
            if damaged:
                say(f"resuming from the newest intact checkpoint, {path.name}")
            return path
        if damaged:
            raise CheckpointError("no intact checkpoint to resume from in " + str(self.root)
                                  + ": " + "; ".join(f"{p.name}: {why}" for p, why in damaged))
        return None

    def repair_best(self, start: Path, say: Callable[[str], None] = print) -> None:
        """Make ``best`` match the best evaluation recorded in checkpoint ``start``.

        ``best_step`` in ``start``'s meta names it; if ``best`` is missing, damaged or of
        another step, it is rewritten from ``step-<best_step>`` when that checkpoint is still
        on disk (it always is after a kill between the two writes: ``step-N`` is the newest).
        """
        want = read_meta(start).get("best_step")
        if want is None:
            return
        have, why = None, "missing"
        if (self.root / "best").exists():
            try:
                have = load_checkpoint(self.root / "best", optimizer=False).meta.get("step")
                why = f"of step {have}"
            except CheckpointError as exc:
                why = f"damaged ({exc})"
        if have == want:
            return
        source = self.root / f"step-{int(want):08d}"
        if not is_complete(source):
            say(f"checkpoints/best is {why} but the best evaluation was at step {want}, whose "
                "checkpoint is gone; best keeps what it has")
            return
        save_checkpoint(self.root / "best", load_checkpoint(source))
        say(f"checkpoints/best was {why}; rewrote it from {source.name} (the best evaluation)")


def _why(exc: BaseException) -> str:
    no_space = (isinstance(exc, OSError) and exc.errno in FULL) or \
        "no space" in str(exc).lower() or "os error 28" in str(exc).lower()
    if no_space:
        return "no space left on device; the previous checkpoint is kept"
    detail = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
    return f"{detail}; the previous checkpoint is kept"


def checkpoint_step(path: Path) -> int:
    """The step recorded in a checkpoint's meta.json."""
    return int(json.loads((path / "meta.json").read_text(encoding="utf-8"))["step"])
