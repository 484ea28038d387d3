"""Live samples during training: a few short poems from fixed first characters.

A deliberately small sampler on :meth:`Engine.step_logits` (the full one is :mod:`engine.decode`):
feed ``<bos>`` and the first character, then repeatedly draw from
``softmax(z / T)`` restricted to the ``TOP_K`` best tokens, until ``<eos>`` or ``max_len``.
The special tokens other than ``<eos>`` are never drawn. All prompts run as one batch.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from engine.corpus.batching import BOS, EOS, PAD, UNK

PROMPTS = ("春", "月", "山", "风")
TEMPERATURE = 0.8
TOP_K = 40


def sample_poems(engine: Any, vocab: Any, prompts: tuple[str, ...], rng: np.random.Generator,
                 max_len: int = 48) -> list[tuple[str, str]]:
    """``[(first character, poem)]`` for the prompts whose first character is in the vocabulary."""
    usable = [p[0] for p in prompts if p and p[0] in vocab.stoi]
    if not usable:  # a tiny corpus may lack them: start from the most common characters
        usable = [vocab.itos[i] for i in range(4, min(len(vocab.itos), 4 + len(prompts)))]
    if not usable:
        return []
    B = len(usable)
    state = engine.initial_state(B)
    _, state = engine.step_logits(np.full(B, BOS, np.int64), state)  # (B, V)
    first = np.array([vocab.stoi[ch] for ch in usable], np.int64)  # (B,)
    logits, state = engine.step_logits(first, state)  # (B, V)
    out: list[list[int]] = [[] for _ in range(B)]
    done = np.zeros(B, bool)
    for _ in range(max_len):
        nxt = _draw(logits, rng)  # (B,)
        for b in range(B):
            if not done[b]:
                if nxt[b] == EOS:
                    done[b] = True
                else:
                    out[b].append(int(nxt[b]))
        if done.all():
            break
        logits, state = engine.step_logits(nxt, state)
    return [(p, p + vocab.decode(np.array(o, np.int64))) for p, o in zip(usable, out,
                                                                         strict=True)]


def _draw(logits: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    z = np.array(logits, np.float64) / TEMPERATURE  # (B, V)
    z[:, [PAD, BOS, UNK]] = -np.inf
    k = min(TOP_K, z.shape[1] - 3)
    kth = np.partition(z, z.shape[1] - k, axis=1)[:, z.shape[1] - k][:, None]  # (B, 1)
    z[z < kth] = -np.inf
    z -= z.max(axis=1, keepdims=True)
    p = np.exp(z)
    p /= p.sum(axis=1, keepdims=True)
    u = rng.random(z.shape[0])[:, None]  # one uniform per row
    return np.minimum((p.cumsum(axis=1) < u).sum(axis=1), z.shape[1] - 1).astype(np.int64)
