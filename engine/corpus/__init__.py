"""The corpus pipeline: load, clean, classify, convert, split, encode and batch 全唐诗."""

from engine.corpus.batching import BOS, EOS, PAD, UNK, Batches, make_batches
from engine.corpus.dataset import Dataset, build_dataset
from engine.corpus.forms import FORM_NAMES, classify_form, parse_form
from engine.corpus.loader import CorpusError, corpus_path, load_corpus
from engine.corpus.model import Corpus, Poem
from engine.corpus.split import in_test_split, split_poems
from engine.corpus.vocab import Vocab

__all__ = [
    "BOS", "EOS", "PAD", "UNK", "FORM_NAMES", "Batches", "Corpus", "CorpusError", "Dataset",
    "Poem", "Vocab", "build_dataset", "classify_form", "corpus_path", "in_test_split",
    "load_corpus", "make_batches", "parse_form", "split_poems",
]
