"""`sluice demo`: a script calls an API through a connection, offline (sluice.demo holds it)."""

from __future__ import annotations

from .common import command_help


def cmd_demo(args) -> int:
    from ..demo import run_demo

    return run_demo(lambda line: print(line, flush=True), keep=args.keep)


def add_parser(sub, name: str = "demo") -> None:
    demo = sub.add_parser(name, help=command_help(name),
                          description="Start a local OAuth provider and API on 127.0.0.1, set "
                                      "up a service and a connection to it in a throwaway store, "
                                      "authorize it, run the example MailChimp scripts through "
                                      "it, and clean up. Needs no network.")
    demo.add_argument("--keep", action="store_true",
                      help="keep the throwaway store and print where it is")
    demo.set_defaults(run=cmd_demo)
