"""The decoding core shared by both engines: turn one step's logits into the next token.

Everything here runs in NumPy on float64 logits (whatever engine produced them), and the only
randomness is one uniform number per sampled position drawn from a seeded
``np.random.Generator``; so the same seed and weights give the same poem with either engine.

Given logits ``z`` (V,), the token is drawn from

    p_i = exp(z'_i / T) / sum_j exp(z'_j / T)    over the tokens kept by the mask, top-k and top-p

where ``z'`` is ``z`` after the repetition penalty (CTRL, Keskar et al. 2019): for a token already
in the poem, ``z'_i = z_i / theta`` if ``z_i > 0`` else ``z_i * theta`` (theta >= 1).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

_PARTIAL = 256  # top-p sorts at most this many tokens unless the distribution is flat


class DecodeError(ValueError):
    """An impossible or malformed generation request; the message says what to change."""


@dataclass(frozen=True)
class Sampling:
    temperature: float = 0.8  # T; 0 means greedy (always the most likely allowed token)
    top_k: int = 0  # keep only the k most likely tokens; 0 keeps all
    top_p: float = 0.95  # nucleus: smallest set whose probability reaches p; 1.0 keeps all
    repetition_penalty: float = 1.0  # theta >= 1 applied to characters already in the poem

    def check(self) -> Sampling:
        """Return ``self`` or raise :class:`DecodeError` naming the bad setting."""
        if not np.isfinite(self.temperature) or self.temperature < 0:
            raise DecodeError(f"temperature must be >= 0 (0 is greedy), got {self.temperature}")
        if self.top_k < 0:
            raise DecodeError(f"top-k must be >= 0 (0 keeps every token), got {self.top_k}")
        if not 0 < self.top_p <= 1:
            raise DecodeError(f"top-p must be in (0, 1] (1 keeps every token), got {self.top_p}")
        if not np.isfinite(self.repetition_penalty) or self.repetition_penalty < 1:
            raise DecodeError("repetition penalty must be >= 1 (1 is off), "
                              f"got {self.repetition_penalty}")
        return self


def _penalise_and_mask(logits: np.ndarray, s: Sampling, allowed: np.ndarray | None,
                       seen: np.ndarray | None) -> np.ndarray:
    """z' as a fresh float64 (V,) array, -inf where ``allowed`` is False."""
    z = np.array(logits, dtype=np.float64)  # (V,) a copy: the engine may reuse its buffer
    if seen is not None and seen.size and s.repetition_penalty != 1.0:
        zs = z[seen]
        z[seen] = np.where(zs > 0, zs / s.repetition_penalty, zs * s.repetition_penalty)
    if allowed is not None:
        z[~allowed] = -np.inf
    return z


def sample_next(logits: np.ndarray, rng: np.random.Generator, s: Sampling,
                allowed: np.ndarray | None = None, seen: np.ndarray | None = None) -> int:
    """Draw the next token id from one step's ``logits`` (V,).

    ``allowed`` (V,) bool is the form's mask (at least one True); ``seen`` holds the ids the
    repetition penalty applies to. Consumes exactly one uniform from ``rng`` unless greedy.
    """
    # 1. repetition penalty and 2. masking: z' with disallowed tokens at -inf
    z = _penalise_and_mask(logits, s, allowed, seen)  # (V,)
    # 3. temperature 0 is greedy: the most likely allowed token, no randomness used
    if s.temperature == 0:
        return int(np.argmax(z))
    # 4. temperature: sharpen (T < 1) or flatten (T > 1) the distribution
    z /= s.temperature
    # 5. top-k: drop everything below the k-th largest allowed logit
    live = z[z > -np.inf]  # the allowed logits only: partitions slow down on many equal values
    if 0 < s.top_k < live.size:
        kth = np.partition(live, live.size - s.top_k)[live.size - s.top_k]
        z[z < kth] = -np.inf
    # 6. softmax (max-subtracted, so exp never overflows)
    p = np.exp(z - live.max())  # (V,) zeros where masked
    p /= p.sum()
    # 7. top-p: keep the smallest set of best tokens whose mass reaches p, renormalise
    if s.top_p < 1.0:
        p[p < _nucleus_floor(p, s.top_p)] = 0.0
        p /= p.sum()
    # 8. sample by inverse CDF over the kept tokens in id order (stable under tiny noise)
    kept = np.flatnonzero(p)  # ascending ids
    cdf = np.cumsum(p[kept])
    return int(kept[min(np.searchsorted(cdf, rng.random() * cdf[-1], side="right"),
                        kept.size - 1)])


def _nucleus_floor(p: np.ndarray, top_p: float) -> float:
    """tau: the least probability in the top-p nucleus of ``p`` (V,).

    The nucleus is the best tokens whose mass first reaches ``top_p``; every token with
    p_i >= tau is kept, so ties are never split. Any set of the best tokens whose mass reaches
    ``top_p`` holds the nucleus, so only that set needs sorting: first those within a factor
    1e-3 of the best, else the 256 best (partitioned out in O(V)), else every nonzero one.
    """
    best = p[p >= p.max() * 1e-3]
    if best.sum() < top_p:
        q = p[p > 0]
        best = np.partition(q, q.size - _PARTIAL)[q.size - _PARTIAL:] if q.size > _PARTIAL else q
        if best.sum() < top_p:
            best = q
    desc = np.sort(best)[::-1]  # most likely first
    return float(desc[min(int(np.searchsorted(np.cumsum(desc), top_p)), desc.size - 1)])


def distribution(logits: np.ndarray, s: Sampling, allowed: np.ndarray | None = None,
                 seen: np.ndarray | None = None) -> np.ndarray:
    """softmax(z' / T) over the allowed tokens (V,), before top-k and top-p cut the tail
    (T = 1 when greedy): what the model considered at this position, for display."""
    z = _penalise_and_mask(logits, s, allowed, seen)
    z /= s.temperature or 1.0
    p = np.exp(z - z.max())
    p /= p.sum()
    return p


def top_candidates(p: np.ndarray, k: int) -> list[tuple[int, float]]:
    """The ``k`` most likely tokens of ``p`` (V,) with their probabilities, most likely first."""
    k = min(k, int(np.count_nonzero(p)))
    if k <= 0:
        return []
    best = np.argpartition(p, p.size - k)[p.size - k:]  # the k best, unordered
    best = best[np.argsort(-p[best], kind="stable")]
    return [(int(i), float(p[i])) for i in best]
