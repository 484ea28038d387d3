"""The ``tangtui`` command line. With no arguments it opens the Textual app.

Each ``tangtui/cli/cmd_*.py`` module adds its sub-commands through ``register(subparsers)``;
each sub-command's handler takes the parsed args and returns an exit code.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import pkgutil
import sys
from collections.abc import Sequence
from typing import Any, NoReturn

from tangtui import __version__
from tangtui.errors import is_user_error


class Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (the usage itself is one ``--help`` away)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see `{self.prog} --help`)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="tangtui",
        description="Train and play with a character-level LSTM poet on 全唐诗. "
        "Run without arguments to open the app.",
    )
    parser.add_argument("--version", action="version", version=f"tangtui {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if info.name.startswith("cmd_"):
            importlib.import_module(f"{__name__}.{info.name}").register(sub)
    return parser


def print_json(data: Any) -> None:
    """Write ``data`` as JSON to stdout (UTF-8, characters unescaped)."""
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    if not args_list:
        from tangtui.app_main import run_app

        return run_app()
    parser = build_parser()
    args = parser.parse_args(args_list)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("tangtui: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except Exception as exc:  # one line, never a traceback, unless asked for
        if os.environ.get("TANGTUI_DEBUG"):
            raise
        message = " ".join(str(exc).split()) or type(exc).__name__
        if is_user_error(exc):
            print(f"tangtui: error: {message}", file=sys.stderr)
            return 2
        print(f"tangtui: internal error: {type(exc).__name__}: {message} "
              "(set TANGTUI_DEBUG=1 for the traceback)", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
