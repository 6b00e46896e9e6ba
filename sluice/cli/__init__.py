"""The `sluice` command line. Exit codes: 0 ok, 1 a script (or check) failed, 2 usage error.

Each command lives in a module of this package (see `common.COMMANDS`); only the parser of the
command being run is built, so `sluice run` does not pay for the others."""

from __future__ import annotations

import os
import sys

from .. import __version__
from .common import COMMANDS, EXIT_FAILED, EXIT_USAGE, UsageError


def build_parser(command: str | None = None):
    """The command line, with the whole parser of `command` (all of them when None) and a
    one-line entry for each of the others, so `sluice --help` still lists every command."""
    import argparse
    import importlib

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
    args = quick_run_args(argv) if command == "run" else None
    if args is None:
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


# `sluice run`'s options: name -> (attribute, kind); kind "flag", "one" (a value), "many"
# (repeatable), or a tuple of the values allowed. `quick_run_args` must agree with
# scripts._run_parser (a test compares them on many command lines).
_RUN_OPTIONS = {"--arg": ("arg", "many"), "--args-json": ("args_json", "one"),
                "--limit": ("limit", "many"), "--timezone": ("timezone", "one"),
                "--json": ("json", "flag"), "--crm": ("crm", ("local", "zoho")),
                "--crm-data": ("crm_data", "one"), "--crm-export": ("crm_export", "one"),
                "--crm-connection": ("crm_connection", "one"),
                "--show-code": ("show_code", "flag"), "--app": ("app", "many")}


def quick_run_args(argv: list[str]):
    """The arguments of a plain `sluice run FILE [options]` without argparse (argparse, with the
    re, gettext, locale and shutil it loads, costs more than the rest of a cached run's start).
    None for anything it does not read exactly as argparse would (help, abbreviations, values
    that start with '-', usage errors): argparse then reads the command line and says what is
    wrong."""
    from types import SimpleNamespace

    values = {attribute: ([] if kind == "many" else False if kind == "flag" else None)
              for attribute, kind in _RUN_OPTIONS.values()}
    values["arg"] = values["limit"] = values["app"] = None  # argparse's "append" starts from None
    files = []
    items = argv[1:]
    i = 0
    while i < len(items):
        item = items[i]
        i += 1
        if not item.startswith("-"):
            files.append(item)
            continue
        name, eq, value = item.partition("=")
        option = _RUN_OPTIONS.get(name)
        if option is None:
            return None
        attribute, kind = option
        if kind == "flag":
            if eq:
                return None
            values[attribute] = True
            continue
        if not eq:
            if i >= len(items) or (items[i].startswith("-") and items[i] != "-"):
                return None
            value = items[i]
            i += 1
        if isinstance(kind, tuple) and value not in kind:
            return None
        if kind == "many":
            values[attribute] = (values[attribute] or []) + [value]
        else:
            values[attribute] = value
    if len(files) != 1 or not files[0]:
        return None
    from .scripts import cmd_run

    return SimpleNamespace(command="run", file=files[0], run=cmd_run, **values)


if __name__ == "__main__":
    sys.exit(main())
