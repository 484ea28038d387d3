"""The checkpoints of one run: ``<run dir>/checkpoints/step-NNNNNNNN`` (the latest few) + ``best``.

Each is written atomically by :func:`engine.checkpoint.save_checkpoint`; older step checkpoints
are removed only after a newer one is complete, so a kill at any moment leaves a good one.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from engine.checkpoint import Checkpoint, CheckpointError, is_complete, save_checkpoint


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
        """Write ``step-NNNNNNNN`` (and ``best`` when asked), then drop the oldest extras."""
        try:
            path = save_checkpoint(self.root / f"step-{step:08d}", ckpt)
            if best:
                save_checkpoint(self.root / "best", ckpt)
        except OSError as exc:  # disk full, permissions: the previous checkpoints are intact
            raise CheckpointError(f"cannot write a checkpoint under {self.root}: "
                                  f"{exc.strerror or exc}; the previous one is kept") from None
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


def checkpoint_step(path: Path) -> int:
    """The step recorded in a checkpoint's meta.json."""
    return int(json.loads((path / "meta.json").read_text(encoding="utf-8"))["step"])
