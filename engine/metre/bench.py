"""How much ``--metre strict`` costs: the same poems timed with and without it, interleaved.

The phonology loads once (timed on its own); then each round times ``n`` poems of the form
without metre and ``n`` with it, on the same seeds, alternating which goes first, and the
median per poem over the rounds is reported, with the ratio strict / plain, and the share of
each set of poems that passes the checker.
"""

from __future__ import annotations

import statistics
import time
from typing import Any

from engine.generate import PoemRequest, Poet


def bench_metre(poet: Poet, form: str = "qijue", n: int = 10, rounds: int = 5,
                seed: int = 0) -> dict[str, Any]:
    from engine.metre import phonology

    t0 = time.perf_counter()
    phonology.groups()
    poet.plan(PoemRequest(form=form, metre="strict"))  # builds the vocabulary's tables
    load_s = time.perf_counter() - t0
    plain_req, strict_req = PoemRequest(form=form), PoemRequest(form=form, metre="strict")
    poet.generate(plain_req, n=2, seed=seed)  # warm-up
    poet.generate(strict_req, n=2, seed=seed)
    plain: list[float] = []
    strict: list[float] = []
    texts: dict[int, list[str]] = {id(plain): [], id(strict): []}
    for r in range(rounds):
        order = [(plain_req, plain), (strict_req, strict)]
        for req, out in order if r % 2 == 0 else order[::-1]:
            t = time.perf_counter()
            poems = poet.generate(req, n=n, seed=seed + r * n)
            out.append((time.perf_counter() - t) / n)
            texts[id(out)] += [p.text for p in poems]
    p, s = statistics.median(plain), statistics.median(strict)
    return {"form": form, "poems_per_round": n, "rounds": rounds,
            "plain_ms": round(p * 1e3, 2), "strict_ms": round(s * 1e3, 2),
            "ratio": round(s / p, 3), "data_load_s": round(load_s, 3),
            "plain_pass": _pass_rate(texts[id(plain)]),
            "strict_pass": _pass_rate(texts[id(strict)])}


def _pass_rate(texts: list[str]) -> float:
    """Share of the poems that pass :func:`engine.metre.checker.check`."""
    from engine.metre.checker import passes

    return round(sum(passes(t) for t in texts) / len(texts), 4)
