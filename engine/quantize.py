"""int8 weights with one scale per row, for the bundled starter model (half the bytes of fp16).

A matrix W (R, C) is stored as ``q = round(W / s)`` (int8, in [-127, 127]) under its own name
and the row scales ``s = max_j |W_rj| / 127`` (float32, (R,)) under ``"{name}:scale"``;
vectors (biases) stay float16. :func:`dequantize` restores ``W ~= q * s[:, None]`` in float32
on load, so both engines see ordinary weights; the round-off per entry is at most s / 2.
"""

from __future__ import annotations

import numpy as np

SCALE = ":scale"


def quantize(tensors: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Matrices as int8 plus per-row float32 scales; vectors as float16."""
    out: dict[str, np.ndarray] = {}
    for name, w in tensors.items():
        w = np.asarray(w, np.float32)
        if w.ndim != 2:
            out[name] = w.astype(np.float16)
            continue
        s = np.abs(w).max(axis=1) / 127.0  # (R,)
        s[s == 0] = 1.0
        out[name] = np.clip(np.rint(w / s[:, None]), -127, 127).astype(np.int8)
        out[name + SCALE] = s.astype(np.float32)
    return out


def dequantize(tensors: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Undo :func:`quantize` (float32 matrices); tensors without scales pass unchanged."""
    if not any(k.endswith(SCALE) for k in tensors):
        return tensors
    out = {}
    for name, w in tensors.items():
        if name.endswith(SCALE):
            continue
        scale = tensors.get(name + SCALE)
        out[name] = w.astype(np.float32) * scale[:, None] if scale is not None else w
    return out
