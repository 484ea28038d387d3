"""The metre options of ``tangtui generate`` (kept here so cmd_generate stays small)."""

from __future__ import annotations

import argparse
from typing import Any


def add_metre_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--metre", choices=("off", "loose", "strict"), default="off",
                   help="平仄 of a strict form: loose fixes the 2nd, 4th, 6th characters and "
                   "the line ends; strict the whole pattern, never 孤平 or 三平尾 (every strict "
                   "poem passes `tangtui metre`); implies --rhyme (default off)")
    p.add_argument("--pattern", choices=("auto", "pingqi", "zeqi"), default="auto",
                   help="with --metre: 平起 or 仄起, or auto (whichever the model's first "
                   "characters and the start words fit)")
    p.add_argument("--rhyme-group", default="", metavar="GROUP",
                   help="the 平水韵 level-tone group to rhyme in, e.g. 下平七阳 (`tangtui metre "
                   "--groups` lists them; default: the group of the first rhyme sampled)")
    p.add_argument("--rhyme-scheme", choices=("pingshui", "modern"), default="pingshui",
                   help="pingshui: 平水韵 groups, as the Tang poets heard them; modern: pinyin "
                   "finals, tone ignored, without --metre only (default pingshui)")


def metre_request_fields(args: argparse.Namespace) -> dict[str, Any]:
    """The engine.generate.PoemRequest fields of the metre options."""
    return {"metre": args.metre, "pattern": args.pattern, "rhyme_group": args.rhyme_group,
            "rhyme_scheme": args.rhyme_scheme}
