"""Which models a user can compose with, each with its held-out perplexity, and the default.

A model is the bundled starter or a run with a checkpoint. Its figure is the per-poem held-out
perplexity (each poem scored alone from a zero state). Perplexities compare only over the same
held-out poems and vocabulary, so the default is the lowest among the *comparable* models: the
starter and finished runs trained on the whole corpus with the default split and vocabulary. A
smoke test on 300 五绝 or a run on one author is listed (marked "subset") but never becomes the
default, however new.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from engine.config import CorpusConfig  # stdlib only: the app imports this module at start

STARTER = "starter"  # the model key of the bundled starter model


@dataclass
class ModelChoice:
    key: str  # "starter" or a run id
    name: str  # "starter model" or the run's name
    ppl: float | None  # per-poem held-out perplexity (None: never evaluated that way)
    comparable: bool  # scored on the whole corpus's held-out poems
    finished: bool  # the starter, or a run that ended "finished"
    step: int | None = None  # the checkpoint's step (runs)

    @property
    def label(self) -> str:
        """``starter model · ppl 131.2`` or ``name · step 400 · ppl 201.5 (subset)``."""
        parts = [self.name]
        if self.step is not None:
            parts.append(f"step {self.step:,}")
        parts.append(f"ppl {self.ppl:.1f}" if self.ppl is not None else "ppl -")
        text = " · ".join(parts)
        if not self.comparable:
            text += " (subset)"
        elif not self.finished:
            text += " (training)"
        return text


def whole_corpus(corpus: dict[str, Any]) -> bool:
    """A run's corpus section keeps every poem, the default split and the default vocabulary."""
    default = CorpusConfig()
    keys = ("forms", "authors", "min_len", "max_len", "min_freq", "max_vocab", "test_frac",
            "max_poems")
    return all(corpus.get(k, getattr(default, k)) == getattr(default, k) for k in keys)


def starter_choice() -> ModelChoice:
    """The starter model with the figure its build recorded in meta.json (no weights read)."""
    from engine.checkpoint import CheckpointError
    from engine.generate import starter_dir

    try:
        meta = json.loads((starter_dir() / "meta.json").read_text(encoding="utf-8"))
    except (OSError, ValueError, CheckpointError):  # a missing starter lists no figure
        meta = {}
    ppl = (meta.get("heldout") or {}).get("ppl")
    return ModelChoice(STARTER, "starter model", float(ppl) if ppl else None, True, True)


def run_choices(runs: list[Any]) -> list[ModelChoice]:
    """Every run with a checkpoint, newest first (``runs`` as the store lists them)."""
    return [ModelChoice(r.id, r.name, r.best_test_ppl, whole_corpus(r.config.get("corpus", {})),
                        r.status == "finished", r.checkpoint_step)
            for r in runs if r.checkpoint_step is not None]


def default_model(choices: list[ModelChoice]) -> str:
    """The key of the best comparable finished model with a figure; the starter otherwise."""
    ranked = [c for c in choices if c.comparable and c.finished and c.ppl is not None]
    return min(ranked, key=lambda c: c.ppl).key if ranked else STARTER  # type: ignore[arg-type]


def all_choices(store: Any | None) -> list[ModelChoice]:
    """The starter, then the runs of ``store`` (None: no usable store)."""
    return [starter_choice(), *(run_choices(store.list_runs()) if store is not None else [])]
