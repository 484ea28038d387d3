"""Turn encoded poems into the integer arrays the engines train on.

Two modes:

``stream``
    Poems are joined as ``<bos> poem <eos> <bos> poem <eos> ...`` into one token stream of N
    tokens, cut into B parallel streams of L = (N - 1) // B tokens, and read in windows of T:
    window i is ``x[:, i*T:(i+1)*T]`` with targets shifted by one. No padding at all; the
    recurrent state is carried from one window to the next (truncated BPTT) and reset at the
    start of each epoch. The last window may be shorter than T so no token is dropped.

``poem``
    One poem a row, ``<bos> poem <eos>`` padded with ``<pad>``; rows are grouped by length
    (so little padding is needed), each batch cut to its longest row, and the batch order is
    shuffled each epoch from ``(seed, epoch)``. ``mask`` is 1 on real targets and 0 on padding,
    so padding never counts in the loss or the perplexity. Poems longer than ``seq_len`` tokens
    are left out (:attr:`Batches.dropped` says how many).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

PAD, BOS, EOS, UNK = 0, 1, 2, 3


@dataclass
class Batches:
    mode: str  # "stream" | "poem"
    batch_size: int  # B
    seq_len: int  # T
    seed: int = 0
    # stream: x, y of shape (B, L); poem: rows (N, Tmax + 1) padded with PAD, lengths (N,)
    x: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), np.int64))
    y: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), np.int64))
    rows: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), np.int64))
    lengths: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    groups: list[np.ndarray] = field(default_factory=list)  # poem: row indices of each batch
    n_tokens: int = 0  # target tokens that count (no padding, no <bos> target)
    dropped: int = 0  # poems left out (poem mode: longer than seq_len)

    def num_batches(self) -> int:
        if self.mode == "stream":
            L = self.x.shape[1]
            return -(-L // self.seq_len) if L else 0
        return len(self.groups)

    def order(self, epoch: int) -> np.ndarray:
        """Batch order of ``epoch``: fixed in stream mode, shuffled by (seed, epoch) for poems."""
        n = self.num_batches()
        if self.mode == "stream":
            return np.arange(n)
        if self.seed < 0:  # evaluation batches: a fixed order
            return np.arange(n)
        return np.random.default_rng((self.seed, epoch)).permutation(n)

    def window(self, epoch: int, i: int) -> tuple[int, int] | tuple[np.ndarray, int]:
        """Where batch ``i`` of ``epoch`` lies: stream (start, stop) columns; poem (rows, width)."""
        if self.mode == "stream":
            start = i * self.seq_len
            return start, min(start + self.seq_len, self.x.shape[1])
        g = self.groups[int(self.order(epoch)[i])]
        return g, int(self.lengths[g].max()) - 1

    def batch(self, epoch: int, i: int) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """(x, y, mask) of batch ``i``: x, y (B, T) int64; mask (B, T) float32, 1 where y counts.

        Stream: 0 on ``<bos>`` targets; poem: 0 on padding (``y`` never holds ``<bos>`` there).
        """
        if self.mode == "stream":
            start, stop = self.window(epoch, i)  # type: ignore[misc]
            y = self.y[:, start:stop]
            return self.x[:, start:stop], y, (y != BOS).astype(np.float32)
        g, width = self.window(epoch, i)  # type: ignore[misc]
        block = self.rows[g, : width + 1]  # (B, T + 1)
        x, y = block[:, :-1], block[:, 1:]
        return x, y, (y != PAD).astype(np.float32)


def make_batches(
    encoded: list[np.ndarray], mode: str, batch_size: int, seq_len: int, seed: int = 0
) -> Batches:
    """Build :class:`Batches` from poems encoded *without* markers (each a 1-D int array)."""
    if mode == "stream":
        return _stream(encoded, batch_size, seq_len)
    if mode == "poem":
        return _poem(encoded, batch_size, seq_len, seed)
    raise ValueError(f"unknown batching mode {mode!r} (choose stream or poem)")


def poem_eval_batches(encoded: list[np.ndarray], max_tokens: int = 8192) -> Batches:
    """Every poem alone, for the headline perplexity: ``<bos> poem <eos>`` rows from a zero
    state, grouped by length into batches of at most ``max_tokens`` padded tokens (one row at
    least), none left out however long. ``mask`` (see :meth:`Batches.batch`) hides the padding;
    ``<bos>`` is never a target and ``<eos>`` always is."""
    lengths = np.array([len(p) + 2 for p in encoded], np.int64)
    width = int(lengths.max()) if len(encoded) else 2
    rows = np.full((len(encoded), width), PAD, np.int64)
    for r, p in enumerate(encoded):
        rows[r, 0] = BOS
        rows[r, 1 : len(p) + 1] = p
        rows[r, len(p) + 1] = EOS
    by_len = np.argsort(lengths, kind="stable")
    groups: list[np.ndarray] = []
    start = 0
    while start < len(by_len):  # rows sorted by length: the last row of a group is its widest
        stop = start + 1
        while stop < len(by_len) and (stop - start + 1) * lengths[by_len[stop]] <= max_tokens:
            stop += 1
        groups.append(by_len[start:stop])
        start = stop
    return Batches("poem", max(len(g) for g in groups) if groups else 1, width, seed=-1,
                   rows=rows, lengths=lengths, groups=groups, n_tokens=int((lengths - 1).sum()))


def _stream(encoded: list[np.ndarray], B: int, T: int) -> Batches:
    parts: list[np.ndarray] = []
    bos, eos = np.array([BOS], np.int64), np.array([EOS], np.int64)
    for p in encoded:
        parts += [bos, p.astype(np.int64), eos]
    tokens = np.concatenate(parts) if parts else np.zeros(0, np.int64)
    B = max(1, min(B, (len(tokens) - 1) // max(T, 1) or 1))  # a tiny corpus gets fewer streams
    L = max(0, (len(tokens) - 1) // B)
    x = tokens[: B * L].reshape(B, L)  # (B, L)
    y = tokens[1 : B * L + 1].reshape(B, L)  # (B, L), next token
    return Batches("stream", B, T, x=np.ascontiguousarray(x), y=np.ascontiguousarray(y),
                   n_tokens=int((y != BOS).sum()))


def _poem(encoded: list[np.ndarray], B: int, T: int, seed: int) -> Batches:
    kept = [p for p in encoded if len(p) + 1 <= T]  # x = <bos> poem, y = poem <eos>
    dropped = len(encoded) - len(kept)
    lengths = np.array([len(p) + 2 for p in kept], np.int64)  # with <bos> and <eos>
    width = int(lengths.max()) if len(kept) else 2
    rows = np.full((len(kept), width), PAD, np.int64)
    for r, p in enumerate(kept):
        rows[r, 0] = BOS
        rows[r, 1 : len(p) + 1] = p
        rows[r, len(p) + 1] = EOS
    by_len = np.argsort(lengths, kind="stable")  # neighbours in length share a batch
    groups = [by_len[s : s + B] for s in range(0, len(kept), B)]
    return Batches("poem", B, T, seed=seed, rows=rows, lengths=lengths, groups=groups,
                   n_tokens=int((lengths - 1).sum()), dropped=dropped)
