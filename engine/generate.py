"""Compose poems with a trained model: checkpoint -> engine -> :class:`Poet` -> poems.

A poem is decoded one token at a time from the engine's ``step_logits`` with the masks of
:mod:`engine.poem_forms` and the sampler of :mod:`engine.decode`. Best-of-N samples N
candidates of every poem in one batched decode (rows of one state, each with its own generator
and constraint) and keeps the one of highest mean log-probability per character under the
model's own distribution (temperature 1, no mask)::

    score = (1 / n) sum_{t=1..n} log p(c_t | <bos> c_<t)       over the n printed characters

so an acrostic head or a forced punctuation mark counts like any other character.

A 意境 prefix is fed through the model as if it were the poem before this one
(``<bos> prefix 。 <eos> <bos>``, the way poems follow each other in the training stream), so
it sets the state but is never printed.

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
    seed: int  # rerun with this seed, n=1 and the same best_of to get this poem again
    candidates: list[dict[str, Any]] | None = None  # per printed character, when asked
    score: float = 0.0  # mean log-probability per character under the model (nats)
    best_of: int = 1  # candidates sampled; this one scored best

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"text": self.text, "lines": self.lines, "seed": self.seed,
                               "score": round(self.score, 4), "best_of": self.best_of}
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
                 candidates: int = 0, best_of: int = 1) -> list[GeneratedPoem]:
        """``n`` poems; poem i uses ``seed + i`` (a random seed when None), and is the best of
        ``best_of`` candidates: candidate j draws from ``default_rng(seed + i)`` for j = 0,
        else from ``default_rng([seed + i, j])``."""
        if n < 1:
            raise DecodeError(f"the number of poems must be at least 1, got {n}")
        if not 1 <= best_of <= MAX_BEST_OF:
            raise DecodeError(f"best-of must be between 1 and {MAX_BEST_OF}, got {best_of}")
        if seed is not None and seed < 0:
            raise DecodeError(f"the seed must be >= 0, got {seed}")
        if candidates < 0:
            raise DecodeError(f"candidates must be >= 0, got {candidates}")
        plan = self.plan(req)
        feed = self._prefix_feed(self.to_model_text(req.prefix, "prefix"))
        seed = secrets.randbits(32) if seed is None else int(seed)
        rngs = [np.random.default_rng(seed + i if j == 0 else [seed + i, j])
                for i in range(n) for j in range(best_of)]
        rows = self._decode(plan, req.sampling, feed, rngs, candidates)
        poems = []
        for i in range(n):
            best = max(rows[i * best_of:(i + 1) * best_of], key=lambda r: r.score)
            text = "".join(self.itos[t] for t in best.tokens)
            poems.append(GeneratedPoem(text, split_lines(text), seed + i, best.cands,
                                       best.score, best_of))
        return poems

    def _prefix_feed(self, prefix: str) -> list[int]:
        """Tokens fed before the poem: ``<bos>``, or ``<bos> prefix 。 <eos> <bos>``."""
        stoi = self.masks.stoi
        prefix = prefix.rstrip("，；：、")  # the prefix reads as a whole poem: end it with 。
        if not prefix:
            return [BOS]
        close = [stoi["。"]] if prefix[-1] not in SENTENCE_ENDS and "。" in stoi else []
        return [BOS, *(stoi[c] for c in prefix), *close, EOS, BOS]

    def _decode(self, plan: Plan, s: Sampling, feed: list[int], rngs: list[np.random.Generator],
                k: int) -> list[_Row]:
        """Decode one row per generator in lockstep; a finished row leaves the batch."""
        state = self.engine.initial_state(1)
        for tok in feed:  # the prefix is the same for every row: fed once
            logits, state = self.engine.step_logits(np.array([tok], dtype=np.int64), state)
        R = len(rngs)
        logits = np.repeat(logits, R, axis=0)  # (R, V)
        state = _rows_of(state, lambda a: np.repeat(a, R, axis=0))
        rows = [_Row(plan.constraint(), rng, [] if k else None) for rng in rngs]
        live = [r for r in rows if r.next_allowed()]
        hanzi = self.masks.hanzi
        while live:
            lse = _logsumexp(logits)  # (R_live,) for the scores
            toks = []
            for i, r in enumerate(live):
                penalised = np.array(r.seen, dtype=np.int64) if s.repetition_penalty != 1 \
                    else None
                tok = r.forced if r.forced is not None else \
                    sample_next(logits[i], r.rng, s, r.mask, penalised)
                toks.append(tok)
                if tok == EOS:
                    continue
                if r.cands is not None:
                    allowed = r.mask if r.forced is None else self.masks.text
                    r.cands.append(self._candidate_row(logits[i], s, k, tok, r.forced is not None,
                                                       allowed, penalised))
                r.logp += float(logits[i, tok] - lse[i])
                r.c.push(tok)
                r.tokens.append(tok)
                if hanzi[tok]:
                    r.seen.append(tok)
            # a row goes on while it has not ended and more than <eos> may follow
            keep = [i for i, (r, t) in enumerate(zip(live, toks, strict=True))
                    if t != EOS and r.next_allowed()]
            if not keep:
                break
            idx = np.array(keep)
            live = [live[i] for i in keep]
            state = _rows_of(state, lambda a, idx=idx: a[idx])
            logits, state = self.engine.step_logits(np.array([toks[i] for i in keep],
                                                             dtype=np.int64), state)
        return rows

    def _candidate_row(self, logits: np.ndarray, s: Sampling, k: int, tok: int, forced: bool,
                       allowed: np.ndarray, penalised: np.ndarray | None) -> dict[str, Any]:
        """Top-k of the distribution ``tok`` came from; for a forced token (start word, head,
        strict punctuation) ``allowed`` is every text token: the model's own choice."""
        p = distribution(logits, s, allowed, penalised)
        return {"char": self.itos[tok], "prob": round(float(p[tok]), 6), "forced": forced,
                "rank": int(np.count_nonzero(p > p[tok])) + 1,  # 1 = the likeliest
                "top": [{"char": self.itos[i], "prob": round(q, 6)}
                        for i, q in top_candidates(p, k)]}


