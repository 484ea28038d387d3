"""Form masks: every constraint holds for every seed; impossible requests are refused."""

from __future__ import annotations

import numpy as np
import pytest
from decode_fakes import ITOS, FakeEngine
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.decode import DecodeError, Sampling
from engine.generate import PoemRequest, Poet
from engine.poem_forms import FORMS, LINE_ENDS, SENTENCE_ENDS, VocabMasks, is_hanzi, make_plan
from engine.rhyme import rhyme_classes

POET = Poet(FakeEngine(), ITOS)
# a poet that loves ？ and ！ and <eos>, so free forms must be held to their rules by the masks
WILD = Poet(FakeEngine(seed=1, bias={"？": 4.0, "！": 4.0, "<eos>": 5.0, "<unk>": 9.0}), ITOS)
HEADS = "春夏秋冬月光花雪"
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
sampling = st.builds(Sampling, temperature=st.sampled_from([0.0, 0.5, 1.0, 3.0]),
                     top_k=st.sampled_from([0, 1, 5]), top_p=st.sampled_from([1.0, 0.9, 0.3]),
                     repetition_penalty=st.sampled_from([1.0, 1.5]))


def check_strict(text: str, lines: list[str], form: str) -> None:
    n_lines, chars, _ = FORMS[form]
    assert len(lines) == n_lines and "".join(lines) == text
    for i, line in enumerate(lines):
        assert len(line) == chars + 1
        assert all(is_hanzi(ch) for ch in line[:-1]), line
        assert line[-1] == ("，" if i % 2 == 0 else "。")


@SETTINGS
@given(form=st.sampled_from(list(FORMS)), s=sampling, seed=st.integers(0, 2**32 - 1),
       n_heads=st.integers(0, 4), start_len=st.integers(0, 5), rhyme=st.booleans())
def test_strict_forms_hold_for_every_seed(form: str, s: Sampling, seed: int, n_heads: int,
                                          start_len: int, rhyme: bool) -> None:
    acrostic = HEADS[:n_heads]
    start = ("春江花月明" if n_heads else "青山白云人")[:start_len]
    req = PoemRequest(form=form, start=start, acrostic=acrostic, rhyme=rhyme, sampling=s,
                      rhyme_scheme="modern")  # 平水韵 rhyme: tests/test_metre_generate.py
    for poem in WILD.generate(req, n=2, seed=seed):
        check_strict(poem.text, poem.lines, form)
        assert poem.text.startswith(start)
        assert [line[0] for line in poem.lines[:n_heads]] == list(acrostic)
        if rhyme:
            ends = [line[-2] for line in poem.lines[1::2]]
            assert len({rhyme_classes(ch)[0] for ch in ends}) == 1, ends
            assert len(set(ends)) == len(ends)


@SETTINGS
@given(s=sampling, seed=st.integers(0, 2**32 - 1), max_chars=st.integers(2, 60))
def test_free_form_ends_after_a_sentence_and_within_the_cap(s: Sampling, seed: int,
                                                            max_chars: int) -> None:
    poem = WILD.generate(PoemRequest(max_chars=max_chars, sampling=s), seed=seed)[0]
    assert 2 <= len(poem.text) <= max_chars
    assert poem.text[-1] in SENTENCE_ENDS and is_hanzi(poem.text[0])
    assert "<" not in poem.text  # no specials printed
    for a, b in zip(poem.text, poem.text[1:], strict=False):
        assert is_hanzi(a) or is_hanzi(b), poem.text  # never two marks in a row


@SETTINGS
@given(s=sampling, seed=st.integers(0, 2**32 - 1), n_heads=st.integers(1, 8),
       slack=st.integers(0, 40))
def test_free_acrostic_heads_follow_any_line_end(s: Sampling, seed: int, n_heads: int,
                                                 slack: int) -> None:
    acrostic = HEADS[:n_heads]
    max_chars = 2 * n_heads + slack
    poem = WILD.generate(PoemRequest(acrostic=acrostic, max_chars=max_chars, sampling=s),
                         seed=seed)[0]
    assert len(poem.text) <= max_chars
    assert [line[0] for line in poem.lines] == list(acrostic), poem.lines
    assert all(line[-1] in LINE_ENDS for line in poem.lines)
    assert poem.lines[-1][-1] in SENTENCE_ENDS


def test_acrostic_heads_after_question_and_exclamation_marks() -> None:
    req = PoemRequest(acrostic=HEADS, max_chars=80, sampling=Sampling(temperature=1.0))
    poems = WILD.generate(req, n=20, seed=5)
    seen_after = {line_end for p in poems for line_end in (ln[-1] for ln in p.lines[:-1])}
    assert {"？", "！"} <= seen_after  # the biased model does end lines with them...
    for p in poems:  # ...and the next line still starts with its head
        assert [ln[0] for ln in p.lines] == list(HEADS)


def test_masks_never_allow_specials() -> None:
    m = VocabMasks(ITOS)
    for mask in (m.hanzi, m.text, m.punct, m.line_end):
        assert not mask[:4].any()
    assert "".join(ITOS[i] for i in np.flatnonzero(m.line_end)) == LINE_ENDS


@pytest.mark.parametrize(("kw", "msg"), [
    ({"form": "sonnet"}, "unknown form 'sonnet'"),
    ({"form": "qijue", "acrostic": "春夏秋冬月光"}, "a 6-character acrostic needs 6 lines, "
                                                "but qijue (七言绝句) has 4"),
    ({"form": "wujue", "start": "春江花月明山"}, "longer than a line of wujue"),
    ({"form": "qijue", "start": "春，"}, "start words must be Chinese characters"),
    ({"acrostic": "春。"}, "acrostic must be Chinese characters"),
    ({"start": "月", "acrostic": "春夏"}, "begin with '月' but the acrostic begins with '春'"),
    ({"rhyme": True}, "rhyme needs a strict form"),
    ({"acrostic": "春夏秋冬", "max_chars": 6}, "more than the length cap of 6"),
    ({"start": "鹤"}, "'鹤' in the start words is not in the model's vocabulary"),
])
def test_impossible_requests_are_refused(kw: dict[str, object], msg: str) -> None:
    with pytest.raises(DecodeError, match=msg.replace("(", r"\(").replace(")", r"\)")):
        make_plan(VocabMasks(ITOS), **kw)  # type: ignore[arg-type]


def test_a_vocabulary_without_commas_cannot_write_strict_forms() -> None:
    itos = [c for c in ITOS if c != "，"]
    with pytest.raises(DecodeError, match="has no '，', which wulv needs"):
        make_plan(VocabMasks(itos), form="wulv")


def test_rhyme_classes_fold_the_medial() -> None:
    assert rhyme_classes("光")[0] == rhyme_classes("霜")[0] == rhyme_classes("乡")[0] == "ang"
    assert rhyme_classes("人")[0] == rhyme_classes("心")[0] == rhyme_classes("春")[0] == "en"
    assert rhyme_classes("，") == []
    assert rhyme_classes("池")[0] == "i"  # chí; its rare reading tuó does not count
