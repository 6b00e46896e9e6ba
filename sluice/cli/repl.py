"""`sluice repl`: the interactive prompt (sluice.repl holds it)."""

from __future__ import annotations

from .common import UsageError, command_help
from .scripts import script_app, services_for_run


def cmd_repl(args) -> int:
    import runtime

    from ..repl.session import Session
    from ..repl.terminal import _link_names_from_store, interact

    try:
        limits = runtime.Limits.parse(args.limit or [])
    except ValueError as e:
        raise UsageError(str(e)) from None
    session = Session(services=services_for_run(args.timezone), limits=limits,
                      connections=_link_names_from_store)
    if args.app:
        session.app = script_app(None, args.app)
    return interact(session)


def add_parser(sub, name: str = "repl") -> None:
    repl = sub.add_parser(name, help=command_help(name),
                          description="An interactive prompt: statements run as you enter them, "
                                      "expressions show their value, variables and functions "
                                      "stay. Tab completes; :help lists the commands. With no "
                                      "terminal, entries are read from standard input.")
    repl.add_argument("--limit", action="append", metavar="NAME=VALUE",
                      help="a limit for each entry, as for run")
    repl.add_argument("--timezone", metavar="ZONE", help="the time zone of dates")
    repl.add_argument("--app", action="append", metavar="DIR",
                      help="entries may call the functions of the app in DIR (as :app DIR)")
    repl.set_defaults(run=cmd_repl)
