"""The ``aqdrant`` command: ``aqdrant --help``, ``aqdrant --version``, ``aqdrant serve ...``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from . import __version__


def _serve(argv: list[str]) -> int:
    from ._extras import MissingExtraError

    try:
        from .server import main as serve
    except MissingExtraError as e:
        print(f"aqdrant serve: {e}", file=sys.stderr)
        return 1
    return serve(argv) or 0


#: subcommand -> (one line for --help, runner taking the rest of the command line)
COMMANDS: dict[str, tuple[str, Callable[[list[str]], int]]] = {
    "serve": ("run the Qdrant-compatible dev server (REST + gRPC, embedded engine)", _serve),
}


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="aqdrant",
        description="aqdrant: an async-first client for the Qdrant vector database.",
        epilog="'aqdrant COMMAND --help' describes a command's options.",
        # one line per command whatever the terminal's width
        formatter_class=lambda prog: argparse.HelpFormatter(prog, max_help_position=16, width=120),
    )
    p.add_argument("--version", action="version", version=f"aqdrant {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", title="commands")
    for name, (summary, _) in COMMANDS.items():
        # the command parses its own options (``aqdrant serve --help`` lists them)
        sub.add_parser(name, help=summary, add_help=False)
    return p


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in COMMANDS:
        return COMMANDS[argv[0]][1](argv[1:])
    parser = _parser()
    args = parser.parse_args(argv)  # --help / --version exit here; an unknown command is an error (2)
    assert args.command is None
    parser.print_help(sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
