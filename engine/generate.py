"""Compose poems with a trained model: checkpoint -> engine -> :class:`Poet` -> poems.

A poem is decoded one token at a time from the engine's ``step_logits`` with the masks of
:mod:`engine.poem_forms` and the sampler of :mod:`engine.decode`. A 意境 prefix is fed through
the model as if it were the poem before this one (``<bos> prefix 。 <eos> <bos>``, the way
poems follow each other in the training stream), so it sets the state but is never printed.

User text (start words, acrostic, prefix) is converted to the model's script with OpenCC,
half-width punctuation becomes full-width, and a character still outside the vocabulary is a
:class:`DecodeError` that names it.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from engine.base import Engine, create_engine
from engine.checkpoint import CheckpointError, load_checkpoint
from engine.config import RunConfig
from engine.corpus.batching import BOS, EOS
from engine.decode import DecodeError, Sampling, distribution, sample_next, top_candidates
from engine.poem_forms import LINE_ENDS, SENTENCE_ENDS, Plan, VocabMasks, make_plan

HALF_WIDTH = str.maketrans(",.?!;:", "，。？！；：")


def starter_dir() -> Path:
    """The bundled starter model: installed in the wheel, else in the source tree's data/."""
    here = Path(__file__).resolve().parent
    places = [here / "_data" / "starter", here.parent / "data" / "starter"]
    for place in places:
        if (place / "model.safetensors").is_file() and (place / "meta.json").is_file():
            return place
    raise CheckpointError("the bundled starter model is missing (looked in "
                          f"{', '.join(str(p) for p in places)}); train a model with "
                          "`tangtui train` and pass --run")


@dataclass
class GeneratedPoem:
    text: str  # the whole poem, punctuation included, prefix excluded
    lines: list[str]  # the text cut after each ，。？！；
    seed: int  # rerun with this seed and n=1 to get this poem again
    candidates: list[dict[str, Any]] | None = None  # per printed character, when asked

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"text": self.text, "lines": self.lines, "seed": self.seed}
        if self.candidates is not None:
            out["candidates"] = self.candidates
        return out


@dataclass
class PoemRequest:
    form: str = "free"  # free | wujue | qijue | wulv | qilv
    start: str = ""  # the poem begins with these characters
    prefix: str = ""  # 意境: fed through the model first, never printed
    acrostic: str = ""  # 藏头: one character at the head of each line
    rhyme: bool = False  # even lines of a strict form end in one rhyme class
    max_chars: int = 100  # hard cap of a free poem, punctuation included
    metre: str = "off"  # off | loose (二四六 and the rhyme) | strict (the whole 平仄 pattern)
    pattern: str = "auto"  # auto | pingqi 平起 | zeqi 仄起 (with metre)
    rhyme_group: str = ""  # a 平水韵 level-tone group such as 下平七阳; "" = the first rhyme's
    rhyme_scheme: str = "pingshui"  # pingshui (平水韵) | modern (pinyin finals, tone ignored)
    sampling: Sampling = field(default_factory=Sampling)


def split_lines(text: str) -> list[str]:
    """Cut a poem after each line-ending mark: "床前明月光，疑是地上霜。" -> 2 lines."""
    lines, cur = [], ""
    for ch in text:
        cur += ch
        if ch in LINE_ENDS:
            lines.append(cur)
            cur = ""
    return lines + [cur] if cur else lines


