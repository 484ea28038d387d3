"""An embedding lookup kept unexpanded, as the first LSTM layer's input.

x[t, b] = table[ids[t, b]]: the layer projects only the U distinct rows (U x D x 4H multiply-adds
instead of T B x D x 4H) and its backward returns the gradient of those rows, summed per id,
never a dense dx.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.numpy_engine.threads import over_rows


@dataclass
class RowInput:
    """Input x[t, b] = table[ids[t, b]]: an embedding lookup kept unexpanded."""

    table: np.ndarray  # (V, D)
    uniq: np.ndarray  # (U,) distinct ids, sorted
    inverse: np.ndarray  # (T*B,) position of each id in uniq
    order: np.ndarray  # (T*B,) stable argsort of the ids (groups equal ids)
    starts: np.ndarray  # (U,) where each id's group starts in ``order``

    @classmethod
    def of(cls, table: np.ndarray, ids: np.ndarray) -> RowInput:
        flat = ids.reshape(-1)
        order = np.argsort(flat, kind="stable")
        sorted_ids = flat[order]
        first = np.empty(len(flat), bool)
        first[0] = True
        np.not_equal(sorted_ids[1:], sorted_ids[:-1], out=first[1:])
        starts = np.flatnonzero(first)
        uniq = sorted_ids[starts]
        inverse = np.empty(len(flat), np.intp)
        inverse[order] = np.cumsum(first) - 1
        return cls(table, uniq, inverse, order, starts)

    def segment_sums(self, G: np.ndarray, out: np.ndarray) -> None:
        """out[j] = sum of the rows of G (T*B, n) at the positions of id uniq[j]. (One
        ``np.add.reduce`` over the gathered rows per repeated id, on all cores: many times
        faster than ``np.add.reduceat`` along axis 0, and no (T*B, n) copy of G sorted.)"""
        starts = self.starts.tolist()
        ends = [*starts[1:], len(self.order)]
        order = self.order

        def work(j0: int, j1: int) -> None:
            for j in range(j0, j1):
                a, b = starts[j], ends[j]
                if b - a == 1:
                    out[j] = G[order[a]]
                else:
                    np.add.reduce(G[order[a:b]], axis=0, out=out[j])

        over_rows(len(starts), G.size, work, 64)
