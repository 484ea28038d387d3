"""From a run config to the two bound-ready splits: filter, split, build vocab, encode, batch."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from engine.adaptive import resolve_cutoffs
from engine.config import RunConfig
from engine.corpus.batching import Batches, make_batches, poem_eval_batches
from engine.corpus.loader import CorpusError, load_corpus
from engine.corpus.model import Corpus
from engine.corpus.split import split_poems
from engine.corpus.vocab import Vocab

EVAL_STREAMS, EVAL_WINDOW = 64, 128  # the held-out stream: 64 rows read in windows of 128
POEM_STAGE_LEN = 256  # the finishing stage's longest poem, in tokens (longer ones sit it out)


@dataclass
class Dataset:
    vocab: Vocab
    train: Batches
    test: Batches  # the held-out poems joined into streams: the second, "stream" figure
    info: dict[str, Any] = field(default_factory=dict)
    test_poems: Batches | None = None  # each held-out poem alone: the headline figure
    train_poems: Batches | None = None  # the poem-mode finishing stage (train.poem_steps)


def build_dataset(config: RunConfig, corpus: Corpus | None = None,
                  vocab: Vocab | None = None) -> Dataset:
    """Build the train/test batches of ``config``; pass ``vocab`` to reuse a saved one (resume)."""
    cc, tc = config.corpus, config.train
    corpus = corpus or load_corpus(cc.script)
    try:
        poems = corpus.filter(cc.forms, cc.authors, cc.min_len, cc.max_len)
    except ValueError as exc:
        raise CorpusError(str(exc)) from None
    max_poems = int(getattr(cc, "max_poems", 0) or 0)
    if max_poems:
        poems = poems[:max_poems]
    train, test = split_poems(poems, cc.test_frac)
    if not train or not test:
        raise CorpusError(f"the corpus filter leaves {len(train)} training and {len(test)} "
                          "held-out poems; both must be non-empty (widen corpus.forms/authors)")
    vocab = vocab or Vocab.build((p.text for p in train), cc.min_freq, cc.max_vocab)
    enc_train = [vocab.encode(p.text) for p in train]
    enc_test = [vocab.encode(p.text) for p in test]
    counts = np.bincount(np.concatenate(enc_train), minlength=len(vocab)) if enc_train else \
        np.zeros(len(vocab), np.int64)
    counts[2] += len(enc_train)  # every poem ends with <eos>
    resolve_cutoffs(config.model, counts)  # the adaptive softmax's clusters, unless given
    train_b = make_batches(enc_train, tc.mode, tc.batch_size, tc.seq_len, tc.seed)
    test_b = make_batches(enc_test, "stream", EVAL_STREAMS, EVAL_WINDOW)
    test_poems = poem_eval_batches(enc_test)
    train_poems = None
    if tc.mode == "stream" and tc.poem_steps > 0:
        train_poems = make_batches(enc_train, "poem", tc.poem_batch, POEM_STAGE_LEN, tc.seed)
    unk = sum(int((e == 3).sum()) for e in enc_test)
    info = {
        "script": corpus.script,
        "train_poems": len(train),
        "test_poems": len(test),
        "train_tokens": train_b.n_tokens,
        "test_tokens": test_poems.n_tokens,
        "train_batches": train_b.num_batches(),
        "vocab_size": len(vocab),
        "dropped_too_long": train_b.dropped + test_b.dropped,
        "test_unk_rate": unk / max(1, sum(len(e) for e in enc_test)),
        "cleaning": corpus.cleaning,
    }
    if train_poems is not None:
        info["poem_stage_batches"] = train_poems.num_batches()
        info["poem_stage_dropped"] = train_poems.dropped
    return Dataset(vocab, train_b, test_b, info, test_poems, train_poems)


def encode_many(vocab: Vocab, texts: list[str]) -> list[np.ndarray]:
    return [vocab.encode(t) for t in texts]
