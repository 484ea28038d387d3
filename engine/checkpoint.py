"""The one checkpoint format both engines read and write: safetensors plus JSON, never pickle.

A checkpoint is a directory::

    model.safetensors   weights under PyTorch's names (see engine.base), float32 (or int8 with
                        per-row scales for the bundled starter model, see engine.quantize;
                        loaders dequantise and upcast)
    meta.json           {"format": 1, "engine", "config", "vocab", "script", "step", "epoch",
                         "batch", "rng", ...}: everything needed to rebuild the model and resume
    optim.safetensors   optional: optimizer slots as "{slot}/{param}"
    optim.json          optional: optimizer scalars, e.g. {"name": "adam", "step": 1200}

:func:`save_checkpoint` writes into a temporary sibling directory, fsyncs every file and the
directory, then renames it into place, so a crash or ``kill -9`` at any moment leaves either the
old checkpoint or the new one, never half of one.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from safetensors.numpy import load_file, save_file

from engine.quantize import dequantize

FORMAT = 1


class CheckpointError(Exception):
    """A checkpoint is missing, incomplete or of an unknown format."""


@dataclass
class Checkpoint:
    tensors: dict[str, np.ndarray]
    meta: dict[str, Any]
    optim_tensors: dict[str, np.ndarray] = field(default_factory=dict)
    optim_meta: dict[str, Any] = field(default_factory=dict)


def _fsync_path(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_json(path: Path, data: dict[str, Any]) -> None:
    path.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")


def save_checkpoint(path: str | os.PathLike[str], ckpt: Checkpoint) -> Path:
    """Atomically write ``ckpt`` to the directory ``path`` (replacing one that is there)."""
    final = Path(path)
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = final.with_name(f".{final.name}.tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    try:
        meta = {"format": FORMAT, **ckpt.meta}
        save_file({k: np.ascontiguousarray(v) for k, v in ckpt.tensors.items()},
                  str(tmp / "model.safetensors"))
        _write_json(tmp / "meta.json", meta)
        if ckpt.optim_tensors or ckpt.optim_meta:
            save_file({k: np.ascontiguousarray(v) for k, v in ckpt.optim_tensors.items()},
                      str(tmp / "optim.safetensors"))
            _write_json(tmp / "optim.json", ckpt.optim_meta)
        for f in tmp.iterdir():
            _fsync_path(f)
        _fsync_path(tmp)
        old = final.with_name(f".{final.name}.old-{os.getpid()}")
        if final.exists():
            final.rename(old)
        tmp.rename(final)
        _fsync_path(final.parent)
        shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return final


def is_complete(path: str | os.PathLike[str]) -> bool:
    """True if ``path`` holds a whole checkpoint (model.safetensors and meta.json).

    A cheap test for listing; a reader racing a save can still see it replaced between this
    and :func:`load_checkpoint`, which then raises :class:`CheckpointError`.
    """
    root = Path(path)
    return (root / "model.safetensors").is_file() and (root / "meta.json").is_file()


def load_checkpoint(path: str | os.PathLike[str], *, optimizer: bool = True) -> Checkpoint:
    """Read a checkpoint directory; raises :class:`CheckpointError` with a one-line reason."""
    root = Path(path)
    model, meta_file = root / "model.safetensors", root / "meta.json"
    if not model.is_file() or not meta_file.is_file():
        raise CheckpointError(f"no checkpoint at {root} (model.safetensors and meta.json needed)")
    try:
        meta = json.loads(meta_file.read_text(encoding="utf-8"))
        tensors = dequantize(load_file(str(model)))
    except Exception as exc:  # safetensors raises its own error types
        raise CheckpointError(f"corrupt checkpoint at {root}: {exc}") from None
    if meta.get("format") != FORMAT:
        raise CheckpointError(f"checkpoint at {root} has format {meta.get('format')!r}, "
                              f"expected {FORMAT}")
    ckpt = Checkpoint(tensors, meta)
    if optimizer and (root / "optim.safetensors").is_file():
        try:
            ckpt.optim_tensors = load_file(str(root / "optim.safetensors"))
            ckpt.optim_meta = json.loads((root / "optim.json").read_text(encoding="utf-8"))
        except Exception as exc:
            raise CheckpointError(f"corrupt optimizer state at {root}: {exc}") from None
    return ckpt