MAX_BEST_OF = 64


@dataclass
class _Row:
    """One candidate being decoded: its constraint, generator and what it has written."""

    c: Any  # the plan's Constraint
    rng: np.random.Generator
    cands: list[dict[str, Any]] | None
    tokens: list[int] = field(default_factory=list)
    seen: list[int] = field(default_factory=list)  # characters, for the repetition penalty
    logp: float = 0.0  # sum of log p(token) under the model
    mask: np.ndarray | None = None
    forced: int | None = None

    def next_allowed(self) -> bool:
        """Ask the constraint what may come next; False when only <eos> may."""
        self.mask, self.forced = self.c.allowed()
        return self.forced != EOS

    @property
    def score(self) -> float:
        return self.logp / max(1, len(self.tokens))


def _rows_of(state: Any, pick: Any) -> Any:
    """Apply ``pick`` to every (B, ...) array of an engine state (nested lists and tuples)."""
    if isinstance(state, np.ndarray):
        return pick(state)
    return type(state)(_rows_of(part, pick) for part in state)


def _logsumexp(z: np.ndarray) -> np.ndarray:
    """log sum_j exp(z_j) per row of z (R, V)."""
    m = z.max(axis=1)
    return m + np.log(np.exp(z - m[:, None]).sum(axis=1))


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
    try:
        eng = create_engine(config, len(itos), weights=ckpt.tensors)
    except ValueError as exc:  # a shape or name that does not fit the config
        raise CheckpointError(f"checkpoint at {path} does not fit its config: {exc}") from None
    script = meta.get("script") or config.corpus.script
    return Poet(eng, itos, script, source or str(path))
