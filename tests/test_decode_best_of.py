"""Best-of-N: candidates decoded in one batch are the poems each generator gives alone, and the
one kept has the highest mean log-probability per character under the model."""

from __future__ import annotations

import numpy as np
import pytest
from decode_fakes import ITOS, FakeEngine

from engine.corpus.batching import BOS
from engine.decode import DecodeError, Sampling
from engine.generate import PoemRequest, Poet

REQUESTS = [PoemRequest(form="qijue", sampling=Sampling(temperature=1.0)),
            PoemRequest(form="free", max_chars=30, sampling=Sampling(temperature=1.2)),
            PoemRequest(form="wulv", acrostic="春夏秋冬", prefix="江山",
                        sampling=Sampling(temperature=0.9, top_k=12))]


def _mean_logp(engine: FakeEngine, text: str) -> float:
    """Score ``text`` step by step from <bos>, as the model sees it (no prefix)."""
    state, logits = engine.initial_state(1), None
    total, tok = 0.0, BOS
    for ch in text:
        logits, state = engine.step_logits(np.array([tok]), state)
        z = logits[0]
        nxt = ITOS.index(ch)
        total += z[nxt] - (z.max() + np.log(np.exp(z - z.max()).sum()))
        tok = nxt
    return total / len(text)


@pytest.mark.parametrize("req", REQUESTS[:2])
def test_lockstep_rows_equal_decoding_each_alone(req: PoemRequest) -> None:
    poet = Poet(FakeEngine(), ITOS)
    plan, feed = poet.plan(req), [BOS]
    seeds = [[11, j] for j in range(6)]
    together = poet._decode(plan, req.sampling, feed, [np.random.default_rng(s) for s in seeds], 0)
    alone = [poet._decode(plan, req.sampling, feed, [np.random.default_rng(s)], 0)[0]
             for s in seeds]
    assert [r.tokens for r in together] == [r.tokens for r in alone]
    assert [r.score for r in together] == pytest.approx([r.score for r in alone], rel=1e-12)
    assert len({tuple(r.tokens) for r in together}) > 1  # the rows really differ


@pytest.mark.parametrize("req", REQUESTS)
def test_the_best_candidate_is_kept_and_its_score_is_its_mean_log_probability(
        req: PoemRequest) -> None:
    poet = Poet(FakeEngine(), ITOS)
    single = poet.generate(req, n=2, seed=5)
    best = poet.generate(req, n=2, seed=5, best_of=8)
    for one, many in zip(single, best, strict=True):
        assert one.best_of == 1 and many.best_of == 8 and many.seed == one.seed
        assert many.score >= one.score  # candidate 0 is the single poem
    if not req.prefix:  # the score is the model's own mean log p of the printed text
        for poem in single + best:
            assert poem.score == pytest.approx(_mean_logp(FakeEngine(), poem.text), rel=1e-9)
    again = poet.generate(req, n=2, seed=5, best_of=8)
    assert [p.text for p in again] == [p.text for p in best]  # a seed reproduces the choice


def test_best_of_out_of_range_is_refused() -> None:
    poet = Poet(FakeEngine(), ITOS)
    for bad in (0, 65):
        with pytest.raises(DecodeError, match="best-of must be between 1 and 64"):
            poet.generate(REQUESTS[0], best_of=bad)
