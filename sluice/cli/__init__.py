"""The `sluice` command line. Exit codes: 0 ok, 1 a script (or check) failed, 2 usage error.

Each command lives in a module of this package (see `common.COMMANDS`); only the parser of the
command being run is built, so `sluice run` does not pay for the others."""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from .. import __version__
from .common import COMMANDS, EXIT_FAILED, EXIT_USAGE, UsageError


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The command line, with the whole parser of `command` (all of them when None) and a
    one-line entry for each of the others, so `sluice --help` still lists every command."""
    parser = argparse.ArgumentParser(
        prog="sluice",
        description="Run Deluge-style scripts anywhere, with named connections to "
                    "third-party services.",
    )
    parser.add_argument("--version", action="version", version=f"sluice {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (module, help_text) in COMMANDS.items():
        if command is None or name == command:
            importlib.import_module(f"{__name__}.{module}").add_parser(sub, name)
        else:
            sub.add_parser(name, help=help_text)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    command = argv[0] if argv and argv[0] in COMMANDS else None
    parser = build_parser(command or "")  # "": no command, or an unknown one: list them all
    try:
        args = parser.parse_args(argv)
    except SystemExit as e:  # argparse exits 2 on usage errors, 0 on --help
        return int(e.code or 0)
    if not getattr(args, "run", None):
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    try:
        return args.run(args)
    except UsageError as e:
        command = " ".join(filter(None, (args.command, getattr(args, "action", None))))
        print(f"sluice {command}: {e}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return EXIT_FAILED
    except Exception as e:  # a bug of ours: say so plainly; SLUICE_DEBUG=1 shows the traceback
        if os.environ.get("SLUICE_DEBUG"):
            raise
        print(f"sluice {args.command}: internal error ({type(e).__name__}); this is a bug in "
              "Sluice: run again with SLUICE_DEBUG=1 to see where, and report it",
              file=sys.stderr)
        return EXIT_FAILED


if __name__ == "__main__":
    sys.exit(main())
