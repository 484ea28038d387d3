"""``tangtui corpus stats|search|show``: the bundled 全唐诗, from the command line."""

from __future__ import annotations

import argparse

from tangtui.errors import TangtuiError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("corpus", help="statistics, search and poems of the bundled corpus")
    csub = p.add_subparsers(dest="corpus_command", metavar="ACTION", required=True)

    stats = csub.add_parser("stats", help="counts, forms, lengths and top characters")
    _script(stats)
    stats.add_argument("--json", action="store_true", help="print JSON")
    stats.add_argument("--no-metre", action="store_true",
                       help="skip the 平仄 pass counts (a few seconds the first time)")
    stats.set_defaults(func=cmd_stats)

    search = csub.add_parser("search", help="find poems by title, author or text (either script)")
    search.add_argument("query", nargs="?", default="",
                        help="text to find (may be empty with --author)")
    search.add_argument("--author", help="only poems by this author")
    search.add_argument("--form", help="wujue, qijue, wulv, qilv or other (or 五言绝句 ...)")
    search.add_argument("--limit", type=int, default=20, help="at most this many hits (20)")
    _script(search)
    search.add_argument("--json", action="store_true", help="print JSON")
    search.set_defaults(func=cmd_search)

    show = csub.add_parser("show", help="one poem with its author's bio")
    show.add_argument("id", help="poem id (or a unique prefix of 6+ characters)")
    _script(show)
    show.add_argument("--json", action="store_true", help="print JSON")
    show.set_defaults(func=cmd_show)


def _script(p: argparse.ArgumentParser) -> None:
    p.add_argument("--script", choices=["simplified", "traditional"], default="simplified",
                   help="characters to show (default simplified)")


def _corpus(args: argparse.Namespace):  # noqa: ANN202
    from engine.corpus import load_corpus

    return load_corpus(args.script)


def cmd_stats(args: argparse.Namespace) -> int:
    from tangtui.cli import print_json

    stats = _corpus(args).stats()
    if not args.no_metre:
        from engine.metre.corpus_stats import corpus_metre_counts

        stats["metre"] = corpus_metre_counts()
    if args.json:
        print_json(stats)
        return 0
    from engine.corpus import FORM_NAMES

    print(f"全唐诗 ({stats['script']}): {stats['poems']:,} poems by {stats['authors']:,} authors, "
          f"{stats['characters']:,} characters, vocabulary {stats['vocab_size']:,}")
    print("forms:  " + "  ".join(f"{FORM_NAMES[k]} {n:,}" for k, n in stats["forms"].items()))
    if "metre" in stats:
        print("pass 平仄 and 平水韵 (`tangtui metre`):  " + "  ".join(
            f"{FORM_NAMES[k]} {m['pass']:,}/{m['poems']:,} ({m['share']:.0%})"
            for k, m in stats["metre"].items()))
    print("cleaning: " + ", ".join(f"{k} {v:,}" for k, v in stats["cleaning"].items()))
    print("top characters: " + " ".join(f"{c}{n}" for c, n in stats["top_characters"][:15]))
    return 0


def cmd_search(args: argparse.Namespace) -> int:
    from tangtui.cli import print_json

    hits = _corpus(args).search(args.query, author=args.author, form=args.form, limit=args.limit)
    if args.json:
        print_json([h.to_dict() for h in hits])
        return 0
    if not hits:
        print("no poems found")
        return 1
    for h in hits:
        print(f"{h.id[:8]}  {h.title} · {h.author}  {h.text[:40]}{'…' if len(h.text) > 40 else ''}")
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    from tangtui.cli import print_json

    corpus = _corpus(args)
    if not args.id.strip():
        raise TangtuiError("empty poem id")
    poem = corpus.by_id(args.id.strip())
    bio = corpus.authors.get(poem.author, "")
    if args.json:
        print_json({**poem.to_dict(), "author_bio": bio})
        return 0
    print(f"{poem.title}\n{poem.author}\n")
    print("\n".join(poem.lines))
    if bio:
        print(f"\n{bio}")
    print(f"\nid {poem.id} · {poem.form}")
    return 0
