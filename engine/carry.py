"""The recurrent state a stream carries from one window to the next, as checkpoint arrays.

Per layer k the pair (h, c), each (B, H), travels as ``carry/h_l{k}`` and ``carry/c_l{k}``
(see :mod:`engine.base`); both engines use these helpers, so they live apart from the engine
interface (which builds the engines) and no engine imports :mod:`engine.base`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from engine.checkpoint import CheckpointError


def carry_to_arrays(state: list[tuple[np.ndarray, np.ndarray]]) -> dict[str, np.ndarray]:
    """Per-layer (h, c) pairs, each (B, H), as ``carry/h_l{k}``, ``carry/c_l{k}`` copies."""
    out: dict[str, np.ndarray] = {}
    for k, (h, c) in enumerate(state):
        out[f"carry/h_l{k}"], out[f"carry/c_l{k}"] = np.array(h), np.array(c)
    return out


def carry_from_arrays(tensors: dict[str, np.ndarray], layers: int, hidden: int,
                      dtype: Any) -> list[tuple[np.ndarray, np.ndarray]] | None:
    """Inverse of :func:`carry_to_arrays` (other keys are ignored); None when no carry is there."""
    if not any(k.startswith("carry/") for k in tensors):
        return None
    state = []
    batch = None
    for k in range(layers):
        pair = []
        for part in ("h", "c"):
            arr = tensors.get(f"carry/{part}_l{k}")
            if arr is None or arr.ndim != 2 or arr.shape[1] != hidden or \
                    (batch is not None and arr.shape[0] != batch):
                raise CheckpointError(f"carried state carry/{part}_l{k} is missing or does not "
                                      f"fit a model of {layers} layers of {hidden}")
            batch = arr.shape[0]
            pair.append(np.array(arr, dtype=dtype))
        state.append((pair[0], pair[1]))
    n = sum(1 for k in tensors if k.startswith("carry/"))
    if n != 2 * layers:
        raise CheckpointError(f"carried state has {n} arrays; a model of {layers} layers "
                              f"needs {2 * layers}")
    return state
