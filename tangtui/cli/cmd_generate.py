"""``tangtui generate``: compose poems with a run's checkpoint or the bundled starter model."""

from __future__ import annotations

import argparse
import sys
from typing import Any

FORM_CHOICES = ("free", "wujue", "qijue", "wulv", "qilv")
# the defaults of engine.decode.Sampling, repeated so that --help does not import numpy
TEMPERATURE, TOP_K, TOP_P, PENALTY = 0.8, 0, 0.95, 1.0


def register(sub: Any) -> None:
    p = sub.add_parser(
        "generate", help="compose poems",
        description="Compose poems with a trained model: the given run (or `starter`, the "
        "bundled model), else the best model available: the lowest per-poem held-out perplexity "
        "among the starter and the finished runs trained on the whole corpus. Strict forms "
        "(wujue 五言绝句, qijue 七言绝句, wulv 五言律诗, qilv 七言律诗) always have the right "
        "number of lines and characters, ，after odd lines and 。after even ones. Traditional "
        "or simplified input is converted to the model's script.")
    p.add_argument("--run", metavar="RUN",
                   help="run id, name or unique id prefix, `starter`, or a checkpoint directory")
    p.add_argument("--start", default="", metavar="TEXT", help="the poem begins with these")
    p.add_argument("--prefix", default="", metavar="TEXT",
                   help="意境: text fed to the model first to set the mood; never printed")
    p.add_argument("--acrostic", default="", metavar="TEXT",
                   help="藏头诗: line i begins with character i")
    p.add_argument("--form", choices=FORM_CHOICES, default="free",
                   help="free (ends when the model ends it, at most 100 characters) or a "
                   "strict form (default free)")
    p.add_argument("--temperature", type=float, default=TEMPERATURE, metavar="T",
                   help=f"below 1 is safer, above 1 wilder; 0 is greedy (default {TEMPERATURE})")
    p.add_argument("--top-k", type=int, default=TOP_K, metavar="K",
                   help="sample among the K most likely characters; 0 = all (default 0)")
    p.add_argument("--top-p", type=float, default=TOP_P, metavar="P",
                   help=f"sample within the smallest set of probability P (default {TOP_P})")
    p.add_argument("--repetition-penalty", type=float, default=PENALTY, metavar="R",
                   help="divide the logits of characters already used by R >= 1 (default 1)")
    p.add_argument("--rhyme", action="store_true",
                   help="even lines of a strict form end in one rhyme (pinyin finals)")
    p.add_argument("--seed", type=int, metavar="S",
                   help="poem i uses seed S+i, so a seed reproduces its poems (default random)")
    p.add_argument("--n", type=int, default=1, metavar="N", help="number of poems (default 1)")
    p.add_argument("--best-of", type=int, default=1, metavar="N",
                   help="sample N candidates of each poem in one batch and keep the one of "
                   "highest mean log-probability per character, which is shown (default 1)")
    p.add_argument("--engine", choices=("numpy", "torch"), default="numpy",
                   help="engine that runs the model; same seed, same poem (default numpy)")
    p.add_argument("--candidates", type=int, default=0, metavar="K",
                   help="also show the K most likely characters at each position")
    p.add_argument("--json", action="store_true",
                   help="print a JSON list of poems: text, lines, seed (and candidates)")
    p.set_defaults(func=cmd_generate)


def cmd_generate(args: argparse.Namespace) -> int:
    from engine.decode import Sampling
    from engine.generate import PoemRequest, load_poet
    from tangtui.cli import print_json
    from tangtui.runs.checkpoints import find_checkpoint, load_retrying

    if args.engine == "torch":
        import torch

        torch.set_num_threads(1)  # one token at a time: more threads only add contention
    poet = load_retrying(lambda: find_checkpoint(args.run),
                         lambda found: load_poet(found[0], engine=args.engine, source=found[1]))
    label = poet.source
    sampling = Sampling(temperature=args.temperature, top_k=args.top_k, top_p=args.top_p,
                        repetition_penalty=args.repetition_penalty)
    req = PoemRequest(form=args.form, start=args.start, prefix=args.prefix,
                      acrostic=args.acrostic, rhyme=args.rhyme, sampling=sampling)
    poems = poet.generate(req, n=args.n, seed=args.seed, candidates=args.candidates,
                          best_of=args.best_of)
    if args.json:
        print_json([p.to_json() for p in poems])
        return 0
    for i, poem in enumerate(poems):
        if i:
            print()
        best = f" · best of {poem.best_of}" if poem.best_of > 1 else ""
        print(f"# {label} · {args.engine} · seed {poem.seed}{best} · mean log p "
              f"{poem.score:.2f}/char", file=sys.stderr)
        print("\n".join(poem.lines))
        for row in poem.candidates or []:
            top = "  ".join(f"{c['char']} {c['prob']:6.1%}" for c in row["top"])
            print(f"  {row['char']}{'*' if row['forced'] else ' '} {row['prob']:6.1%} │ {top}")
    return 0
