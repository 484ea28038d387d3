"""The bundled corpus: counts, known poems, script conversion, cleaning, forms, split."""

from __future__ import annotations

import lzma
from collections import Counter

import pytest

from engine.corpus import (
    CorpusError,
    classify_form,
    in_test_split,
    load_corpus,
    split_poems,
)
from engine.corpus.cleaning import clean_poem


def test_counts_are_sane(corpus):
    stats = corpus.stats()
    assert 50_000 <= stats["poems"] <= 57_607
    assert stats["authors"] > 2_500
    assert stats["characters"] > 2_000_000
    assert 5_000 < stats["vocab_size"] < 12_000
    assert set(stats["forms"]) == {"wujue", "qijue", "wulv", "qilv", "other"}
    assert sum(stats["forms"].values()) == stats["poems"]
    # every rule reports what it removed, and the drops add up
    cleaning = stats["cleaning"]
    assert cleaning["doubled_punctuation"] >= 1
    dropped = cleaning["missing_characters"] + cleaning["foreign_characters"] + cleaning["empty"]
    assert cleaning["source_poems"] - dropped == stats["poems"]
    assert cleaning["editorial_notes"] > 1_000


def test_known_poems_are_found(corpus):
    # 全唐诗's 静夜思 reads 床前看月光 (the school version's 明月光 is later)
    hits = corpus.search("床前看月光", author="李白")
    assert [h.title for h in hits] == ["静夜思"]
    assert hits[0].form == "wujue"
    chunxiao = corpus.search("春晓", author="孟浩然")
    assert chunxiao and chunxiao[0].text.startswith("春眠不觉晓，处处闻啼鸟。")


def test_search_matches_either_script(corpus, corpus_trad):
    simp = [p.id for p in corpus.search("静夜思", limit=5)]
    assert simp == [p.id for p in corpus.search("靜夜思", limit=5)]
    assert simp == [p.id for p in corpus_trad.search("静夜思", limit=5)]
    assert corpus_trad.by_id(simp[0]).text.startswith("牀前看月光，疑是地上霜。舉頭")


def test_simplified_conversion(corpus, corpus_trad):
    assert len(corpus.poems) == len(corpus_trad.poems)
    trad = corpus_trad.poems[0]
    simp = corpus.by_id(trad.id)
    assert "壯" in trad.text and "壮" in simp.text and "壯" not in simp.text
    assert simp.split_key == trad.split_key


def test_no_editorial_marks_survive(corpus):
    allowed_punct = set("，。？！；：、")
    bad = Counter()
    for p in corpus.poems:
        for ch in p.text:
            if not ("\u3400" <= ch or ch in allowed_punct):
                bad[ch] += 1
    assert not bad
    assert not any(m in p.text for p in corpus.poems for m in "（）〖〗[]□「」《》")


def test_cleaning_rules_on_hand_made_poems():
    counts: Counter[str] = Counter()
    source = ["邏人（一作「叉」）橫鳥道，江祖出魚梁。", "[爽]節在重九，物華新雨餘[八]。"]
    cleaned = clean_poem(source, counts)
    assert cleaned is not None
    assert cleaned.text == "邏人橫鳥道，江祖出魚梁。爽節在重九，物華新雨餘。"
    assert clean_poem(["□□□□□，□□□□惡。"], counts) is None
    assert clean_poem(["abc，def。"], counts) is None
    assert clean_poem(["（只有注釋）"], counts) is None
    assert counts == {"editorial_notes": 2, "missing_characters": 1,
                      "foreign_characters": 1, "empty": 1}


@pytest.mark.parametrize(
    ("text", "form"),
    [
        ("床前看月光，疑是地上霜。举头望山月，低头思故乡。", "wujue"),
        ("朝辞白帝彩云间，千里江陵一日还。两岸猿声啼不住，轻舟已过万重山。", "qijue"),
        ("国破山河在，城春草木深。感时花溅泪，恨别鸟惊心。"
         "烽火连三月，家书抵万金。白头搔更短，浑欲不胜簪。", "wulv"),
        ("风急天高猿啸哀，渚清沙白鸟飞回。无边落木萧萧下，不尽长江滚滚来。"
         "万里悲秋常作客，百年多病独登台。艰难苦恨繁霜鬓，潦倒新停浊酒杯。", "qilv"),
        ("床前看月光，疑是地上霜。举头望山月，低头思故乡", "other"),  # no closing mark
        ("床前看月光，疑是地上霜。举头望山月。", "other"),  # 3 clauses
        ("床前看月光，疑是地上霜。举头望山月，低头思故乡乡。", "other"),  # ragged
        ("问君何能尔？心远地自偏。采菊东篱下，悠然见南山。", "wujue"),
        ("王二羊年少，梵志亦不恶。借问今时人，阿谁肯伏弱？。", "other"),  # doubled mark
    ],
)
def test_form_classification(text, form):
    assert classify_form(text) == form


def test_split_is_stable_and_disjoint(corpus):
    train, test = split_poems(corpus.poems, 0.05)
    assert not {p.id for p in train} & {p.id for p in test}
    assert len(train) + len(test) == len(corpus.poems)
    assert 0.04 < len(test) / len(corpus.poems) < 0.06
    # filtering does not move a poem between splits
    wujue = [p for p in corpus.poems if p.form == "wujue"]
    sub_train, sub_test = split_poems(wujue, 0.05)
    assert {p.id for p in sub_test} == {p.id for p in test if p.form == "wujue"}
    # a larger held-out share only adds poems to the test side
    _, bigger = split_poems(corpus.poems, 0.10)
    assert {p.id for p in test} <= {p.id for p in bigger}
    assert all(in_test_split(p, 0.05) for p in test)


def test_missing_and_corrupt_corpus_file(tmp_path):
    with pytest.raises(CorpusError, match="corpus file"):
        load_corpus(path=tmp_path / "missing.jsonl.xz", cache_dir=tmp_path)
    bad = tmp_path / "bad.jsonl.xz"
    bad.write_bytes(b"not xz at all")
    with pytest.raises(CorpusError, match="corrupt"):
        load_corpus(path=bad, cache_dir=tmp_path)
    empty = tmp_path / "empty.jsonl.xz"
    empty.write_bytes(lzma.compress(b'{"kind": "meta"}'))
    with pytest.raises(CorpusError, match="no poems"):
        load_corpus(path=empty, cache_dir=tmp_path)


def test_unknown_script_and_id(corpus):
    with pytest.raises(CorpusError, match="script"):
        load_corpus("cyrillic")
    with pytest.raises(CorpusError, match="no poem"):
        corpus.by_id("does-not-exist")
    with pytest.raises(CorpusError, match="at least 6"):
        corpus.by_id("ca2c")
    assert corpus.by_id("ca2c489a").title == "静夜思"  # a unique prefix
    ids = sorted(p.id for p in corpus.poems)  # ~57k UUIDs: some share 6 hex digits
    twin = next(a[:6] for a, b in zip(ids, ids[1:], strict=False) if a[:6] == b[:6])
    with pytest.raises(CorpusError, match=r"matches \d+ poems"):
        corpus.by_id(twin)
    with pytest.raises(CorpusError, match="empty"):
        corpus.search("   ")