class Poet:
    """An engine with its vocabulary, ready to compose; cheap to call many times, and safe
    to call from a worker thread (all decoding state is local to one call)."""

    def __init__(self, engine: Engine, itos: list[str], script: str = "simplified",
                 source: str = "") -> None:
        if len(itos) != engine.vocab_size:
            raise CheckpointError(f"vocabulary of {len(itos)} entries for a model of "
                                  f"{engine.vocab_size}")
        self.engine, self.itos, self.script, self.source = engine, itos, script, source
        self.masks = VocabMasks(itos)

    # -- input ------------------------------------------------------------------------------

    def to_model_text(self, text: str, what: str) -> str:
        """``text`` without spaces, full-width punctuation, in the model's script."""
        from engine.corpus.script import to_script

        text = "".join(text.split()).translate(HALF_WIDTH)
        if not text:
            return ""
        stoi = self.masks.stoi
        conv = to_script(text, self.script)
        origs = text if len(conv) == len(text) else conv  # OpenCC keeps lengths, nearly always
        pairs = zip(origs, conv, strict=True)
        out = []
        for orig, ch in pairs:
            if ch in stoi or orig in stoi:
                out.append(ch if ch in stoi else orig)
                continue
            also = f" (nor its {self.script} form {ch!r})" if ch != orig else ""
            raise DecodeError(f"{orig!r} in the {what} is not in the model's vocabulary{also}; "
                              "choose another character")
        return "".join(out)

    def plan(self, req: PoemRequest) -> Plan:
        """Validate ``req`` (script conversion included); :class:`DecodeError` if impossible."""
        req.sampling.check()
        modern = req.rhyme and req.rhyme_scheme == "modern"
        plan = make_plan(self.masks, req.form, self.to_model_text(req.start, "start words"),
                         self.to_model_text(req.acrostic, "acrostic"), modern, req.max_chars)
        if req.metre == "off" and not req.rhyme and not req.rhyme_group and req.pattern == "auto":
            return plan  # nothing of the metre: its data is never loaded
        from engine.metre.request import with_metre

        return with_metre(plan, req.metre, req.pattern, req.rhyme, req.rhyme_group,
                          req.rhyme_scheme)

    # -- decoding ---------------------------------------------------------------------------

    def generate(self, req: PoemRequest, n: int = 1, seed: int | None = None,
                 candidates: int = 0) -> list[GeneratedPoem]:
        """``n`` poems; poem i uses ``seed + i`` (a random seed when None)."""
        if n < 1:
            raise DecodeError(f"the number of poems must be at least 1, got {n}")
        if seed is not None and seed < 0:
            raise DecodeError(f"the seed must be >= 0, got {seed}")
        if candidates < 0:
            raise DecodeError(f"candidates must be >= 0, got {candidates}")
        plan = self.plan(req)
        feed = self._prefix_feed(self.to_model_text(req.prefix, "prefix"))
        seed = secrets.randbits(32) if seed is None else int(seed)
        return [self._one(plan, req.sampling, feed, seed + i, candidates) for i in range(n)]

    def _prefix_feed(self, prefix: str) -> list[int]:
        """Tokens fed before the poem: ``<bos>``, or ``<bos> prefix 。 <eos> <bos>``."""
        stoi = self.masks.stoi
        prefix = prefix.rstrip("，；：、")  # the prefix reads as a whole poem: end it with 。
        if not prefix:
            return [BOS]
        close = [stoi["。"]] if prefix[-1] not in SENTENCE_ENDS and "。" in stoi else []
        return [BOS, *(stoi[c] for c in prefix), *close, EOS, BOS]

    def _step(self, tok: int, state: Any) -> tuple[np.ndarray, Any]:
        logits, state = self.engine.step_logits(np.array([tok], dtype=np.int64), state)
        return logits[0], state  # (V,)

    def _one(self, plan: Plan, s: Sampling, feed: list[int], seed: int,
             k: int) -> GeneratedPoem:
        rng = np.random.default_rng(seed)
        c = plan.constraint()
        state = self.engine.initial_state(1)
        for tok in feed:
            logits, state = self._step(tok, state)
        hanzi = self.masks.hanzi
        out: list[int] = []
        seen: list[int] = []  # characters written so far, for the repetition penalty
        cands: list[dict[str, Any]] | None = [] if k else None
        mask, forced = c.allowed()
        while forced != EOS:
            penalised = np.array(seen, dtype=np.int64) if s.repetition_penalty != 1 else None
            tok = forced if forced is not None else sample_next(logits, rng, s, mask, penalised)
            if tok == EOS:
                break
            if cands is not None:
                allowed = mask if forced is None else self.masks.text
                cands.append(self._candidate_row(logits, s, k, tok, forced is not None,
                                                 allowed, penalised))
            c.push(tok)
            out.append(tok)
            if hanzi[tok]:
                seen.append(tok)
            mask, forced = c.allowed()
            if forced != EOS:  # the last step's logits would only say <eos>: skip it
                logits, state = self._step(tok, state)
        text = "".join(self.itos[t] for t in out)
        return GeneratedPoem(text, split_lines(text), seed, cands)

    def _candidate_row(self, logits: np.ndarray, s: Sampling, k: int, tok: int, forced: bool,
                       allowed: np.ndarray, penalised: np.ndarray | None) -> dict[str, Any]:
        """Top-k of the distribution ``tok`` came from; for a forced token (start word, head,
        strict punctuation) ``allowed`` is every text token: the model's own choice."""
        p = distribution(logits, s, allowed, penalised)
        return {"char": self.itos[tok], "prob": round(float(p[tok]), 6), "forced": forced,
                "top": [{"char": self.itos[i], "prob": round(q, 6)}
                        for i, q in top_candidates(p, k)]}


def load_poet(path: str | os.PathLike[str], engine: str | None = None,
              source: str = "") -> Poet:
    """Load a checkpoint directory into ``engine`` ("numpy" or "torch"; default: the one
    that trained it). Weights of either engine run in either engine."""
    ckpt = load_checkpoint(path, optimizer=False)
    meta = ckpt.meta
    itos = meta.get("vocab")
    if not isinstance(itos, list) or len(itos) < 5:
        raise CheckpointError(f"checkpoint at {path} has no vocabulary in meta.json")
    config = RunConfig.from_dict(meta.get("config", {}))
    config.engine = engine or meta.get("engine") or config.engine
    eng = create_engine(config, len(itos))
    try:
        eng.load_state_dict(ckpt.tensors)
    except ValueError as exc:  # a shape or name that does not fit the config
        raise CheckpointError(f"checkpoint at {path} does not fit its config: {exc}") from None
    script = meta.get("script") or config.corpus.script
    return Poet(eng, itos, script, source or str(path))
