"""Poet: prefix, script conversion, input normalisation, seeds, candidates."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from decode_fakes import ITOS, FakeEngine

from engine.checkpoint import CheckpointError
from engine.corpus.batching import BOS, EOS
from engine.decode import DecodeError, Sampling
from engine.generate import PoemRequest, Poet, split_lines, starter_dir


class SpyEngine(FakeEngine):
    """Records every token fed, so tests can see what went through the model."""

    def __init__(self, **kw: Any) -> None:
        super().__init__(**kw)
        self.fed: list[int] = []

    def step_logits(self, tokens: np.ndarray, state: Any) -> tuple[np.ndarray, Any]:
        self.fed.append(int(tokens[0]))
        return super().step_logits(tokens, state)


def test_prefix_is_fed_through_the_model_but_never_printed() -> None:
    spy = SpyEngine()
    poet = Poet(spy, ITOS)
    req = PoemRequest(form="wujue", prefix="鸟飞归", sampling=Sampling(temperature=1.0))
    poem = poet.generate(req, seed=3)[0]
    ids = [ITOS.index(c) for c in "鸟飞归。"]
    assert spy.fed[:6] == [BOS, *ids, EOS] and spy.fed[6] == BOS
    printed = "".join(ITOS[t] for t in spy.fed[7:]) + poem.text[-1]
    assert printed == poem.text  # exactly the tokens after the prefix, nothing of it
    plain = Poet(FakeEngine(), ITOS).generate(PoemRequest(form="wujue", sampling=req.sampling),
                                              seed=3)[0]
    assert plain.text != poem.text  # the prefix did change the state


def test_prefix_is_closed_like_a_poem() -> None:
    poet = Poet(FakeEngine(), ITOS)
    ids = [ITOS.index(c) for c in "鸟飞。"]
    assert poet._prefix_feed("鸟飞，") == poet._prefix_feed("鸟飞") == [BOS, *ids, EOS, BOS]
    assert poet._prefix_feed("鸟飞。") == [BOS, *ids, EOS, BOS]
    assert poet._prefix_feed("，") == poet._prefix_feed("") == [BOS]


def test_no_wasted_step_after_the_last_mark() -> None:
    spy = SpyEngine()
    Poet(spy, ITOS).generate(PoemRequest(form="qijue"), seed=0)
    assert len(spy.fed) == 1 + 31  # <bos> and every printed token but the final 。


def test_same_seed_same_poems_and_poem_i_uses_seed_plus_i() -> None:
    poet = Poet(FakeEngine(), ITOS)
    req = PoemRequest(form="qilv", sampling=Sampling(temperature=1.2, top_k=8))
    three = poet.generate(req, n=3, seed=40)
    assert [p.text for p in three] == [p.text for p in poet.generate(req, n=3, seed=40)]
    assert [p.seed for p in three] == [40, 41, 42]
    assert poet.generate(req, seed=42)[0].text == three[2].text
    assert len({p.text for p in three}) == 3


def test_traditional_input_meets_a_simplified_model() -> None:
    poet = Poet(FakeEngine(), ITOS, script="simplified")
    assert poet.to_model_text("鄉 長, 風.", "start words") == "乡长，风。"
    poem = poet.generate(PoemRequest(form="wujue", start="雲", acrostic="雲歸"), seed=1)[0]
    assert poem.lines[0][0] == "云" and poem.lines[1][0] == "归"


def test_simplified_input_meets_a_traditional_model() -> None:
    itos = [*ITOS[:4], *"鄉長風雲歸遠聲樓月光霜人心，。？！；"]
    poet = Poet(FakeEngine(itos=itos), itos, script="traditional")
    assert poet.to_model_text("乡长云?", "prefix") == "鄉長雲？"


def test_unknown_characters_are_named() -> None:
    poet = Poet(FakeEngine(), ITOS)
    with pytest.raises(DecodeError, match="'鹤' in the prefix is not in the model's vocabulary"):
        poet.generate(PoemRequest(prefix="白鹤"))
    trad = r"'鶴' in the acrostic .* \(nor its simplified form '鹤'\)"
    with pytest.raises(DecodeError, match=trad):
        poet.generate(PoemRequest(acrostic="鶴"))


def test_bad_counts_are_refused() -> None:
    poet = Poet(FakeEngine(), ITOS)
    with pytest.raises(DecodeError, match="number of poems must be at least 1"):
        poet.generate(PoemRequest(), n=0)
    with pytest.raises(DecodeError, match="top-p"):
        poet.generate(PoemRequest(sampling=Sampling(top_p=2)))


def test_candidates_at_every_position() -> None:
    poet = Poet(FakeEngine(), ITOS)
    req = PoemRequest(form="wujue", acrostic="春", sampling=Sampling(temperature=0.7))
    poem = poet.generate(req, seed=2, candidates=5)[0]
    rows = poem.candidates
    assert rows is not None and [r["char"] for r in rows] == list(poem.text)
    assert [r["forced"] for r in rows[:6]] == [True, False, False, False, False, True]
    for r in rows:
        probs = [c["prob"] for c in r["top"]]
        assert len(probs) == 5 and probs == sorted(probs, reverse=True) and sum(probs) <= 1 + 1e-6
        if not r["forced"]:  # a sampled character is a character, and among the allowed ones
            assert r["prob"] > 0 and all(c["char"] not in "，。？！；" for c in r["top"])
    js = poem.to_json()
    assert js["candidates"] == rows and js["lines"] == poem.lines
    assert "candidates" not in poet.generate(req, seed=2)[0].to_json()


def test_greedy_is_deterministic_without_a_seed() -> None:
    poet = Poet(FakeEngine(), ITOS)
    req = PoemRequest(form="wujue", sampling=Sampling(temperature=0))
    assert poet.generate(req)[0].text == poet.generate(req)[0].text


def test_split_lines() -> None:
    assert split_lines("床前明月光，疑是地上霜。") == ["床前明月光，", "疑是地上霜。"]
    assert split_lines("何处？春风！又绿") == ["何处？", "春风！", "又绿"]


def test_vocabulary_must_match_the_model() -> None:
    with pytest.raises(CheckpointError, match="vocabulary of 5 entries"):
        Poet(FakeEngine(), ITOS[:5])


def test_starter_lookup_names_where_it_looked(monkeypatch: pytest.MonkeyPatch,
                                              tmp_path: Any) -> None:
    import engine.generate as gen

    monkeypatch.setattr(gen, "__file__", str(tmp_path / "engine" / "generate.py"))
    with pytest.raises(CheckpointError, match="starter model is missing"):
        starter_dir()
