"""The sampling core: temperature, repetition penalty, masking, top-k, top-p, seeded draws."""

from __future__ import annotations

import numpy as np
import pytest

from engine.decode import DecodeError, Sampling, distribution, sample_next, top_candidates

LOGITS = np.array([0.0, 2.0, 1.0, 3.0, -1.0, 0.5])  # best first: 3, 1, 2, 5, 0, 4


def draws(s: Sampling, n: int = 3000, seed: int = 0, **kw: object) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.array([sample_next(LOGITS, rng, s, **kw) for _ in range(n)])


def test_greedy_takes_the_best_allowed_token_and_uses_no_randomness() -> None:
    rng = np.random.default_rng(1)
    before = rng.bit_generator.state
    assert sample_next(LOGITS, rng, Sampling(temperature=0)) == 3
    allowed = np.array([True, True, True, False, True, True])
    assert sample_next(LOGITS, rng, Sampling(temperature=0), allowed) == 1
    assert rng.bit_generator.state == before


def test_mask_is_never_violated() -> None:
    allowed = np.array([False, False, True, False, True, False])
    got = set(draws(Sampling(temperature=2.0, top_p=1.0), allowed=allowed).tolist())
    assert got == {2, 4}


def test_top_k_keeps_the_k_best() -> None:
    assert set(draws(Sampling(temperature=5.0, top_k=2, top_p=1.0)).tolist()) == {3, 1}
    assert set(draws(Sampling(temperature=1.0, top_k=1, top_p=1.0)).tolist()) == {3}


def test_top_p_keeps_the_nucleus() -> None:
    p = np.exp(LOGITS) / np.exp(LOGITS).sum()  # p[3] ~ 0.61, p[1] ~ 0.22, p[2] ~ 0.08
    assert p[3] < 0.7 < p[3] + p[1]
    assert set(draws(Sampling(temperature=1.0, top_p=0.7)).tolist()) == {3, 1}
    assert set(draws(Sampling(temperature=1.0, top_p=0.5)).tolist()) == {3}


def test_top_p_past_the_partial_sort_window() -> None:
    logits = -0.001 * np.arange(2000)  # nearly flat: the nucleus is far wider than 256 tokens
    p = np.exp(logits) / np.exp(logits).sum()
    width = int(np.searchsorted(np.cumsum(p), 0.5)) + 1  # ids are already best first
    assert width > 400
    rng = np.random.default_rng(0)
    got = {sample_next(logits, rng, Sampling(temperature=1.0, top_p=0.5)) for _ in range(6000)}
    assert max(got) == width - 1 and len(got) > 0.9 * width


def test_top_p_keeps_ties_together() -> None:
    rng = np.random.default_rng(0)
    got = {sample_next(np.zeros(10), rng, Sampling(temperature=1.0, top_p=0.3))
           for _ in range(500)}
    assert got == set(range(10))  # no token of a tie is preferred to another


def test_frequencies_follow_the_softmax_at_temperature() -> None:
    s = Sampling(temperature=2.0, top_p=1.0)
    want = distribution(LOGITS, s)
    got = np.bincount(draws(s, n=20000), minlength=LOGITS.size) / 20000
    np.testing.assert_allclose(got, want, atol=0.015)
    np.testing.assert_allclose(want, np.exp(LOGITS / 2) / np.exp(LOGITS / 2).sum())


def test_repetition_penalty_divides_positive_and_multiplies_negative_logits() -> None:
    s = Sampling(temperature=0, repetition_penalty=4.0)
    assert sample_next(LOGITS, np.random.default_rng(0), s, seen=np.array([3])) == 1  # 3/4 < 2
    p = distribution(LOGITS, Sampling(temperature=1, repetition_penalty=2.0), seen=np.array([4]))
    z = LOGITS.copy()
    z[4] = -2.0
    np.testing.assert_allclose(p, np.exp(z) / np.exp(z).sum())


def test_same_seed_same_draws() -> None:
    s = Sampling(temperature=1.3, top_k=4, top_p=0.9)
    np.testing.assert_array_equal(draws(s, 200, seed=7), draws(s, 200, seed=7))
    assert not np.array_equal(draws(s, 200, seed=7), draws(s, 200, seed=8))


def test_tiny_logit_noise_rarely_changes_a_draw() -> None:
    """Engines differ in the last float bits; the CDF is laid out in id order so such noise
    only moves boundaries a little and never reorders tokens."""
    rng_a, rng_b = np.random.default_rng(3), np.random.default_rng(3)
    noise = np.random.default_rng(9)
    s = Sampling(temperature=1.0, top_p=0.95)
    same = sum(sample_next(LOGITS, rng_a, s)
               == sample_next(LOGITS + noise.normal(0, 1e-6, LOGITS.size), rng_b, s)
               for _ in range(2000))
    assert same >= 1998


def test_top_candidates_are_sorted_and_sum_below_one() -> None:
    p = distribution(LOGITS, Sampling(temperature=1.0))
    top = top_candidates(p, 3)
    assert [i for i, _ in top] == [3, 1, 2]
    assert top[0][1] == pytest.approx(p[3]) and sum(q for _, q in top) < 1
    allowed = np.array([True, False, False, False, False, True])
    assert [i for i, _ in top_candidates(distribution(LOGITS, Sampling(), allowed), 5)] == [5, 0]


@pytest.mark.parametrize(("kw", "msg"), [
    ({"temperature": -1}, "temperature must be >= 0"),
    ({"top_k": -3}, "top-k must be >= 0"),
    ({"top_p": 0.0}, "top-p must be in (0, 1]"),
    ({"top_p": 1.5}, "top-p must be in (0, 1]"),
    ({"repetition_penalty": 0.5}, "repetition penalty must be >= 1"),
])
def test_bad_settings_are_named(kw: dict[str, float], msg: str) -> None:
    with pytest.raises(DecodeError, match=msg.replace("(", r"\(").replace("]", r"\]")):
        Sampling(**kw).check()  # type: ignore[arg-type]
