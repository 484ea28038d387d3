"""Generation under --metre: every strict poem passes the checker, for every seed."""

from __future__ import annotations

import pytest
from decode_fakes import ITOS, FakeEngine
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.decode import DecodeError, Sampling
from engine.generate import PoemRequest, Poet, load_poet, starter_dir
from engine.metre import phonology as ph
from engine.metre.checker import check
from engine.poem_forms import FORMS

# a poet with random weights over 40 characters: the masks, not the model, must keep the metre
WILD = Poet(FakeEngine(seed=3), ITOS)
SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.fixture(scope="module")
def starter() -> Poet:
    return load_poet(starter_dir())


@SETTINGS
@given(form=st.sampled_from(list(FORMS)), seed=st.integers(0, 2**32 - 1),
       pattern=st.sampled_from(["auto", "pingqi", "zeqi"]), heads=st.integers(0, 4),
       temperature=st.sampled_from([0.0, 0.7, 1.5]))
def test_every_strict_poem_passes_the_checker(form: str, seed: int, pattern: str, heads: int,
                                              temperature: float) -> None:
    req = PoemRequest(form=form, metre="strict", pattern=pattern, acrostic="春秋月山"[:heads],
                      sampling=Sampling(temperature=temperature, top_p=1.0))
    for poem in WILD.generate(req, n=2, seed=seed):
        r = check(poem.text)
        assert r.passed, (poem.text, [v.message for v in r.violations])
        if pattern != "auto":
            assert r.pattern.start == ("平起" if pattern == "pingqi" else "仄起") or any(
                ph.mark(line[1]) == ph.EITHER for line in r.lines[:1])


def test_strict_poems_of_the_starter_model_pass_over_many_seeds(starter: Poet) -> None:
    for form in FORMS:
        for poem in starter.generate(PoemRequest(form=form, metre="strict"), n=6, seed=100):
            r = check(poem.text)
            assert r.passed, (poem.text, [v.message for v in r.violations])


@pytest.mark.slow
def test_strict_poems_of_the_starter_model_pass_over_hundreds_of_seeds(starter: Poet) -> None:
    for form in FORMS:
        for poem in starter.generate(PoemRequest(form=form, metre="strict"), n=100, seed=0):
            assert check(poem.text).passed, poem.text


def test_loose_keeps_two_four_six_and_the_rhyme(starter: Poet) -> None:
    for poem in starter.generate(PoemRequest(form="qilv", metre="loose"), n=5, seed=7):
        r = check(poem.text)
        strict_faults = [v for v in r.violations if v.kind in ("tone", "rhyme", "unknown")
                         and all(c in (1, 3, 5, 6) for c in v.cols)]
        assert not strict_faults, (poem.text, [v.message for v in strict_faults])
        assert r.rhyme_group is not None


def test_a_fixed_rhyme_group_and_pingshui_rhyme_without_metre(starter: Poet) -> None:
    group = ph.parse_group("下平七阳")
    req = PoemRequest(form="wulv", metre="strict", rhyme_group="下平七陽")
    for poem in starter.generate(req, n=3, seed=1):
        ends = [line[-2] for line in poem.lines[1::2]]
        assert all(group in ph.ping_groups(ch) for ch in ends), ends
    for poem in starter.generate(PoemRequest(form="qijue", rhyme=True), n=3, seed=2):
        ends = [line[-2] for line in poem.lines[1::2]]
        assert set(ph.ping_groups(ends[0])) & set(ph.ping_groups(ends[1])), ends
        assert len(set(ends)) == 2


def test_start_words_choose_the_pattern_or_are_refused(starter: Poet) -> None:
    # 明 平, 月 仄: the second character makes the poem 仄起
    poem = starter.generate(PoemRequest(form="wujue", metre="strict", start="明月"), seed=3)[0]
    assert poem.text.startswith("明月") and check(poem.text).pattern.start == "仄起"
    with pytest.raises(DecodeError, match="no 平起 pattern of this form admits 「明」"):
        starter.plan(PoemRequest(form="wujue", metre="strict", start="明月", pattern="pingqi"))


@pytest.mark.parametrize(("kw", "msg"), [
    ({"metre": "strict"}, "metre needs a strict form"),
    ({"form": "wulv", "metre": "strict", "rhyme_scheme": "modern"},
     "--rhyme-scheme modern works only without --metre"),
    ({"form": "wulv", "metre": "loose", "rhyme_group": "东西"}, "unknown 平水韵 level-tone group"),
    ({"form": "wulv", "metre": "strict", "rhyme_group": "下平十五咸"}, "characters of 下平十五咸"),
    ({"form": "wulv", "pattern": "zeqi"}, "--pattern needs --metre"),
])
def test_impossible_metre_requests_are_refused(kw: dict[str, str], msg: str) -> None:
    with pytest.raises(DecodeError, match=msg):
        WILD.plan(PoemRequest(**kw))  # type: ignore[arg-type]


def test_without_metre_the_data_is_not_needed() -> None:
    plan = WILD.plan(PoemRequest(form="qijue"))
    assert plan.metre is None
    plan = WILD.plan(PoemRequest(form="qijue", rhyme=True, rhyme_scheme="modern"))
    assert plan.metre is None and plan.rhyme


@pytest.mark.slow
def test_strict_costs_at_most_twice_the_plain_form(starter: Poet) -> None:
    from engine.metre.bench import bench_metre

    result = bench_metre(starter, "qijue", n=5, rounds=3)
    assert result["ratio"] <= 2.0, result
