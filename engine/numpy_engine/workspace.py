"""Reusable scratch memory, so a training step allocates nothing once the first batch has run.

Large ``np.empty`` calls are not free: every fresh page is faulted in and zeroed by the kernel
(the logits alone are T*B*V floats, about 480 MB at the report's size). A :class:`Workspace`
keeps one flat buffer per name and hands out C-contiguous views of the requested shape, growing
the buffer only when a larger shape is asked for (poem batches vary in width).
"""

from __future__ import annotations

import numpy as np


class Workspace:
    """Named, growable scratch buffers of one dtype."""

    def __init__(self, dtype: np.dtype | type) -> None:
        self.dtype = np.dtype(dtype)
        self._flat: dict[str, np.ndarray] = {}

    def get(
        self, name: str, shape: tuple[int, ...], dtype: np.dtype | type | None = None
    ) -> np.ndarray:
        """A contiguous view of ``shape`` on buffer ``name`` (contents are left undefined)."""
        dt = self.dtype if dtype is None else np.dtype(dtype)
        size = int(np.prod(shape, dtype=np.int64))
        flat = self._flat.get(name)
        if flat is None or flat.size < size or flat.dtype != dt:
            flat = np.empty(max(size, 1), dt)
            self._flat[name] = flat
        return flat[:size].reshape(shape)

    def zeros(self, name: str, shape: tuple[int, ...]) -> np.ndarray:
        """Like :meth:`get`, filled with zeros."""
        out = self.get(name, shape)
        out.fill(0)
        return out

    def nbytes(self) -> int:
        """Bytes held by all buffers."""
        return sum(a.nbytes for a in self._flat.values())
