"""``tangtui metre``: check a 绝句 or 律诗 against 平仄 and 平水韵."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tangtui.errors import TangtuiError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "metre", help="check a poem's 平仄 and 平水韵 rhyme",
        description="Mark every character 平, 仄, 中 (either: several readings) or ？ (unknown), "
        "find the standard pattern the poem fits (平起/仄起, first line rhymed or not; 黏 and 对) "
        "and list every violation under the usual tolerance (一三五不论，二四六分明; 孤平 and "
        "三平尾 forbidden; 孤平拗救, 特拗 and 对句相救 accepted), with the 平水韵 group of each "
        "rhyme. Exit status: 0 passes, 1 fails, 2 bad input.")
    p.add_argument("poem", nargs="?",
                   help="the poem text, a file holding it, or - for standard input")
    p.add_argument("--groups", action="store_true", help="list the 30 平水韵 level-tone groups")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    bench = p.add_argument_group("benchmark", "time generation with --metre strict against "
                                 "the same form without it (median per poem, interleaved), "
                                 "and the share of each that passes the checker")
    bench.add_argument("--bench", action="store_true", help="run the benchmark")
    bench.add_argument("--form", choices=("wujue", "qijue", "wulv", "qilv"), default="qijue",
                       help="form to generate (default qijue)")
    bench.add_argument("--n", type=int, default=10, help="poems per round (default 10)")
    bench.add_argument("--rounds", type=int, default=5, help="rounds (default 5)")
    bench.add_argument("--run", metavar="RUN", help="run or checkpoint (default: as generate)")
    p.set_defaults(func=cmd_metre)


def read_poem(arg: str | None) -> str:
    """The text of ``arg``: ``-`` reads stdin, an existing file is read, else it is the poem."""
    if arg is None:
        raise TangtuiError("give a poem: its text, a file, or - for standard input")
    if arg == "-":
        return sys.stdin.read()
    path = Path(arg)
    if len(arg) < 256 and "\n" not in arg and path.is_file():
        try:
            return path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise TangtuiError(f"cannot read {arg}: {exc}") from None
    if not any("\u3400" <= ch <= "\U0003134f" for ch in arg) and ("/" in arg or "." in arg):
        raise TangtuiError(f"no such file: {arg} (give the poem's text, a file, or -)")
    return arg


def cmd_metre(args: argparse.Namespace) -> int:
    from engine.metre.errors import MetreError
    from tangtui.cli import print_json

    if args.bench:
        return _bench(args)
    try:
        if args.groups:
            from engine.metre.phonology import ping_group_names

            names = list(ping_group_names())
            print_json(names) if args.json else print(" ".join(names))
            return 0
        from engine.metre.checker import check
        from engine.metre.render import render_text

        report = check(read_poem(args.poem))
    except MetreError as exc:
        raise TangtuiError(str(exc)) from None
    if args.json:
        print_json(report.to_json())
    else:
        print(render_text(report))
    return 0 if report.passed else 1


def _bench(args: argparse.Namespace) -> int:
    from engine.generate import load_poet
    from engine.metre.bench import bench_metre
    from tangtui.cli import print_json
    from tangtui.runs.checkpoints import find_checkpoint, load_retrying

    if args.n < 1 or args.rounds < 1:
        raise TangtuiError("--n and --rounds must be at least 1")
    poet = load_retrying(lambda: find_checkpoint(args.run),
                         lambda found: load_poet(found[0], engine="numpy", source=found[1]))
    result = {"model": poet.source, **bench_metre(poet, args.form, args.n, args.rounds)}
    if args.json:
        print_json(result)
        return 0
    poems = result["poems_per_round"] * result["rounds"]
    print(f"{result['form']} on {result['model']} (numpy), {poems:,} poems each:\n"
          f"  without metre     {result['plain_ms']:8.1f} ms a poem, "
          f"{result['plain_pass']:6.1%} pass `tangtui metre`\n"
          f"  --metre strict    {result['strict_ms']:8.1f} ms a poem, "
          f"{result['strict_pass']:6.1%} pass\n"
          f"  ratio {result['ratio']} (target <= 2); phonology loaded once in "
          f"{result['data_load_s']} s")
    return 0
