"""Which checkpoint a command composes with: a run's, the newest finished run's, or the starter.

Read-only: it never creates or cleans checkpoint directories, so it is safe while a trainer is
writing the same run. A live trainer replaces ``best`` by two renames, so a reader can find it
gone or swapped between reading meta.json and model.safetensors: :func:`load_retrying` locates
and loads again once when that happens.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from engine.checkpoint import CheckpointError, is_complete
from tangtui.errors import TangtuiError

P = TypeVar("P")
T = TypeVar("T")


def run_checkpoint(run_dir: Path) -> Path | None:
    """A run's ``checkpoints/best`` (lowest held-out perplexity), else its newest step one."""
    root = Path(run_dir) / "checkpoints"
    if is_complete(root / "best"):
        return root / "best"
    steps = sorted(p for p in root.glob("step-*") if is_complete(p))
    return steps[-1] if steps else None


def checkpoint_of(root: Path, key: str) -> Path | None:
    """The checkpoint directory of a model key (a run id or ``starter``) in the store ``root``."""
    from engine.generate import starter_dir
    from tangtui.runs.models import STARTER

    return starter_dir() if key == STARTER else run_checkpoint(root / "runs" / key)


def load_retrying(locate: Callable[[], P], load: Callable[[P], T]) -> T:
    """``load(locate())``, once more from a fresh ``locate()`` if the first try failed with
    :class:`CheckpointError` or ``OSError`` (the trainer renamed the checkpoint meanwhile)."""
    try:
        return load(locate())
    except (CheckpointError, OSError):
        return load(locate())


def find_checkpoint(ref: str | None = None) -> tuple[Path, str]:
    """(checkpoint directory, a label for people) for ``--run REF``.

    ``REF`` is a run id, name or unique id prefix, ``starter`` (the bundled model), or the path
    of a checkpoint directory. Without it: the best model available (see
    :func:`tangtui.runs.models.default_model`), the starter included.
    """
    from engine.generate import starter_dir
    from tangtui.runs.models import STARTER, all_choices, default_model
    from tangtui.runs.store import Store, StoreError

    if ref == STARTER:
        return starter_dir(), "starter model"
    if ref:
        as_path = Path(ref).expanduser()
        if is_complete(as_path):
            return as_path, str(as_path)
        store = Store()
        run = store.get_run(ref)
        path = run_checkpoint(store.run_dir(run.id))
        if path is None:
            raise TangtuiError(f"run {run.name} has no checkpoint yet: wait for its first one")
        return path, f"run {run.name}"
    try:
        store: Store | None = Store()
    except StoreError:
        store = None  # no usable store: the starter model still works
    choices = all_choices(store)
    key = default_model(choices)
    if key != STARTER and store is not None:
        path = run_checkpoint(store.run_dir(key))
        if path is not None:
            choice = next(c for c in choices if c.key == key)
            return path, f"run {choice.name} (the best model: {choice.label})"
    return starter_dir(), "starter model"
