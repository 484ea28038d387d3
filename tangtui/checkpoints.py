"""Which checkpoint a command composes with: a run's, the newest finished run's, or the starter.

Read-only: it never creates or cleans checkpoint directories, so it is safe while a trainer is
writing the same run.
"""

from __future__ import annotations

from pathlib import Path

from tangtui.errors import TangtuiError


def _complete(path: Path) -> bool:
    return (path / "meta.json").is_file() and (path / "model.safetensors").is_file()


def run_checkpoint(run_dir: Path) -> Path | None:
    """A run's ``checkpoints/best`` (lowest held-out perplexity), else its newest step one."""
    root = Path(run_dir) / "checkpoints"
    if _complete(root / "best"):
        return root / "best"
    steps = sorted(p for p in root.glob("step-*") if _complete(p))
    return steps[-1] if steps else None


def find_checkpoint(ref: str | None = None) -> tuple[Path, str]:
    """(checkpoint directory, a label for people) for ``--run REF``.

    ``REF`` is a run id, name or unique id prefix, or the path of a checkpoint directory.
    Without it: the newest finished run that has a checkpoint, else the bundled starter model.
    """
    from tangtui.store import Store, StoreError

    if ref:
        as_path = Path(ref).expanduser()
        if _complete(as_path):
            return as_path, str(as_path)
        store = Store()
        run = store.get_run(ref)
        path = run_checkpoint(store.run_dir(run.id))
        if path is None:
            raise TangtuiError(f"run {run.name} has no checkpoint yet: wait for its first one")
        return path, f"run {run.name}"
    try:
        store = Store()
        for run in store.list_runs():  # newest first
            path = run_checkpoint(store.run_dir(run.id)) if run.status == "finished" else None
            if path is not None:
                return path, f"run {run.name}"
    except StoreError:
        pass  # no usable store: the starter model still works
    from engine.generate import starter_dir

    return starter_dir(), "starter model"
