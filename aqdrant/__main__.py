"""``aqdrant`` command line: ``aqdrant serve`` starts the Qdrant-compatible dev server."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "serve":
        from .server import main as serve

        return serve(argv[1:]) or 0
    print("usage: aqdrant serve [--path DIR] [--host HOST] [--port PORT] [--api-key KEY]", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
