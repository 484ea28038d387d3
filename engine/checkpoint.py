"""The one checkpoint format both engines read and write: safetensors plus JSON, never pickle.

A checkpoint is a directory::

    model.safetensors   weights under PyTorch's names (see engine.base), float32 (or int8 with
                        per-row scales for the bundled starter model, see engine.quantize;
                        loaders dequantise and upcast)
    meta.json           {"format": 1, "engine", "config", "vocab", "script", "step", "epoch",
                         "batch", "rng", "files", ...}: everything needed to rebuild the model
                        and resume; "files" holds the SHA-256 and size of every other file
    optim.safetensors   optional: optimizer slots as "{slot}/{param}"
    optim.json          optional: optimizer scalars, e.g. {"name": "adam", "step": 1200}

:func:`save_checkpoint` writes into a temporary sibling directory, fsyncs every file and the
directory, then renames it into place, so a crash or ``kill -9`` at any moment leaves either the
old checkpoint or the new one, never half of one.

:func:`load_checkpoint` checks each file against its recorded SHA-256 (a truncated or
overwritten file is reported as damaged, naming the file) and that meta.json has the keys a
model needs (:data:`REQUIRED`); checkpoints without "files" (older ones, the bundled starter
model) load unverified.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from safetensors.numpy import load, save

from engine.faults import fault_point
from engine.quantize import dequantize

FORMAT = 1
REQUIRED = ("engine", "config", "vocab")  # meta.json keys every checkpoint needs


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


def _json_bytes(data: dict[str, Any]) -> bytes:
    return json.dumps(data, ensure_ascii=False, indent=1).encode("utf-8")


def _write_bytes(path: Path, data: bytes) -> dict[str, Any]:
    """Write ``data`` to ``path``; its {"sha256", "bytes"} entry for meta.json."""
    with open(path, "wb") as f:
        f.write(data)
    return {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}


def _tensor_bytes(tensors: dict[str, np.ndarray]) -> bytes:
    return save({k: np.ascontiguousarray(v) for k, v in tensors.items()})


def save_checkpoint(path: str | os.PathLike[str], ckpt: Checkpoint) -> Path:
    """Atomically write ``ckpt`` to the directory ``path`` (replacing one that is there)."""
    final = Path(path)
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = final.with_name(f".{final.name}.tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    try:
        files = {"model.safetensors": _write_bytes(tmp / "model.safetensors",
                                                   _tensor_bytes(ckpt.tensors))}
        if ckpt.optim_tensors or ckpt.optim_meta:
            files["optim.safetensors"] = _write_bytes(tmp / "optim.safetensors",
                                                      _tensor_bytes(ckpt.optim_tensors))
            files["optim.json"] = _write_bytes(tmp / "optim.json", _json_bytes(ckpt.optim_meta))
        meta = {"format": FORMAT, **ckpt.meta, "files": files}
        _write_bytes(tmp / "meta.json", _json_bytes(meta))
        for f in tmp.iterdir():
            _fsync_path(f)
        _fsync_path(tmp)
        fault_point("best-tmp" if final.name == "best" else "step-tmp", ckpt.meta.get("step"))
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


def _read_verified(root: Path, name: str, meta: dict[str, Any]) -> bytes:
    """The bytes of ``root/name``, checked against meta.json's record when it has one."""
    try:
        data = (root / name).read_bytes()
    except OSError as exc:
        raise CheckpointError(f"cannot read {root / name}: {exc.strerror or exc}") from None
    want = (meta.get("files") or {}).get(name)
    if want is not None:
        if len(data) != want.get("bytes", len(data)):
            raise CheckpointError(f"damaged checkpoint at {root}: {name} has {len(data):,} "
                                  f"bytes, {want['bytes']:,} were written (truncated?)")
        if hashlib.sha256(data).hexdigest() != want.get("sha256"):
            raise CheckpointError(f"damaged checkpoint at {root}: {name} does not match "
                                  "its checksum")
    return data


def read_meta(path: str | os.PathLike[str]) -> dict[str, Any]:
    """A checkpoint's meta.json, checked for format and :data:`REQUIRED` keys."""
    root = Path(path)
    try:
        meta = json.loads((root / "meta.json").read_text(encoding="utf-8"))
    except OSError as exc:
        raise CheckpointError(f"cannot read {root / 'meta.json'}: {exc.strerror or exc}") from None
    except ValueError as exc:  # JSON or UTF-8 errors: garbage in the file
        raise CheckpointError(f"damaged checkpoint at {root}: meta.json is not valid JSON "
                              f"({exc})") from None
    if not isinstance(meta, dict):
        raise CheckpointError(f"damaged checkpoint at {root}: meta.json is not a JSON object")
    if meta.get("format") != FORMAT:
        raise CheckpointError(f"checkpoint at {root} has format {meta.get('format')!r}, "
                              f"expected {FORMAT}")
    missing = [k for k in REQUIRED if k not in meta]
    if missing:
        raise CheckpointError(f"damaged checkpoint at {root}: meta.json lacks "
                              f"{', '.join(map(repr, missing))}")
    return meta


def load_checkpoint(path: str | os.PathLike[str], *, optimizer: bool = True) -> Checkpoint:
    """Read and verify a checkpoint directory; :class:`CheckpointError` with a one-line reason."""
    root = Path(path)
    if not (root / "model.safetensors").is_file() or not (root / "meta.json").is_file():
        raise CheckpointError(f"no checkpoint at {root} (model.safetensors and meta.json needed)")
    meta = read_meta(root)
    try:
        tensors = dequantize(load(_read_verified(root, "model.safetensors", meta)))
    except CheckpointError:
        raise
    except Exception as exc:  # safetensors raises its own error types
        raise CheckpointError(f"damaged checkpoint at {root}: model.safetensors: {exc}") from None
    ckpt = Checkpoint(tensors, meta)
    if optimizer and (root / "optim.safetensors").is_file():
        try:
            ckpt.optim_tensors = load(_read_verified(root, "optim.safetensors", meta))
            ckpt.optim_meta = json.loads(_read_verified(root, "optim.json", meta))
        except CheckpointError:
            raise
        except Exception as exc:
            raise CheckpointError(f"damaged optimizer state at {root}: {exc}") from None
    return ckpt
