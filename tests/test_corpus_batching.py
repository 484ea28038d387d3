"""Batching modes, the vocabulary and the dataset builder."""

from __future__ import annotations

import numpy as np
import pytest

from engine.config import RunConfig
from engine.corpus import BOS, EOS, PAD, Vocab, build_dataset, make_batches


def _poems(n: int, seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.integers(4, 30, size=int(rng.integers(3, 20))) for _ in range(n)]


def test_stream_mode_has_no_padding_and_keeps_every_token():
    poems = _poems(50)
    b = make_batches(poems, "stream", batch_size=4, seq_len=7)
    joined = np.concatenate([np.r_[BOS, p, EOS] for p in poems])
    windows = [b.batch(0, i) for i in range(b.num_batches())]
    x = np.concatenate([w[0] for w in windows], axis=1)
    y = np.concatenate([w[1] for w in windows], axis=1)
    mask = np.concatenate([w[2] for w in windows], axis=1)
    assert (x != PAD).all() and (y != PAD).all()
    # no padding, but the <bos> after each <eos> is certain: the mask leaves out those targets
    # (and only those), so a stream counts what poem mode counts: characters and <eos>
    assert mask.dtype == np.float32 and mask.shape == y.shape
    assert ((mask == 0) == (y == BOS)).all()
    assert (y[mask == 0] == BOS).all() and (y == BOS).any()
    assert b.n_tokens == int(mask.sum()) == b.x.size - int((y == BOS).sum())
    # streams are contiguous cuts of the joined text, targets shifted by one
    L = x.shape[1]
    for s in range(b.batch_size):
        assert (x[s] == joined[s * L : (s + 1) * L]).all()
        assert (y[s] == joined[s * L + 1 : (s + 1) * L + 1]).all()
    assert len(joined) - b.batch_size * L <= b.batch_size  # at most B tokens left over
    assert all(w[0].shape[1] <= 7 for w in windows)


def test_poem_mode_masks_padding_and_shuffles_per_epoch():
    poems = _poems(37, seed=1)
    b = make_batches(poems, "poem", batch_size=8, seq_len=64, seed=3)
    seen = 0
    rows_seen: list[tuple[int, ...]] = []
    for i in range(b.num_batches()):
        x, y, mask = b.batch(0, i)
        assert mask is not None and x.shape == y.shape == mask.shape
        assert ((y == PAD) == (mask == 0)).all()
        assert (x[:, 0] == BOS).all()
        seen += int(mask.sum())
        rows_seen += [tuple(r[m > 0]) for r, m in zip(y, mask, strict=True)]
    assert seen == b.n_tokens == sum(len(p) + 1 for p in poems)
    assert sorted(rows_seen) == sorted(tuple(p) + (EOS,) for p in poems)
    assert not (b.order(0) == b.order(1)).all()
    assert not (b.rows[:, 1:] == BOS).any()  # <bos> is only ever the first input
    assert (b.order(1) == make_batches(poems, "poem", 8, 64, seed=3).order(1)).all()


def test_both_modes_count_the_same_targets():
    """One stream (nothing left over) counts each poem's characters and <eos>, as poem mode."""
    poems = _poems(20, seed=2)
    stream = make_batches(poems, "stream", batch_size=1, seq_len=9)
    assert stream.n_tokens == make_batches(poems, "poem", 4, 64).n_tokens
    assert stream.n_tokens == sum(len(p) + 1 for p in poems)


def test_poem_mode_leaves_out_too_long_poems():
    poems = [np.arange(4, 14), np.arange(4, 40)]
    b = make_batches(poems, "poem", batch_size=2, seq_len=20)
    assert b.dropped == 1 and len(b.lengths) == 1


def test_unknown_mode():
    with pytest.raises(ValueError, match="stream or poem"):
        make_batches(_poems(3), "words", 2, 5)


def test_vocab_roundtrip_specials_and_unknowns():
    v = Vocab.build(["春眠不觉晓，处处闻啼鸟。", "春风春"], min_freq=1)
    assert v.itos[:4] == ["<pad>", "<bos>", "<eos>", "<unk>"]
    assert v.itos[4] == "春"  # the most frequent first
    ids = v.encode("春眠龙")
    assert ids.tolist()[:2] == [v.stoi["春"], v.stoi["眠"]] and ids[2] == 3
    assert v.decode(v.encode("处处闻啼鸟。")) == "处处闻啼鸟。"
    rare = Vocab.build(["春春眠"], min_freq=2)
    assert "眠" not in rare and "春" in rare
    assert len(Vocab.build(["abcdef"], max_size=6)) == 6


def test_build_dataset_on_a_filtered_corpus(corpus):
    cfg = RunConfig()
    cfg.corpus.forms = ["wujue"]
    cfg.train.mode = "poem"
    cfg.train.batch_size = 32
    ds = build_dataset(cfg, corpus)
    assert ds.info["train_poems"] + ds.info["test_poems"] == corpus.stats()["forms"]["wujue"]
    assert ds.train.n_tokens == ds.info["train_poems"] * 25  # 20 chars + 4 marks + <eos>
    x, y, mask = ds.train.batch(0, 0)
    assert x.shape[1] == 25 and mask.all()
    assert ds.vocab.decode(x[0]).count("，") == 2
